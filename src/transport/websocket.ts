import { concatBytes } from '../bytes.js'
import { ConnectionClosedError, type MqttError, ProtocolError, TransportError } from '../errors.js'
import { nextTask } from './next-task.js'
import { redactUrl, scrubUrl } from './redact-url.js'
import type { Transport, TransportHandlers } from './transport.js'

/**
 * The part of a WebSocket the transport uses, met by the browser's WebSocket and by the `ws`
 * package. Event handlers are typed loosely (`never` arguments) so that both implementations'
 * own event types fit; the transport reads only `data`, `code`, `reason` and `message`.
 */
export interface WebSocketLike {
  /** Set to 'arraybuffer' by the transport, so binary frames arrive as ArrayBuffer. */
  binaryType: string
  /** The socket's state; 1 is OPEN. */
  readonly readyState: number
  /** Sends one binary frame. */
  send(data: Uint8Array): void
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void
  /** Called once the handshake succeeds. */
  onopen: ((event: never) => unknown) | null
  /** Called with each frame received (its `data`). */
  onmessage: ((event: never) => unknown) | null
  /** Called on a failure (its `message` or `error`, where the implementation gives one). */
  onerror: ((event: never) => unknown) | null
  /** Called once the socket closed (its `code` and `reason`). */
  onclose: ((event: never) => unknown) | null
}

/**
 * A WebSocket class, for the WebSocket option: the browser's, or the `ws` package's in Node
 * (`import WebSocket from 'ws'`). Default: the global WebSocket.
 */
export interface WebSocketConstructor {
  new (url: string, protocols?: string | string[]): WebSocketLike
}

/** How one WebSocket carries MQTT; each field is a broker quirk some brokers need worked around. */
export interface WebSocketTransportOptions {
  /** The subprotocols offered in the handshake, most wanted first. */
  subprotocols: string[]
  /** Whether the packets written in one task share frames (true) or each get a frame of their own. */
  coalesceWrites: boolean
}

const OPEN = 1
/** Small packets written before a flush are joined up to this size; a larger packet goes in a frame of its own. */
const MAX_JOINED_FRAME = 64 * 1024

interface MessageEventLike {
  data: unknown
}
interface CloseEventLike {
  code?: number
  reason?: string
}
interface ErrorEventLike {
  message?: string
  error?: unknown
}

/**
 * MQTT over one WebSocket (MQTT §6): asks for the `mqtt` subprotocol unless told otherwise, takes
 * binary frames only, and joins the packets written until the next task (see next-task.ts) into
 * as few frames as it can, since per-frame cost, not per-byte cost, dominates small messages in
 * browsers. MQTT allows the joining (MQTT-6.0.0-2); for brokers that read only the first packet
 * of a frame, `coalesceWrites: false` still flushes a task later but gives each packet its own
 * frame, so the choice moves frame boundaries and nothing else: order, and what close() flushes,
 * stay as they are.
 */
export class WebSocketTransport implements Transport {
  private readonly socket: WebSocketLike
  private pending: Uint8Array[] = []
  private flushQueued = false
  private failure: MqttError | undefined
  private finished = false
  private closing = false

