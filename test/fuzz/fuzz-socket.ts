import type { WebSocketConstructor, WebSocketLike } from '../../src/index.js'

/** What a scripted broker hears from the client's side of a socket. */
export interface SocketHooks {
  /** The client wrote a frame. */
  sent?(socket: FuzzSocket, data: Uint8Array): void
  /** The client closed the socket. */
  closed?(socket: FuzzSocket): void
}

/**
 * An in-process WebSocket for the fuzzers: no network, no timers of its own. The test plays the
 * broker: it opens the socket, hands it frames of raw bytes (valid or not), and drops it. Every
 * socket a client makes is listed, so a case can check afterwards that none was left open.
 */
export class FuzzSocket implements WebSocketLike {
  binaryType = 'blob'
  readyState = 0
  closedByClient = false
  droppedByBroker = false
  onopen: ((event: never) => unknown) | null = null
  onmessage: ((event: never) => unknown) | null = null
  onerror: ((event: never) => unknown) | null = null
  onclose: ((event: never) => unknown) | null = null

  constructor(
    readonly url: string,
    private readonly hooks: SocketHooks,
  ) {}

  send(data: Uint8Array): void {
    this.hooks.sent?.(this, data)
  }

  close(): void {
    if (this.readyState === 3) return
    this.closedByClient = true
    this.readyState = 3
    this.hooks.closed?.(this)
  }

  // ---- the broker's side ----

  get isOpen(): boolean {
    return this.readyState === 1
  }

  open(): void {
    if (this.readyState !== 0) return
    this.readyState = 1
    ;(this.onopen as ((e: object) => void) | null)?.({})
  }

  /** One binary frame from the broker, as an ArrayBuffer of its own (what `ws` and browsers give). */
  deliver(bytes: Uint8Array): void {
    if (this.readyState !== 1) return
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
    ;(this.onmessage as ((e: { data: ArrayBuffer }) => void) | null)?.({ data })
  }

  /** The network drops the connection: no close frame, code 1006. */
  drop(): void {
    if (this.readyState === 3) return
    this.readyState = 3
    this.droppedByBroker = true
    ;(this.onclose as ((e: { code: number }) => void) | null)?.({ code: 1006 })
  }

  /** Whether the client still has a handler on this socket (it should drop all but onerror once done). */
  get handlersLeft(): string[] {
    const left: string[] = []
    if (this.onopen) left.push('onopen')
    if (this.onmessage) left.push('onmessage')
    if (this.onclose) left.push('onclose')
    return left
  }
}

/** A WebSocket class for one client: every socket it makes goes into `sockets`. */
export function socketClass(sockets: FuzzSocket[], hooks: SocketHooks = {}): WebSocketConstructor {
  return class extends FuzzSocket {
    constructor(url: string) {
      super(url, hooks)
      sockets.push(this)
    }
  }
}

/** Lets one task pass: the transport flushes its writes in setImmediate, which stays real under fake timers. */
export const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
