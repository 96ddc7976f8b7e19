import type { IncomingPublishPacket, PublishProperties, QoS } from '../codec/packets.js'

const utf8 = new TextDecoder()

/** A subscription's own handler: it sees only the messages its filter matches. */
export type MessageHandler = (message: Message) => void

/** A message as handlers and iterators see it. Reads through to the packet, so making one is cheap. */
export class Message {
  /** @param packet - the PUBLISH as it arrived */
  constructor(
    /** The PUBLISH as it arrived, for what the getters do not show. */
    readonly packet: IncomingPublishPacket,
  ) {}

  /** The topic it was published to (an MQTT 5 topic alias already resolved). */
  get topic(): string {
    return this.packet.topic
  }

  /** The payload bytes. */
  get payload(): Uint8Array {
    return this.packet.payload
  }

  /** The QoS it was delivered with: the lower of the publish's and the subscription's. */
  get qos(): QoS {
    return this.packet.qos
  }

  /**
   * Whether it came from the broker's retained store, sent on subscribing (with MQTT 5
   * `rap: true`, whether the publisher set retain).
   */
  get retain(): boolean {
    return this.packet.retain
  }

  /** Whether the broker marked it as sent again (QoS 1 or 2): it may be a duplicate. */
  get dup(): boolean {
    return this.packet.dup
  }

  /** Its MQTT 5 properties, when it had any. */
  get properties(): PublishProperties | undefined {
    return this.packet.properties
  }

  /** The payload decoded as UTF-8. */
  text(): string {
    return utf8.decode(this.packet.payload)
  }

  /** The payload parsed as JSON; throws a SyntaxError when it is not JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T
  }
}