  constructor(
    url: string,
    private readonly handlers: TransportHandlers,
    WebSocketImpl: WebSocketConstructor,
    private readonly options: WebSocketTransportOptions = { subprotocols: ['mqtt'], coalesceWrites: true },
  ) {
    try {
      this.socket = new WebSocketImpl(url, options.subprotocols)
    } catch (err) {
      // The address may carry credentials (userinfo, a token in the query), and a browser's own
      // message quotes it: neither goes into ours, nor an error that quotes it into the cause.
      const said = String((err as Error | undefined)?.message ?? err)
      const detail = scrubUrl(said, url)
      throw new TransportError(`Cannot open WebSocket to ${redactUrl(url)}: ${detail}`, detail === said ? { cause: err } : {})
    }
    this.socket.binaryType = 'arraybuffer'
    this.socket.onopen = () => {
      if (!this.closing) handlers.onOpen()
    }
    this.socket.onmessage = (event: MessageEventLike) => this.receive(event.data)
    this.socket.onerror = (event: ErrorEventLike) => {
      if (this.closing) return // an error from tearing down a socket we closed is not news
      const detail = event.message ?? (event.error instanceof Error ? event.error.message : undefined)
      // Node's code (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE) tells a TLS failure from the rest at a glance.
      const code = (event.error as { code?: unknown } | undefined)?.code
      const full = detail && typeof code === 'string' && !detail.includes(code) ? `${detail} (${code})` : detail
      // As in the constructor: no part of a signed URL's query or userinfo, in our message or in the cause.
      const said = full && scrubUrl(full, url)
      this.failure ??= new TransportError(said ? `WebSocket error: ${said}` : 'WebSocket error', said === full ? { cause: event.error } : {})
    }
    this.socket.onclose = (event: CloseEventLike) => {
      this.finish(this.failure ?? closedByPeer(event))
    }
  }

  send(bytes: Uint8Array): void {
    if (this.finished || this.closing) return
    this.pending.push(bytes)
    if (!this.flushQueued) {
      this.flushQueued = true
      nextTask(() => this.flush())
    }
  }

  close(): void {
    if (this.finished || this.closing) return
    this.flush()
    this.closing = true
    try {
      this.socket.close(1000)
    } catch {
      // Closing a socket that never opened may throw in some implementations; it is gone either way.
    }
    // Report the close now rather than when the peer answers: a dead peer may never answer.
    queueMicrotask(() => this.finish(undefined))
  }

  private flush(): void {
    this.flushQueued = false
    if (this.pending.length === 0) return
    const chunks = this.pending
    this.pending = []
    // Writes after the socket closed are dropped: QoS 1/2 packets are re-sent after a reconnect.
    if (this.finished || this.socket.readyState !== OPEN) return
    for (const frame of this.options.coalesceWrites ? joinFrames(chunks) : chunks) this.socket.send(frame)
  }

  private receive(data: unknown): void {
    if (this.finished || this.closing) return
    if (data instanceof ArrayBuffer) {
      this.handlers.onData(new Uint8Array(data))
    } else if (ArrayBuffer.isView(data)) {
      this.handlers.onData(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    } else {
      // MQTT §6.0: a text frame from the peer is a protocol violation that ends the connection.
      this.failure = new ProtocolError('Broker sent a non-binary WebSocket frame')
      this.close()
    }
  }

  private finish(error: MqttError | undefined): void {
    if (this.finished) return
    this.finished = true
    this.pending = []
    const socket = this.socket
    socket.onopen = socket.onmessage = socket.onclose = null
    // Never drop the error handler: the `ws` package throws an 'error' event nobody listens to.
    socket.onerror = ignore
    // A failure found before our own close (a text frame) still counts as the reason.
    this.handlers.onClose(this.closing ? this.failure : error)
  }
}

function ignore(): void {}

function closedByPeer(event: CloseEventLike): MqttError {
  const code = event.code ?? 1006
  const reason = event.reason ? `: ${event.reason}` : ''
  return code === 1006
    ? new TransportError(`WebSocket connection lost (code 1006${reason})`)
    : new ConnectionClosedError(`WebSocket closed by the broker (code ${code}${reason})`)
}

/** Joins small chunks into frames of at most MAX_JOINED_FRAME bytes; larger chunks go alone. */
export function joinFrames(chunks: Uint8Array[]): Uint8Array[] {
  if (chunks.length === 1) return chunks
  const frames: Uint8Array[] = []
  let batch: Uint8Array[] = []
  let batchBytes = 0
  const emit = () => {
    if (batch.length === 1) frames.push(batch[0] as Uint8Array)
    else if (batch.length > 1) frames.push(concatBytes(batch, batchBytes))
    batch = []
    batchBytes = 0
  }
  for (const chunk of chunks) {
    if (batchBytes + chunk.length > MAX_JOINED_FRAME) emit()
    batch.push(chunk)
    batchBytes += chunk.length
  }
  emit()
  return frames
}
