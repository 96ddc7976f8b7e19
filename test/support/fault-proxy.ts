import net from 'node:net'
import { WireWitness } from './wire-witness.js'

/**
 * A loopback TCP proxy between a client and a broker that misbehaves on command: it drops every
 * connection, stalls (holds bytes without closing), delays, or cuts writes into 1-byte pieces,
 * and it can drop connections at random intervals from a seed, so a failing run can be replayed.
 * It works below WebSocket, so the client's own framing and reconnect logic meet real faults.
 * Asked to, it also keeps a decoded log of every packet it forwards (see wire-witness.ts).
 */
export interface FaultProxy {
  url: string
  port: number
  /** Connections accepted since start, and when each was accepted (ms, performance.now()). */
  readonly accepted: number
  readonly acceptTimes: readonly number[]
  /** Connections open now. */
  readonly open: number
  /** Destroys every open connection, both sides, with no WebSocket or MQTT goodbye; returns how many. */
  dropAll(): number
  /** While stalled, bytes are held in both directions and the sockets stay open. */
  stall(on: boolean): void
  /** Adds this many ms before each chunk is forwarded. */
  delay(ms: number): void
  /** Forwards every write one byte at a time. */
  fragment(on: boolean): void
  /** Refuses new connections (accepts and closes them at once). */
  refuse(on: boolean): void
  /**
   * Drops all connections at random intervals around `meanMs`, from `seed`; returns a stop function,
   * which answers how many connections were cut (a firing while none is open cuts nothing).
   */
  chaos(options: { seed: number; meanMs: number }): () => number
  /** With `witness: true`, the packets forwarded each way, decoded; otherwise undefined. */
  readonly witness: WireWitness | undefined
  close(): Promise<void>
}

interface Pair {
  conn: number
  client: net.Socket
  broker: net.Socket
}

type Tap = (bytes: Buffer) => void

export interface FaultProxyTarget {
  host?: string
  port: number
  /** Decode and keep every packet forwarded (see WireWitness); off by default, as it costs. */
  witness?: boolean
  /** The MQTT version the witness reads (default 4). */
  witnessVersion?: 4 | 5
}

export async function startFaultProxy(target: FaultProxyTarget): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1'
  const witness = target.witness ? new WireWitness(target.witnessVersion) : undefined
  const pairs = new Set<Pair>()
  const acceptTimes: number[] = []
  let stalled = false
  let delayMs = 0
  let oneByte = false
  let refusing = false
  const held: Array<() => void> = []

  // The witness sees a chunk only once it is written on, so bytes held by a stall, or lost to a
  // socket destroyed first, are not taken for delivered.
  const forward = (to: net.Socket, chunk: Buffer, tap: Tap | undefined) => {
    const send = () => {
      if (to.destroyed) return
      if (!oneByte) to.write(chunk)
      else for (let i = 0; i < chunk.length; i++) to.write(chunk.subarray(i, i + 1))
      tap?.(chunk)
    }
    const go = () => (delayMs > 0 ? setTimeout(send, delayMs) : send())
    if (stalled) held.push(go)
    else go()
  }

  const server = net.createServer((client) => {
    const conn = acceptTimes.push(performance.now()) - 1
    if (refusing) return void client.destroy()
    const broker = net.connect({ host, port: target.port })
    const pair = { conn, client, broker }
    pairs.add(pair)
    const taps = witness?.open(conn)
    const teardown = () => {
      pairs.delete(pair)
      client.destroy()
      broker.destroy()
      witness?.closed(conn)
    }
    client.on('data', (chunk: Buffer) => forward(broker, chunk, taps?.toBroker))
    broker.on('data', (chunk: Buffer) => forward(client, chunk, taps?.toClient))
    for (const socket of [client, broker]) {
      socket.setNoDelay(true)
      socket.on('error', teardown)
      socket.on('close', teardown)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port

  const dropAll = () => {
    const cut = pairs.size
    for (const pair of [...pairs]) {
      witness?.cut(pair.conn)
      pair.client.destroy()
      pair.broker.destroy()
      pairs.delete(pair)
      witness?.closed(pair.conn)
    }
    return cut
  }

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get accepted() {
      return acceptTimes.length
    },
    acceptTimes,
    witness,
    get open() {
      return pairs.size
    },
    dropAll,
    stall(on) {
      stalled = on
      if (!on) for (const go of held.splice(0)) go()
    },
    delay(ms) {
      delayMs = ms
    },
    fragment(on) {
      oneByte = on
    },
    refuse(on) {
      refusing = on
    },
    chaos({ seed, meanMs }) {
      const random = mulberry32(seed)
      let cut = 0
      let timer: ReturnType<typeof setTimeout> | undefined
      const next = () => {
        // Uniform between half and one and a half times the mean: irregular, never a burst.
        timer = setTimeout(() => {
          cut += dropAll()
          next()
        }, meanMs * (0.5 + random()))
      }
      next()
      return () => {
        clearTimeout(timer)
        return cut
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        held.length = 0
        dropAll()
        server.close(() => resolve())
      }),
  }
}

/** A small seeded PRNG, so a chaos run can be repeated exactly. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
