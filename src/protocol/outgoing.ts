import type { AckPacket, PublishPacket, SubscribePacket, UnsubscribePacket } from '../codec/packets.js'
import type { MqttError } from '../errors.js'
import { Fifo } from './fifo.js'
import { InFlight } from './packet-ids.js'

/**
 * One operation on its way out: the one object the session keeps per queued message, so it has
 * no field the packet already says (its kind is the packet's cmd). `op` is the owner's token,
 * handed back when it settles; the session's own SUBSCRIBEs (made again after a reconnect) have
 * none. A QoS 2 publish moves from waiting for PUBREC to waiting for PUBCOMP once past PUBREC;
 * every entry has that field, so all share one shape.
 */
export type Entry<Op> = PublishEntry<Op> | SubscriptionEntry<Op>

export interface PublishEntry<Op> {
  op: Op | undefined
  packet: PublishPacket
  /** The PUBREC, once a QoS 2 publish is past it: it then waits for PUBCOMP. */
  pubrec: AckPacket | undefined
}

export interface SubscriptionEntry<Op> {
  op: Op | undefined
  packet: SubscribePacket | UnsubscribePacket
  pubrec: undefined
}

function isPublish<Op>(entry: Entry<Op>): entry is PublishEntry<Op> {
  return entry.packet.cmd === 'publish'
}

/**
 * What `flush` and `acknowledge` ask of the protocol: write a packet (answering why it cannot,
 * if it cannot: it does not encode, or the broker would not take it), or report an entry done.
 */
export interface OutgoingSink<Op> {
  send(packet: PublishPacket | SubscribePacket | UnsubscribePacket | AckPacket): MqttError | undefined
  done(entry: Entry<Op>, failure?: MqttError): void
}

/**
 * The operations a session has not finished: first queued, in order, then in flight under a
 * packet id until acknowledged. Publishes in flight are held to the window `flush` is given
 * (send-window.ts); SUBSCRIBE and UNSUBSCRIBE only need a free id. Everything here survives a
 * lost connection: in-flight entries go again after the next CONNACK, ahead of the queue.
 */
export class Outgoing<Op> {
  private readonly queue = new Fifo<Entry<Op>>()
  private readonly inflight = new InFlight<Entry<Op>>()
  private publishesInFlight = 0
  /**
   * The packet id of the entry written last, which a broker's DISCONNECT may blame; 0 (no packet's
   * id) when there is none. Once that entry is acknowledged, nothing is in flight under the id
   * until a new entry is written under it, which makes it the last written again.
   */
  private lastSentId = 0

  constructor(private readonly queueLimit: number) {}

  /** Operations waiting to be sent. */
  get queued(): number {
    return this.queue.length
  }

  /** Packets sent and awaiting acknowledgement. */
  get inFlightCount(): number {
    return this.inflight.size
  }

  /** QoS 1/2 publishes sent and awaiting acknowledgement: what the window holds. */
  get publishesInFlightCount(): number {
    return this.publishesInFlight
  }

  /** Whether a publish is in flight under this packet id. */
  awaits(id: number): boolean {
    const entry = this.inflight.get(id)
    return entry !== undefined && isPublish(entry)
  }

  /** The SUBSCRIBE or UNSUBSCRIBE in flight under this id, if that is what it holds; it stays in flight. */
  awaitedSubscription(kind: 'subscribe' | 'unsubscribe', id: number): SubscriptionEntry<Op> | undefined {
    const entry = this.inflight.get(id)
    return entry && !isPublish(entry) && entry.packet.cmd === kind ? entry : undefined
  }

  /** Nothing queued and nothing awaiting acknowledgement. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inflight.size === 0
  }

  /** Queues an entry; false when the queue is full. */
  add(entry: Entry<Op>): boolean {
    if (this.queue.length >= this.queueLimit) return false
    this.queue.push(entry)
    return true
  }

  /** Puts entries ahead of everything queued, in their order, whatever the limit. */
  addFirst(entries: Array<Entry<Op>>): void {
    this.queue.unshiftAll(entries)
  }

  /** Sends queued entries in order while the window and the id space allow. */
  flush(window: number, sink: OutgoingSink<Op>): void {
    for (;;) {
      const head = this.queue.peek()
      if (!head) return
      if (isPublish(head) && head.packet.qos === 0) {
        this.queue.shift()
        // Written last now, so no entry in flight is to blame for what the broker says next.
        this.lastSentId = 0
        sink.done(head, sink.send(head.packet))
        continue
      }
      if ((isPublish(head) && this.publishesInFlight >= window) || this.inflight.full) return
      this.queue.shift()
      this.sendNow(head, sink)
    }
  }

