/**
 * The retained messages a shared connection has received and still knows to be current, by
 * topic: what a tab that subscribes to a filter the connection already holds is given, since the
 * connection subscribes once per filter and the broker sends retained messages only on a SUBSCRIBE.
 *
 * It is never wrong, only incomplete. A message the broker flags retained came from a SUBSCRIBE
 * and is the topic's retained message then. A later message on the topic without the flag may
 * have replaced it (MQTT 3.1.1, and 5 without Retain As Published, clear the flag on live
 * messages), so the topic is forgotten: a tab joining after that gets nothing for it, as before.
 */
import type { IncomingPublishPacket } from '../codec/packets.js'
import { matchTopic } from '../routing/topic-match.js'
import { hasWildcard } from '../wildcards.js'

interface Kept {
  readonly packet: IncomingPublishPacket
  /** When it came (ms), for its MQTT 5 Message Expiry Interval. */
  readonly at: number
}

export class RetainedCache {
  private readonly byTopic = new Map<string, Kept>()

  /** Every message the connection receives passes here, at `now` (ms). */
  seen(packet: IncomingPublishPacket, now: number): void {
    if (!packet.retain) {
      this.byTopic.delete(packet.topic)
      return
    }
    // An empty retained message is the broker saying the topic has none.
    if (packet.payload.length === 0) this.byTopic.delete(packet.topic)
    else this.byTopic.set(packet.topic, { packet, at: now })
  }

  /** The kept messages `filter` matches, unexpired at `now`: what a tab joining it is given. */
  matching(filter: string, now: number): IncomingPublishPacket[] {
    const out: IncomingPublishPacket[] = []
    if (!hasWildcard(filter)) {
      const kept = this.byTopic.get(filter)
      return kept && live(kept, now) ? [kept.packet] : out
    }
    for (const [topic, kept] of this.byTopic) if (matchTopic(filter, topic) && live(kept, now)) out.push(kept.packet)
    return out
  }

  /** Whether `packet` is still the topic's kept message (nothing newer came for its topic). */
  current(packet: IncomingPublishPacket): boolean {
    return this.byTopic.get(packet.topic)?.packet === packet
  }

  /** Forgets the topics none of `filters` matches: called when the connection drops a filter. */
  keepOnly(filters: Iterable<string>): void {
    const held = [...filters]
    for (const topic of this.byTopic.keys()) if (!held.some((f) => matchTopic(f, topic))) this.byTopic.delete(topic)
  }
}

function live({ packet, at }: Kept, now: number): boolean {
  const expiry = packet.properties?.messageExpiryInterval
  return expiry === undefined || now < at + expiry * 1000
}
