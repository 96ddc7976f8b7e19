import { generate, type Packet as WirePacket, parser } from 'mqtt-packet'
import type { Packet } from '../../../src/codec/packets.js'
import type { WebSocketLike } from '../../../src/transport/websocket.js'

/**
 * A WebSocket that goes nowhere: the test opens it, feeds it packets as the broker would, drops
 * it, and reads back the packets the client wrote (decoded by mqtt-packet, not by our codec).
 */
export class FakeSocket implements WebSocketLike {
  static readonly all: FakeSocket[] = []
  binaryType = 'blob'
  readyState = 0
  readonly written: WirePacket[] = []
  closedByClient = false
  onopen: ((event: never) => unknown) | null = null
  onmessage: ((event: never) => unknown) | null = null
  onerror: ((event: never) => unknown) | null = null
  onclose: ((event: never) => unknown) | null = null
  private readonly reader = parser({ protocolVersion: 4 })

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.all.push(this)
    this.reader.on('packet', (p: WirePacket) => this.written.push(p))
  }

  static get last(): FakeSocket {
    const socket = FakeSocket.all.at(-1)
    if (!socket) throw new Error('no socket was opened')
    return socket
  }

  /** The commands written so far, in order. */
  get commands(): string[] {
    return this.written.map((p) => p.cmd)
  }

  send(data: Uint8Array): void {
    this.reader.parse(Buffer.from(data))
  }

  close(): void {
    this.closedByClient = true
    this.readyState = 3
  }

  // ---- the broker's side ----

  open(): void {
    this.readyState = 1
    ;(this.onopen as ((e: object) => void) | null)?.({})
  }

  deliver(packet: Packet | WirePacket, protocolVersion: 4 | 5 = 4): void {
    const bytes = generate(packet as WirePacket, { protocolVersion })
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    ;(this.onmessage as ((e: { data: ArrayBuffer }) => void) | null)?.({ data })
  }

  /** The network drops the connection: no close frame, code 1006. */
  drop(): void {
    this.readyState = 3
    ;(this.onclose as ((e: { code: number }) => void) | null)?.({ code: 1006 })
  }
}

/** Lets the transport's one-task-later flush run. */
export const written = () => new Promise((resolve) => setImmediate(resolve))
