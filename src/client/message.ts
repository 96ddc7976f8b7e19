import type { IncomingPublishPacket, PublishProperties, QoS } from '../codec/packets.js'

const utf8 = new TextDecoder()

/** A subscription's own handler: it sees only the messages its filter matches. */
export type MessageHandler = (message: Message) => void

/** A message as handlers and iterators see it. Reads through to the packet, so making one is cheap. */
export class Message {
  constructor(readonly packet: IncomingPublishPacket) {}

  get topic(): string {
    return this.packet.topic
  }

  get payload(): Uint8Array {
    return this.packet.payload
  }

  get qos(): QoS {
    return this.packet.qos
  }

  get retain(): boolean {
    return this.packet.retain
  }

  get dup(): boolean {
    return this.packet.dup
  }

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
