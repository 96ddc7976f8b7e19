import type { PublishPacket } from '../codec/packets.js'
import type { OpId } from '../protocol/protocol.js'
import type { Store, StoredMessage } from './store.js'

/**
 * Keeps the store in step with QoS 1/2 publishes: each is put when accepted and deleted once
 * settled, and what an earlier run left is handed back at start. Store failures are reported,
 * never thrown: the message is still sent, only its survival across a reload is at risk.
 */
export class Outbox {
  private readonly keys = new Map<OpId, number>()
  private nextKey = 1

  constructor(
    private readonly store: Store,
    private readonly report: (err: unknown) => void,
  ) {}

  /** Messages an earlier run left unacknowledged, each given the operation it now belongs to. */
  async restore(nextOp: () => OpId): Promise<Array<{ op: OpId; packet: PublishPacket }>> {
    let stored: StoredMessage[]
    try {
      stored = await this.store.load()
    } catch (err) {
      this.report(err)
      return []
    }
    return stored.map((message) => {
      this.nextKey = Math.max(this.nextKey, message.key + 1)
      const op = nextOp()
      this.keys.set(op, message.key)
      const packet: PublishPacket = { cmd: 'publish', topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, dup: false }
      if (message.properties) packet.properties = message.properties
      return { op, packet }
    })
  }

  accepted(op: OpId, packet: PublishPacket): void {
    if (packet.qos === 0) return
    const key = this.nextKey++
    this.keys.set(op, key)
    const message: StoredMessage = { key, topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain }
    if (packet.properties) message.properties = packet.properties
    this.store.put(message).catch(this.report)
  }

  settled(op: OpId): void {
    const key = this.keys.get(op)
    if (key === undefined) return
    this.keys.delete(op)
    this.store.delete(key).catch(this.report)
  }

  close(): Promise<void> {
    return this.store.close().catch(this.report)
  }
}
