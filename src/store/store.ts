import type { PublishProperties, QoS } from '../codec/packets.js'

/** A QoS 1/2 message that publish() accepted and that is not yet acknowledged. */
export interface StoredMessage {
  /** Rises with each message, so load() can return them in the order they were published. */
  key: number
  /** The topic it is published to. */
  topic: string
  /** As published: text is kept as text. */
  payload: Uint8Array | string
  /** Its QoS: only QoS 1 and 2 messages are stored. */
  qos: Exclude<QoS, 0>
  /** The retain flag it is published with. */
  retain: boolean
  /** Its MQTT 5 properties, if any. */
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
  /** Keeps a message (replacing one with the same key); resolves once it is kept. */
  put(message: StoredMessage): Promise<void>
  /** Forgets the message with this key, if any; resolves once it is gone. */
  delete(key: number): Promise<void>
  /** Releases what the store holds open (a database connection). */
  close(): Promise<void>
}
