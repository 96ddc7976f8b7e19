import type { MqttError } from '../errors.js'

/** What a transport tells its owner. onClose is called exactly once, after which nothing else is. */
export interface TransportHandlers {
  onOpen(): void
  onData(bytes: Uint8Array): void
  /** `error` is undefined when the owner asked for the close, and says why otherwise. */
  onClose(error?: MqttError): void
}

/** A byte pipe to the broker. The protocol layer above knows nothing else about it. */
export interface Transport {
  /** Queues bytes; a transport may join the writes of one event-loop turn into fewer frames. */
  send(bytes: Uint8Array): void
  /** Writes what is queued, then closes. onClose follows promptly even if the peer never answers. */
  close(): void
}
