import type { PublishPacket } from '../codec/packets.js'
import { MemoryStore } from './memory-store.js'
import type { Store, StoredMessage } from './store.js'

/** An operation whose message may be in the store: the key it is kept under, once it is. */
export interface StoreKeyed {
  storeKey: number | undefined
}

/**
 * Keeps the store in step with QoS 1/2 publishes: each is put when accepted and deleted once
 * settled, and what an earlier run left is handed back at start. Each operation carries its own
 * store key, so nothing here maps one to the other. Store failures are reported, never thrown:
 * the message is still sent, only its survival across a reload is at risk.
 */
export class Outbox {
  private nextKey = 1

  constructor(
    private readonly store: Store,
    private readonly report: (err: unknown) => void,
  ) {}

  /** Messages an earlier run left unacknowledged, each with the operation `makeOp` gives it. */
  async restore<Op extends StoreKeyed>(makeOp: (storeKey: number) => Op): Promise<Array<{ op: Op; packet: PublishPacket }>> {
    let stored: StoredMessage[]
    try {
      stored = await this.store.load()
    } catch (err) {
      this.report(err)
      return []
    }
    return stored.map((message) => {
      this.nextKey = Math.max(this.nextKey, message.key + 1)
      const packet: PublishPacket = { cmd: 'publish', topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, dup: false }
      if (message.properties) packet.properties = message.properties
      return { op: makeOp(message.key), packet }
    })
  }

  accepted(op: StoreKeyed, packet: PublishPacket): void {
    if (packet.qos === 0) return
    const key = this.nextKey++
    op.storeKey = key
    // A MemoryStore shares the packet the protocol queues; another store gets a message of its own.
    if (this.store instanceof MemoryStore) return this.store.hold(key, packet as PublishPacket & { qos: 1 | 2 })
    const message: StoredMessage = { key, topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain }
    if (packet.properties) message.properties = packet.properties
    this.store.put(message).catch(this.report)
  }

  settled(op: StoreKeyed): void {
    if (op.storeKey === undefined) return
    this.store.delete(op.storeKey).catch(this.report)
    op.storeKey = undefined
  }

  close(): Promise<void> {
    return this.store.close().catch(this.report)
  }
}
