import type { IncomingPublishPacket, PublishPacket, PublishProperties } from '../codec/packets.js'

/**
 * The topic aliases of one connection, both ways (MQTT 5 §3.3.2.3.4). Made afresh for each
 * connection, as aliases last only as long as it does.
 *
 * Outgoing, each topic gets the next free alias the first time it is sent, with its full topic;
 * later messages on it carry the alias alone. Once the broker's maximum is used up, further
 * topics go in full: long-lived clients publish to a few topics again and again.
 */
export class TopicAliases {
  private readonly incoming = new Map<number, string>()
  private readonly outgoing = new Map<string, number>()

  /**
   * @param ourMaximum the most aliases we said we take (our CONNECT's Topic Alias Maximum)
   * @param brokerMaximum the most the broker takes (its CONNACK's), 0 for none
   */
  constructor(
    private readonly ourMaximum: number,
    private readonly brokerMaximum: number,
  ) {}

  /** An incoming PUBLISH's topic, learning or applying its alias; undefined if the alias is invalid. */
  resolve(packet: IncomingPublishPacket): string | undefined {
    const alias = packet.properties?.topicAlias
    // An empty topic is allowed only with an alias to stand for it (MQTT 5 §3.3.2.1).
    if (alias === undefined) return packet.topic === '' ? undefined : packet.topic
    if (alias < 1 || alias > this.ourMaximum) return undefined
    if (packet.topic !== '') {
      this.incoming.set(alias, packet.topic)
      return packet.topic
    }
    return this.incoming.get(alias)
  }

  /** The PUBLISH to write for `packet`: as it is, or with an alias for its topic. */
  outgoingPacket(packet: PublishPacket): PublishPacket {
    if (this.brokerMaximum === 0) return packet
    const known = this.outgoing.get(packet.topic)
    if (known !== undefined) return withAlias(packet, '', known)
    if (this.outgoing.size >= this.brokerMaximum) return packet
    return withAlias(packet, packet.topic, this.outgoing.size + 1)
  }

  /** A PUBLISH went out: an alias it gave with its topic is the broker's from now on. */
  written(packet: PublishPacket): void {
    const alias = packet.properties?.topicAlias
    if (alias !== undefined && packet.topic !== '') this.outgoing.set(packet.topic, alias)
  }
}

/** One frozen `{ topicAlias }` per alias, shared by every PUBLISH that has no other property. */
const aliasOnly: PublishProperties[] = []

/**
 * A copy of `packet` carrying `alias`. Sending by alias is the hot path of a busy publisher, so
 * the copy is built field by field, always in one shape, rather than spread.
 */
function withAlias(packet: PublishPacket, topic: string, alias: number): PublishPacket {
  const given = packet.properties
  const properties = given === undefined ? (aliasOnly[alias] ??= Object.freeze({ topicAlias: alias })) : { ...given, topicAlias: alias }
  return { cmd: 'publish', topic, payload: packet.payload, qos: packet.qos, retain: packet.retain, dup: packet.dup, messageId: packet.messageId, properties }
}
