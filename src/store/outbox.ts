import type { PublishPacket } from '../codec/packets.js'
import type { Store, StoredMessage } from './store.js'

/**
 * Keeps a store in step with QoS 1/2 publishes: each is put when accepted and deleted once
 * settled, and what an earlier run left is handed back at start. Operations are the caller's
 * own tokens; only those whose message went into the store are remembered here, with its key.
 * Without a store nothing is kept at all: the protocol's queue is then the only place a message
 * waits. Store failures are reported, never thrown: the message is still sent, only its
 * survival across a reload is at risk.
 */
export class Outbox<Op extends object> {
  /**
   * Keys start from the clock (ms × 1000), so they grow across runs too: a message accepted
   * before restore() has read the store must not take the key of one an earlier run left there
   * (the put would overwrite it), and restore() must not hand back this run's own as left over.
   */
  private nextKey = Date.now() * 1000
  private readonly keys = new Map<Op, number>()

  constructor(
    private readonly store: Store | undefined,
    private readonly report: (err: unknown) => void,
  ) {}

  /** Messages an earlier run left unacknowledged, each with the operation `makeOp` gives it. */
  async restore(makeOp: () => Op): Promise<Array<{ op: Op; packet: PublishPacket }>> {
    if (!this.store) return []
    let stored: StoredMessage[]
    try {
      stored = await this.store.load()
    } catch (err) {
      this.report(err)
      return []
    }
    const mine = new Set(this.keys.values())
    return stored.filter((message) => !mine.has(message.key)).map((message) => {
      this.nextKey = Math.max(this.nextKey, message.key + 1)
      const packet: PublishPacket = { cmd: 'publish', topic: message.topic, payload: message.payload, qos: message.qos, retain: message.retain, dup: false }
      if (message.properties) packet.properties = message.properties
      const op = makeOp()
      this.keys.set(op, message.key)
      return { op, packet }
    })
  }

  accepted(op: Op, packet: PublishPacket): void {
    if (!this.store || packet.qos === 0) return
    const key = this.nextKey++
    this.keys.set(op, key)
    const message: StoredMessage = { key, topic: packet.topic, payload: packet.payload, qos: packet.qos, retain: packet.retain }
    if (packet.properties) message.properties = packet.properties
    this.store.put(message).catch(this.report)
  }

  settled(op: Op): void {
    const key = this.keys.get(op)
    if (key === undefined || !this.store) return
    this.keys.delete(op)
    this.store.delete(key).catch(this.report)
  }

  close(): Promise<void> {
    return this.store ? this.store.close().catch(this.report) : Promise.resolve()
  }
}
