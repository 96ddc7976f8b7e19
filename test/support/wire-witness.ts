import { type Packet, parser as createParser } from 'mqtt-packet'

/**
 * An independent record of the MQTT packets a fault proxy forwarded, decoded from the bytes it
 * wrote on: HTTP upgrade skipped, WebSocket frames taken apart here, MQTT 3.1.1 packets read by
 * mqtt-packet. None of the client's code takes part (only the packet parser beneath it is shared),
 * so a test can hold the client's own events against what the wire shows.
 */

export type Direction = 'toClient' | 'toBroker'

export interface WireEntry {
  /** The proxied connection, numbered from 0 in the order the proxy accepted them. */
  conn: number
  dir: Direction
  packet: Packet
}

export interface WireConnection {
  conn: number
  /** The proxy destroyed it (dropAll or chaos), as opposed to either end closing it. */
  cut: boolean
  /** Both sockets are gone. */
  closed: boolean
}

export class WireWitness {
  /** Every packet, in the order the proxy wrote its last byte on. */
  readonly log: WireEntry[] = []
  readonly connections = new Map<number, WireConnection>()
  /** Bytes the decoder could not read: a non-empty list means the log is not to be trusted. */
  readonly errors: string[] = []

  /** @param protocolVersion the MQTT version spoken on the connections it sees */
  constructor(private readonly protocolVersion: 4 | 5 = 4) {}

  /** Starts recording a connection; returns what to call with each chunk written, per direction. */
  open(conn: number): Record<Direction, (bytes: Buffer) => void> {
    this.connections.set(conn, { conn, cut: false, closed: false })
    const record = (dir: Direction) => {
      const decoder = new MqttOverWebSocketDecoder((packet) => this.log.push({ conn, dir, packet }), this.protocolVersion)
      return (bytes: Buffer) => {
        try {
          decoder.push(bytes)
        } catch (err) {
          this.errors.push(`connection ${conn} ${dir}: ${(err as Error).message}`)
          decoder.stop()
        }
      }
    }
    return { toClient: record('toClient'), toBroker: record('toBroker') }
  }

  cut(conn: number): void {
    const c = this.connections.get(conn)
    if (c && !c.closed) c.cut = true
  }

  closed(conn: number): void {
    const c = this.connections.get(conn)
    if (c) c.closed = true
  }
}

const HEAD_END = Buffer.from('\r\n\r\n')

/**
 * One direction of one connection: the HTTP upgrade head, then WebSocket frames whose data
 * payloads, joined, are the MQTT byte stream (MQTT §6: a frame may hold several packets or part
 * of one, so frame edges mean nothing to MQTT).
 */
export class MqttOverWebSocketDecoder {
  private inHead = true
  private pending: Buffer = Buffer.alloc(0)
  private stopped = false
  private readonly parser: ReturnType<typeof createParser>

  constructor(onPacket: (packet: Packet) => void, protocolVersion: 4 | 5 = 4) {
    this.parser = createParser({ protocolVersion })
    this.parser.on('packet', onPacket)
    this.parser.on('error', (err: Error) => {
      throw err
    })
  }

  push(bytes: Buffer): void {
    if (this.stopped) return
    this.pending = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes])
    if (this.inHead && !this.skipHead()) return
    this.readFrames()
  }

  stop(): void {
    this.stopped = true
    this.pending = Buffer.alloc(0)
  }

  /** True once the upgrade head has been passed over. */
  private skipHead(): boolean {
    const end = this.pending.indexOf(HEAD_END)
    if (end < 0) return false
    this.pending = this.pending.subarray(end + HEAD_END.length)
    this.inHead = false
    return true
  }

  private readFrames(): void {
    for (;;) {
      const frame = readFrame(this.pending)
      if (!frame) return
      this.pending = this.pending.subarray(frame.size)
      if (frame.compressed) throw new Error('compressed WebSocket frame: permessage-deflate is not decoded')
      // Continuation (0), text (1) and binary (2) carry data; close, ping and pong do not.
      if (frame.opcode <= 2 && frame.payload.length > 0) this.parser.parse(frame.payload)
    }
  }
}

interface Frame {
  opcode: number
  compressed: boolean
  payload: Buffer
  /** Header and payload, in bytes. */
  size: number
}

/** The first complete frame in `bytes` (RFC 6455 §5.2), unmasked, or undefined while it is incomplete. */
export function readFrame(bytes: Buffer): Frame | undefined {
  if (bytes.length < 2) return undefined
  const first = bytes[0] as number
  const second = bytes[1] as number
  const masked = (second & 0x80) !== 0
  let length = second & 0x7f
  let offset = 2
  if (length === 126) {
    if (bytes.length < 4) return undefined
    length = bytes.readUInt16BE(2)
    offset = 4
  } else if (length === 127) {
    if (bytes.length < 10) return undefined
    length = Number(bytes.readBigUInt64BE(2))
    offset = 10
  }
  const maskAt = offset
  if (masked) offset += 4
  if (bytes.length < offset + length) return undefined
  // A copy, because unmasking writes, and an unmasked payload may be a view the proxy still holds.
  const payload = Buffer.from(bytes.subarray(offset, offset + length))
  if (masked) unmask(payload, bytes.subarray(maskAt, maskAt + 4))
  return { opcode: first & 0x0f, compressed: (first & 0x40) !== 0, payload, size: offset + length }
}

function unmask(payload: Buffer, key: Buffer): void {
  for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (key[i & 3] as number)
}
