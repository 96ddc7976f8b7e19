import { Decoder } from '../codec/decoder.js'
import type { IncomingPacket, ProtocolVersion } from '../codec/packets.js'
import { type MqttError, ProtocolError } from '../errors.js'
import type { Transport } from '../transport/transport.js'
import { type WebSocketConstructor, WebSocketTransport, type WebSocketTransportOptions } from '../transport/websocket.js'

/** What a connection tells its owner. After `closed`, or after the owner closed it, nothing more. */
export interface ConnectionOwner {
  opened(): void
  received(packet: IncomingPacket): void
  /** The bytes broke the wire rules: nothing more is read; the owner says why to the broker and closes. */
  violated(error: ProtocolError): void
  /** The socket went by itself; `error` says why (a broker that closed it cleanly gives none). */
  closed(error: MqttError | undefined): void
}

export interface ConnectionOptions extends WebSocketTransportOptions {
  WebSocket: WebSocketConstructor
  protocolVersion: ProtocolVersion
  maxPacketSize: number
}

/** Makes the transport a connection runs on; tests give a fake one. */
export type TransportFactory = (
  url: string,
  handlers: ConstructorParameters<typeof WebSocketTransport>[1],
  WebSocket: WebSocketConstructor,
  options: WebSocketTransportOptions,
) => Transport

const webSocketTransport: TransportFactory = (url, handlers, WebSocket, options) => new WebSocketTransport(url, handlers, WebSocket, options)

/**
 * One socket's life: its transport and the decoder that reads it. Made whole when the protocol
 * asks for a socket and dropped whole when it goes, so nothing of one socket leaks into the next.
 */
export class Connection {
  private readonly transport: Transport | undefined
  private readonly decoder: Decoder
  /** Closed by its owner or gone by itself: nothing more is read or reported. */
  private finished = false
  /** The decoder failed: what follows cannot be read, though the socket is still there to say why. */
  private unreadable = false

  constructor(
    readonly url: string,
    options: ConnectionOptions,
    private readonly owner: ConnectionOwner,
    makeTransport: TransportFactory = webSocketTransport,
  ) {
    this.decoder = new Decoder({ protocolVersion: options.protocolVersion, maxPacketSize: options.maxPacketSize })
    let transport: Transport | undefined
    try {
      transport = makeTransport(
        url,
        {
          onOpen: () => this.finished || owner.opened(),
          onData: (bytes) => this.receive(bytes),
          onClose: (error) => this.end(error),
        },
        options.WebSocket,
        options,
      )
    } catch (err) {
      // Reported a moment later, as any other failure to connect is: the owner is still setting up.
      queueMicrotask(() => this.end(err as MqttError))
    }
    this.transport = transport
  }

  send(bytes: Uint8Array): void {
    if (!this.finished) this.transport?.send(bytes)
  }

  /** Writes what is queued, then closes; the owner hears nothing more from this connection. */
  close(): void {
    if (this.finished) return
    this.finished = true
    this.transport?.close()
  }

  private receive(bytes: Uint8Array): void {
    if (this.finished || this.unreadable) return
    let packets: IncomingPacket[]
    try {
      packets = this.decoder.push(bytes)
    } catch (err) {
      this.unreadable = true
      this.owner.violated(err instanceof ProtocolError ? err : new ProtocolError(`Malformed packet from broker: ${String(err)}`, { cause: err, reasonCode: 0x81 }))
      return
    }
    for (const packet of packets) {
      // A packet can end the connection (a refusal, a protocol error): the rest are moot then.
      if (this.finished) return
      this.owner.received(packet)
    }
  }

  private end(error: MqttError | undefined): void {
    if (this.finished) return
    this.finished = true
    this.owner.closed(error)
  }
}
