import type { PublishProperties, QoS } from '../codec/packets.js'

/** A QoS 1/2 message that publish() accepted and that is not yet acknowledged. */
export interface StoredMessage {
  /** Rises with each message, so load() can return them in the order they were published. */
  key: number
  topic: string
  /** As published: text is kept as text. */
  payload: Uint8Array | string
  qos: Exclude<QoS, 0>
  retain: boolean
  properties?: PublishProperties
}

/**
 * Where accepted QoS 1/2 messages wait until the broker acknowledges them. The client puts each
 * one before it goes out and deletes it once settled; at start it loads what an earlier run left,
 * so a message survives a page reload when the store does.
 */
export interface Store {
  /** Every stored message, oldest first. */
  load(): Promise<StoredMessage[]>
  put(message: StoredMessage): Promise<void>
  delete(key: number): Promise<void>
  /** Releases what the store holds open (a database connection). */
  close(): Promise<void>
}
