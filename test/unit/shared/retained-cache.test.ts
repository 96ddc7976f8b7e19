import { describe, expect, it } from 'vitest'
import type { IncomingPublishPacket } from '../../../src/index.js'
import { RetainedCache } from '../../../src/shared/retained-cache.js'

const packet = (topic: string, payload: string, retain = true, expiry?: number): IncomingPublishPacket => {
  const p: IncomingPublishPacket = { cmd: 'publish', topic, payload: new TextEncoder().encode(payload), qos: 1, retain, dup: false }
  if (expiry !== undefined) p.properties = { messageExpiryInterval: expiry }
  return p
}
const topics = (packets: IncomingPublishPacket[]) => packets.map((p) => `${p.topic}=${new TextDecoder().decode(p.payload)}`).sort()

describe('RetainedCache: the retained messages a shared connection still knows to be current', () => {
  it('keeps what came flagged retained, by topic, the newest one of each, and finds it by filter', () => {
    const cache = new RetainedCache()
    cache.seen(packet('a/1', 'x'), 0)
    cache.seen(packet('a/1', 'y'), 0)
    cache.seen(packet('a/2', 'z'), 0)
    cache.seen(packet('b', 'w'), 0)
    expect(topics(cache.matching('a/+', 0))).toEqual(['a/1=y', 'a/2=z'])
    expect(topics(cache.matching('#', 0))).toEqual(['a/1=y', 'a/2=z', 'b=w'])
    expect(topics(cache.matching('b', 0))).toEqual(['b=w'])
    expect(cache.matching('c', 0)).toEqual([])
  })

  it('forgets a topic on a live message (it may have replaced the retained one) and on an empty retained one', () => {
    const cache = new RetainedCache()
    cache.seen(packet('a', 'kept'), 0)
    cache.seen(packet('b', 'kept'), 0)
    cache.seen(packet('a', 'live', false), 0)
    cache.seen(packet('b', ''), 0)
    expect(cache.matching('#', 0)).toEqual([])
  })

  it("says whether a message is still its topic's newest", () => {
    const cache = new RetainedCache()
    const first = packet('a', '1')
    cache.seen(first, 0)
    expect(cache.current(first)).toBe(true)
    cache.seen(packet('a', '2'), 0)
    expect(cache.current(first)).toBe(false)
  })

  it('leaves out a message whose MQTT 5 expiry has passed since it came', () => {
    const cache = new RetainedCache()
    cache.seen(packet('a', 'short', true, 2), 1_000)
    expect(topics(cache.matching('a', 2_999))).toEqual(['a=short'])
    expect(cache.matching('a', 3_000)).toEqual([])
  })

  it('drops the topics no filter still held matches', () => {
    const cache = new RetainedCache()
    for (const topic of ['a/1', 'b/1', 'c']) cache.seen(packet(topic, 'v'), 0)
    cache.keepOnly(['a/+', 'c'])
    expect(topics(cache.matching('#', 0))).toEqual(['a/1=v', 'c=v'])
  })
})