  /** What is in flight now, oldest first: what `resend` sends again after a reconnect. */
  inFlight(): Array<[number, Entry<Op>]> {
    return [...this.inflight.entries()]
  }

  /**
   * After a reconnect: these unacknowledged packets again, in their first order, before anything
   * new. One the new connection cannot take fails, and leaves flight.
   */
  resend(inFlight: Array<[number, Entry<Op>]>, sink: OutgoingSink<Op>): void {
    for (const [id, entry] of inFlight) {
      if (isPublish(entry) && entry.pubrec) sink.send({ cmd: 'pubrel', messageId: id })
      else this.sendInFlight(id, entry, isPublish(entry) ? { ...entry.packet, dup: true } : entry.packet, sink)
    }
  }

  /** Puts an entry in flight and sends it at once, ahead of the queue; queued first if no id is free. */
  sendNow(entry: Entry<Op>, sink: OutgoingSink<Op>): void {
    const id = this.inflight.add(entry)
    if (id === undefined) return this.addFirst([entry])
    entry.packet.messageId = id
    if (isPublish(entry)) this.publishesInFlight++
    this.sendInFlight(id, entry, entry.packet, sink)
  }

  /** Sends an entry's packet; one that cannot be sent leaves flight at once, failed. */
  private sendInFlight(id: number, entry: Entry<Op>, packet: PublishPacket | SubscribePacket | UnsubscribePacket, sink: OutgoingSink<Op>): void {
    const failure = sink.send(packet)
    if (!failure) {
      this.lastSentId = id
      return
    }
    this.take(id, entry)
    sink.done(entry, failure)
  }

  /**
   * Takes the entry written last out of flight, if it is still unacknowledged: the broker closed
   * the connection over it, and sending it again would only close the next one too.
   */
  takeLastSent(): Entry<Op> | undefined {
    const entry = this.inflight.get(this.lastSentId)
    // A QoS 2 publish past PUBREC was taken by the broker already: its PUBLISH is not to blame.
    if (!entry || entry.pubrec) return undefined
    this.take(this.lastSentId, entry)
    return entry
  }

  private take(id: number, entry: Entry<Op>): void {
    this.inflight.delete(id)
    if (isPublish(entry)) this.publishesInFlight--
  }

  /**
   * A PUBACK, PUBREC or PUBCOMP came. A PUBREC that accepts moves a QoS 2 publish on (PUBREL is
   * sent); the ack its QoS and phase wait for finishes it, and the entry is returned, out of
   * flight. Late or duplicate acks find nothing.
   */
  acknowledgePublish(ack: AckPacket, accepted: boolean, sink: OutgoingSink<Op>): PublishEntry<Op> | undefined {
    const entry = this.inflight.get(ack.messageId)
    if (!entry || !isPublish(entry)) return undefined
    if (ack.cmd === 'pubrec' && entry.packet.qos === 2 && accepted) {
      entry.pubrec = ack
      sink.send({ cmd: 'pubrel', messageId: ack.messageId })
      return undefined
    }
    const expected = entry.packet.qos === 1 ? 'puback' : entry.pubrec ? 'pubcomp' : 'pubrec'
    // A broker that takes QoS 2 as QoS 1 (RabbitMQ) answers the PUBLISH with PUBACK: that finishes it too.
    const downgraded = ack.cmd === 'puback' && expected === 'pubrec'
    if (ack.cmd !== expected && !downgraded) return undefined
    this.take(ack.messageId, entry)
    return entry
  }

  /** A SUBACK or UNSUBACK came: the entry it answers, out of flight, or undefined. */
  acknowledgeSubscription(kind: 'subscribe' | 'unsubscribe', id: number): SubscriptionEntry<Op> | undefined {
    const entry = this.awaitedSubscription(kind, id)
    if (entry) this.take(id, entry)
    return entry
  }

  /** Removes and returns every entry, in flight first, each in its order. */
  drain(): Array<Entry<Op>> {
    const all = [...this.inflight.entries()].map(([, entry]) => entry)
    this.inflight.clear()
    this.publishesInFlight = 0
    this.lastSentId = 0
    return all.concat(this.queue.drain())
  }
}
