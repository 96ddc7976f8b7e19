import { describe, expect, it } from 'vitest'
import { Outbox } from '../../../src/store/outbox.js'
import type { PublishPacket } from '../../../src/codec/packets.js'
import { MemoryStore } from '../../../src/store/memory-store.js'

const pub = (topic: string, qos: 0 | 1 | 2): PublishPacket => ({ cmd: 'publish', topic, payload: 'p', qos, retain: false, dup: false })
const tick = () => new Promise((r) => setTimeout(r, 0))

/** An operation as the client makes one: a token of its own, which the outbox only remembers. */
interface Op {
  id: number
}
const op = (id: number): Op => ({ id })

describe('Outbox over a MemoryStore', () => {
  it('stores QoS 1 and 2 publishes when accepted and removes them once settled; QoS 0 is never stored', async () => {
    const store = new MemoryStore()
    const outbox = new Outbox(store, (e) => {
      throw e
    })
    const [a, b, c] = [op(1), op(2), op(3)]
    outbox.accepted(a, pub('a', 1))
    outbox.accepted(b, pub('b', 0))
    outbox.accepted(c, pub('c', 2))
    await tick()
    const kept = await store.load()
    expect(kept.map((m) => [m.topic, m.qos])).toEqual([
      ['a', 1],
      ['c', 2],
    ])
    expect(kept[1]?.key).toBe((kept[0]?.key as number) + 1)
    outbox.settled(a)
    outbox.settled(b)
    await tick()
    expect((await store.load()).map((m) => m.topic)).toEqual(['c'])
  })

  it('hands back what an earlier run left, oldest first, and numbers new messages after it', async () => {
    const store = new MemoryStore()
    await store.put({ key: 7, topic: 'later', payload: 'x', qos: 1, retain: false })
    await store.put({ key: 3, topic: 'earlier', payload: new Uint8Array([1]), qos: 2, retain: true })
    const outbox = new Outbox<Op>(store, () => undefined)
    let next = 100
    const restored = await outbox.restore(() => ({ id: next++ }))
    expect(restored.map((r) => [r.op.id, r.packet.topic, r.packet.qos, r.packet.retain])).toEqual([
      [100, 'earlier', 2, true],
      [101, 'later', 1, false],
    ])
    outbox.accepted(op(5), pub('new', 1))
    outbox.settled(restored[0]?.op as Op)
    await tick()
    const kept = await store.load()
    expect(kept.map((m) => m.topic)).toEqual(['later', 'new'])
    expect(kept[1]?.key).toBeGreaterThan(7)
  })

  it("neither overwrites what an earlier run left nor hands back this run's own, for a message accepted before restore", async () => {
    const store = new MemoryStore()
    await store.put({ key: 1, topic: 'left', payload: 'x', qos: 1, retain: false })
    const outbox = new Outbox<Op>(store, () => undefined)
    outbox.accepted(op(1), pub('new', 1))
    await tick()
    let next = 100
    const restored = await outbox.restore(() => ({ id: next++ }))
    expect(restored.map((r) => r.packet.topic)).toEqual(['left'])
    expect((await store.load()).map((m) => m.topic)).toEqual(['left', 'new'])
  })

  it('reports a failing store instead of throwing, and still hands back nothing on a failed load', async () => {
    const errors: unknown[] = []
    const broken = {
      load: () => Promise.reject(new Error('no db')),
      put: () => Promise.reject(new Error('full')),
      delete: () => Promise.resolve(),
      close: () => Promise.resolve(),
    }
    const outbox = new Outbox(broken, (e) => errors.push(e))
    expect(await outbox.restore(() => op(0))).toEqual([])
    outbox.accepted(op(1), pub('a', 1))
    await tick()
    expect(errors.map((e) => (e as Error).message)).toEqual(['no db', 'full'])
  })

  it('deletes a message once however often its operation settles', async () => {
    const store = new DeleteCountingStore()
    const outbox = new Outbox(store, (e) => {
      throw e
    })
    const a = op(1)
    outbox.accepted(a, pub('a', 1))
    outbox.settled(a)
    outbox.settled(a)
    await tick()
    expect(store.deleted).toHaveLength(1)
    expect(await store.load()).toEqual([])
  })

  it('keeps nothing and restores nothing without a store: the queue is the only place a message waits', async () => {
    const outbox = new Outbox<Op>(undefined, (e) => {
      throw e
    })
    const a = op(1)
    outbox.accepted(a, pub('a', 1))
    outbox.settled(a)
    expect(await outbox.restore(() => op(2))).toEqual([])
    await outbox.close()
  })
})

class DeleteCountingStore extends MemoryStore {
  readonly deleted: number[] = []

  override delete(key: number): Promise<void> {
    this.deleted.push(key)
    return super.delete(key)
  }
}
