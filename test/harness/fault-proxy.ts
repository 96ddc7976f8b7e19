import net from 'node:net'

/**
 * A loopback TCP proxy between a client and a broker that misbehaves on command: it drops every
 * connection, stalls (holds bytes without closing), delays, or cuts writes into 1-byte pieces,
 * and it can drop connections at random intervals from a seed, so a failing run can be replayed.
 * It works below WebSocket, so the client's own framing and reconnect logic meet real faults.
 */
export interface FaultProxy {
  url: string
  port: number
  /** Connections accepted since start, and when each was accepted (ms, performance.now()). */
  readonly accepted: number
  readonly acceptTimes: readonly number[]
  /** Connections open now. */
  readonly open: number
  /** Destroys every open connection, both sides, with no WebSocket or MQTT goodbye. */
  dropAll(): void
  /** While stalled, bytes are held in both directions and the sockets stay open. */
  stall(on: boolean): void
  /** Adds this many ms before each chunk is forwarded. */
  delay(ms: number): void
  /** Forwards every write one byte at a time. */
  fragment(on: boolean): void
  /** Refuses new connections (accepts and closes them at once). */
  refuse(on: boolean): void
  /** Drops all connections at random intervals around `meanMs`, from `seed`; returns a stop function. */
  chaos(options: { seed: number; meanMs: number }): () => number
  close(): Promise<void>
}

interface Pair {
  client: net.Socket
  broker: net.Socket
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1'
  const pairs = new Set<Pair>()
  const acceptTimes: number[] = []
  let stalled = false
  let delayMs = 0
  let oneByte = false
  let refusing = false
  const held: Array<() => void> = []

  const forward = (to: net.Socket, chunk: Buffer) => {
    const send = () => {
      if (to.destroyed) return
      if (!oneByte) return void to.write(chunk)
      for (let i = 0; i < chunk.length; i++) to.write(chunk.subarray(i, i + 1))
    }
    const go = () => (delayMs > 0 ? setTimeout(send, delayMs) : send())
    if (stalled) held.push(go)
    else go()
  }

  const server = net.createServer((client) => {
    acceptTimes.push(performance.now())
    if (refusing) return void client.destroy()
    const broker = net.connect({ host, port: target.port })
    const pair = { client, broker }
    pairs.add(pair)
    const teardown = () => {
      pairs.delete(pair)
      client.destroy()
      broker.destroy()
    }
    client.on('data', (chunk: Buffer) => forward(broker, chunk))
    broker.on('data', (chunk: Buffer) => forward(client, chunk))
    for (const socket of [client, broker]) {
      socket.setNoDelay(true)
      socket.on('error', teardown)
      socket.on('close', teardown)
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port

  const dropAll = () => {
    for (const pair of [...pairs]) {
      pair.client.destroy()
      pair.broker.destroy()
      pairs.delete(pair)
    }
  }

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get accepted() {
      return acceptTimes.length
    },
    acceptTimes,
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
      let drops = 0
      let timer: ReturnType<typeof setTimeout> | undefined
      const next = () => {
        // Uniform between half and one and a half times the mean: irregular, never a burst.
        timer = setTimeout(() => {
          drops++
          dropAll()
          next()
        }, meanMs * (0.5 + random()))
      }
      next()
      return () => {
        clearTimeout(timer)
        return drops
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
