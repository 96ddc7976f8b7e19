import { describe, expect, it } from 'vitest'
import type { Subscription } from '../../../src/codec/packets.js'
import { MessageIterator } from '../../../src/routing/message-iterator.js'
import { Router, type Sink } from '../../../src/routing/router.js'

type M = { topic: string; n: number }
const collect = () => {
  const got: number[] = []
  const sink: Sink<M> & { ended: boolean } = { deliver: (m) => got.push(m.n), end: () => void (sink.ended = true), ended: false }
  return { got, sink }
}

describe('Router', () => {
  it('delivers a message only to the sinks whose filter matches', () => {
    const r = new Router<M>()
    const exact = collect()
    const wild = collect()
    const other = collect()
    r.add({ topic: 'a/b', qos: 0 }, exact.sink)
    r.add({ topic: 'a/+', qos: 1 }, wild.sink)
    r.add({ topic: 'c/#', qos: 0 }, other.sink)
    r.dispatch({ topic: 'a/b', n: 1 }, () => undefined)
    r.dispatch({ topic: 'a/c', n: 2 }, () => undefined)
    expect(exact.got).toEqual([1])
    expect(wild.got).toEqual([1, 2])
    expect(other.got).toEqual([])
  })

  it('keeps delivering to other sinks when one throws, and reports the error', () => {
    const r = new Router<M>()
    const good = collect()
    const errors: unknown[] = []
    r.add({ topic: 't', qos: 0 }, { deliver: () => { throw new Error('boom') }, end: () => undefined })
    r.add({ topic: 't', qos: 0 }, good.sink)
    r.dispatch({ topic: 't', n: 1 }, (e) => errors.push(e))
    expect(good.got).toEqual([1])
    expect(errors).toHaveLength(1)
  })

  it('ends the sinks of a removed filter and of all filters on clear', () => {
    const r = new Router<M>()
    const a = collect()
    const b = collect()
    r.add({ topic: 'a', qos: 0 }, a.sink)
    r.add({ topic: 'b/#', qos: 0 }, b.sink)
    r.remove('a')
    expect(a.sink.ended).toBe(true)
    expect(r.has('a')).toBe(false)
    r.clear()
    expect(b.sink.ended).toBe(true)
    expect(r.subscriptions()).toEqual([])
  })

  it('records each subscription once, with its latest options', () => {
    const r = new Router<M>()
    r.add({ topic: 'a', qos: 0 })
    r.add({ topic: 'a', qos: 2 })
    r.add({ topic: 'b/+', qos: 1 })
    expect(r.subscriptions()).toEqual([{ topic: 'a', qos: 2 }, { topic: 'b/+', qos: 1 }])
  })
})

describe('Router sinks and bookkeeping', () => {
  const noErrors = () => {
    const errors: unknown[] = []
    return { errors, onError: (e: unknown) => void errors.push(e) }
  }

  it('records a subscription without a sink, and delivering to it reaches no one and reports nothing', () => {
    const r = new Router<M>()
    const { errors, onError } = noErrors()
    r.add({ topic: 'a', qos: 1 })
    r.add({ topic: 'a/+', qos: 0 })
    expect(r.has('a')).toBe(true)
    expect(r.has('a/+')).toBe(true)
    expect(r.has('b')).toBe(false)
    r.dispatch({ topic: 'a', n: 1 }, onError)
    r.dispatch({ topic: 'a/b', n: 2 }, onError)
    expect(errors).toEqual([])
  })

  it('keeps the sinks of a filter when it is subscribed again with new options', () => {
    const r = new Router<M>()
    const s = collect()
    r.add({ topic: 'a', qos: 0 }, s.sink)
    r.add({ topic: 'a', qos: 2 })
    expect(r.subscriptions()).toEqual([{ topic: 'a', qos: 2 }])
    r.dispatch({ topic: 'a', n: 1 }, () => undefined)
    expect(s.got).toEqual([1])
  })

  it('delivers once to a sink added twice to the same filter', () => {
    const r = new Router<M>()
    const s = collect()
    r.add({ topic: 'a', qos: 0 }, s.sink)
    r.add({ topic: 'a', qos: 0 }, s.sink)
    r.addSink('a', s.sink)
    r.dispatch({ topic: 'a', n: 1 }, () => undefined)
    expect(s.got).toEqual([1])
  })

  it('adds a sink to a recorded filter without changing its subscription, and ignores an unknown filter', () => {
    const r = new Router<M>()
    const first = collect()
    const second = collect()
    const stray = collect()
    r.add({ topic: 'a/+', qos: 1 }, first.sink)
    r.addSink('a/+', second.sink)
    r.addSink('b', stray.sink)
    expect(r.has('b')).toBe(false)
    r.dispatch({ topic: 'a/x', n: 1 }, () => undefined)
    r.dispatch({ topic: 'b', n: 2 }, () => undefined)
    expect(first.got).toEqual([1])
    expect(second.got).toEqual([1])
    expect(stray.got).toEqual([])
    expect(r.subscriptions()).toEqual([{ topic: 'a/+', qos: 1 }])
  })

  it('removes one sink at a time and says when the filter has none left', () => {
    const r = new Router<M>()
    const a = collect()
    const b = collect()
    r.add({ topic: 't', qos: 0 }, a.sink)
    r.add({ topic: 't', qos: 0 }, b.sink)
    expect(r.removeSink('t', a.sink)).toBe(false)
    r.dispatch({ topic: 't', n: 1 }, () => undefined)
    expect(a.got).toEqual([])
    expect(b.got).toEqual([1])
    expect(r.removeSink('t', b.sink)).toBe(true)
    r.dispatch({ topic: 't', n: 2 }, () => undefined)
    expect(b.got).toEqual([1])
    // The filter stays recorded until it is forgotten or removed, and its sinks are not ended.
    expect(r.has('t')).toBe(true)
    expect(a.sink.ended).toBe(false)
    expect(b.sink.ended).toBe(false)
  })

  it('keeps the others, in order, when one of three sinks goes, and leaves them be when a stranger is removed', () => {
    const r = new Router<M>()
    const [a, b, c, stranger] = [collect(), collect(), collect(), collect()]
    r.add({ topic: 't', qos: 0 }, a.sink)
    r.addSink('t', b.sink)
    r.addSink('t', c.sink)
    expect(r.removeSink('t', stranger.sink)).toBe(false)
    expect(r.removeSink('t', b.sink)).toBe(false)
    r.dispatch({ topic: 't', n: 1 }, () => undefined)
    expect([a.got, b.got, c.got]).toEqual([[1], [], [1]])
    expect(r.removeSink('t', a.sink)).toBe(false)
    r.dispatch({ topic: 't', n: 2 }, () => undefined)
    expect([a.got, c.got]).toEqual([[1], [1, 2]])
  })

  it('calls a handler once for each subscribe that gave it, and still after one of them is removed', () => {
    const r = new Router<M>()
    const got: number[] = []
    const handler = (m: M) => got.push(m.n)
    r.add({ topic: 't', qos: 0 }, handler)
    r.add({ topic: 't', qos: 0 }, handler)
    r.dispatch({ topic: 't', n: 1 }, () => undefined)
    expect(r.removeSink('t', handler)).toBe(false)
    r.dispatch({ topic: 't', n: 2 }, () => undefined)
    expect(got).toEqual([1, 1, 2])
  })

  it('says an unknown filter has no sinks left when asked to remove one', () => {
    const r = new Router<M>()
    expect(r.removeSink('nothing', collect().sink)).toBe(true)
  })

  it('forgets a refused filter, failing the sinks that can be told why and ending the others', async () => {
    const r = new Router<M>()
    const exact = collect()
    const wild = collect()
    const iterator = new MessageIterator<M>(() => undefined)
    const handler = (_m: M) => undefined
    r.add({ topic: 'a', qos: 0 }, exact.sink)
    r.addSink('a', iterator)
    r.addSink('a', handler)
    r.add({ topic: 'b/#', qos: 0 }, wild.sink)
    const refused = new Error('refused')
    r.forget('a', refused)
    r.forget('b/#', refused)
    expect(r.has('a')).toBe(false)
    expect(r.has('b/#')).toBe(false)
    expect(exact.sink.ended).toBe(true)
    expect(wild.sink.ended).toBe(true)
    await expect(iterator.next()).rejects.toBe(refused)
    r.dispatch({ topic: 'a', n: 1 }, () => undefined)
    r.dispatch({ topic: 'b/c', n: 2 }, () => undefined)
    expect(exact.got).toEqual([])
    expect(wild.got).toEqual([])
    expect(r.subscriptions()).toEqual([])
  })

  it('keeps delivering to the other filters subscribed alike when one of them is forgotten or changed', () => {
    const r = new Router<M>()
    const [a, b, c, d] = [collect(), collect(), collect(), collect()]
    r.add({ topic: 'a', qos: 1 }, a.sink)
    r.add({ topic: 'b', qos: 1 }, b.sink)
    r.add({ topic: 'c/+', qos: 1 }, c.sink)
    r.add({ topic: 'd/+', qos: 1 }, d.sink)
    r.forget('a', new Error('refused'))
    r.add({ topic: 'c/+', qos: 2 })
    r.remove('d/+')
    r.dispatch({ topic: 'b', n: 1 }, () => undefined)
    r.dispatch({ topic: 'c/x', n: 2 }, () => undefined)
    expect([a.got, b.got, c.got, d.got]).toEqual([[], [1], [2], []])
    expect(r.has('b')).toBe(true)
  })

  it('still finds exact filters of other subscriptions when the last filter of one kind goes', () => {
    const r = new Router<M>()
    const [once, kept] = [collect(), collect()]
    r.add({ topic: 'x', qos: 0 }, once.sink)
    r.add({ topic: 'y', qos: 2 }, kept.sink)
    r.remove('x')
    r.dispatch({ topic: 'y', n: 1 }, () => undefined)
    expect(kept.got).toEqual([1])
  })

  it('delivers nothing, and fails nothing, after clear', () => {
    const r = new Router<M>()
    const s = collect()
    r.add({ topic: 'a', qos: 0 }, s.sink)
    r.clear()
    const errors: unknown[] = []
    expect(() => r.dispatch({ topic: 'a', n: 1 }, (e) => errors.push(e))).not.toThrow()
    expect([s.got, errors]).toEqual([[], []])
  })

  it('ignores the removal of a filter it never recorded', () => {
    const r = new Router<M>()
    const s = collect()
    r.add({ topic: 'a', qos: 0 }, s.sink)
    expect(() => r.forget('b', new Error('refused'))).not.toThrow()
    expect(() => r.remove('b')).not.toThrow()
    expect(() => r.remove('b/+')).not.toThrow()
    expect(s.sink.ended).toBe(false)
    expect(r.has('a')).toBe(true)
  })

  it('lists only the filters the broker granted when asked for confirmed ones', () => {
    const r = new Router<M>()
    r.add({ topic: 'a', qos: 0 })
    r.add({ topic: 'b/+', qos: 1 })
    r.add({ topic: 'c', qos: 2 })
    expect(r.subscriptions({ confirmedOnly: true })).toEqual([])
    r.confirm('b/+')
    r.confirm('c')
    r.confirm('unknown')
    expect(r.has('unknown')).toBe(false)
    // The order of the list is not specified.
    const byTopic = (subs: Subscription[]) => [...subs].sort((x, y) => x.topic.localeCompare(y.topic))
    expect(byTopic(r.subscriptions({ confirmedOnly: true }))).toEqual([{ topic: 'b/+', qos: 1 }, { topic: 'c', qos: 2 }])
    expect(r.subscriptions()).toHaveLength(3)
  })

  it('keeps a filter ungranted when it is subscribed again with new options before the broker answers', () => {
    const r = new Router<M>()
    r.add({ topic: 'a', qos: 0 })
    r.add({ topic: 'a', qos: 2 })
    expect(r.subscriptions({ confirmedOnly: true })).toEqual([])
    r.confirm('a')
    r.add({ topic: 'a', qos: 1 })
    expect(r.subscriptions({ confirmedOnly: true })).toEqual([{ topic: 'a', qos: 1 }])
  })

  it('forgets whether a filter was granted once it is removed, so subscribing to it again starts ungranted', () => {
    const r = new Router<M>()
    r.add({ topic: 'a/+', qos: 1 })
    r.confirm('a/+')
    r.remove('a/+')
    r.add({ topic: 'a/+', qos: 1 })
    expect(r.subscriptions({ confirmedOnly: true })).toEqual([])
    expect(r.subscriptions()).toEqual([{ topic: 'a/+', qos: 1 }])
  })

  it('records the QoS of a filter, and nothing for an unknown one', () => {
    const r = new Router<M>()
    r.add({ topic: 'a/#', qos: 1 })
    expect(r.subscriptions()).toEqual([{ topic: 'a/#', qos: 1 }])
    expect(r.has('a')).toBe(false)
  })

  it('gives back each MQTT 5 option exactly as given, and leaves out those not given', () => {
    const r = new Router<M>()
    const given = [
      { topic: 'a', qos: 2 as const, nl: true, rap: false, rh: 2 as const },
      { topic: 'b', qos: 1 as const, rap: true },
      { topic: 'c', qos: 0 as const, nl: false, rh: 0 as const },
      { topic: 'd', qos: 1 as const, rh: 1 as const },
    ]
    for (const sub of given) r.add(sub)
    expect(r.subscriptions()).toEqual(given)
    expect(r.subscriptions().map((s) => Object.keys(s).sort())).toEqual(given.map((s) => Object.keys(s).sort()))
  })

  it('delivers to a shared subscription by the filter after its group', () => {
    const r = new Router<M>()
    const shared = collect()
    const sharedWild = collect()
    r.add({ topic: '$share/g/a/b', qos: 0 }, shared.sink)
    r.add({ topic: '$share/g/a/+', qos: 0 }, sharedWild.sink)
    r.dispatch({ topic: 'a/b', n: 1 }, () => undefined)
    r.dispatch({ topic: '$share/g/a/b', n: 2 }, () => undefined)
    expect(shared.got).toEqual([1])
    expect(sharedWild.got).toEqual([1])
    expect(r.has('$share/g/a/b')).toBe(true)
    r.remove('$share/g/a/b')
    expect(shared.sink.ended).toBe(true)
    expect(r.has('$share/g/a/b')).toBe(false)
  })
})

describe('MessageIterator', () => {
  it('yields pushed messages in order, including ones pushed before the consumer pulls', async () => {
    const it = new MessageIterator<number>(() => undefined)
    it.deliver(1)
    const pending = it.next()
    it.deliver(2)
    expect(await pending).toEqual({ value: 1, done: false })
    expect(await it.next()).toEqual({ value: 2, done: false })
  })

  it('finishes a for-await loop after end(), once waiting messages are read', async () => {
    const it = new MessageIterator<number>(() => undefined)
    it.deliver(1)
    it.deliver(2)
    it.end()
    const seen: number[] = []
    for await (const n of it) seen.push(n)
    expect(seen).toEqual([1, 2])
  })

  it('throws in the consumer after fail()', async () => {
    const it = new MessageIterator<number>(() => undefined)
    const pending = it.next()
    it.fail(new Error('refused'))
    await expect(pending).rejects.toThrow('refused')
    await expect(it.next()).rejects.toThrow('refused')
  })

  it('calls onReturn once when the consumer breaks out', async () => {
    let returned = 0
    const it = new MessageIterator<number>(() => returned++)
    it.deliver(1)
    for await (const _ of it) break
    await it.return()
    expect(returned).toBe(1)
  })
})

describe('Router with MQTT 5 subscription identifiers', () => {
  it('gives each filter back with the identifier and user properties it was subscribed with', () => {
    const r = new Router<M>()
    r.add({ topic: 'a/+', qos: 1 }, undefined, { subscriptionIdentifier: 268_435_455, userProperties: { app: 'x' } })
    r.add({ topic: 'b', qos: 2, nl: true, rh: 2 }, undefined, { subscriptionIdentifier: 7 })
    r.add({ topic: 'c', qos: 0 })
    const byTopic = (subs: Subscription[]) => [...subs].sort((x, y) => x.topic.localeCompare(y.topic))
    expect(byTopic(r.subscriptions())).toEqual([
      { topic: 'a/+', qos: 1, properties: { subscriptionIdentifier: 268_435_455, userProperties: { app: 'x' } } },
      { topic: 'b', qos: 2, nl: true, rh: 2, properties: { subscriptionIdentifier: 7 } },
      { topic: 'c', qos: 0 },
    ])
  })

  it('forgets an identifier and user properties when the filter is subscribed again without them', () => {
    const r = new Router<M>()
    r.add({ topic: 'a', qos: 1 }, undefined, { subscriptionIdentifier: 3, userProperties: { k: 'v' } })
    r.add({ topic: 'a', qos: 1 })
    expect(r.subscriptions()).toEqual([{ topic: 'a', qos: 1 }])
  })

  it('delivers a message naming identifiers to those filters and to unidentified ones, each sink once', () => {
    const r = new Router<M>()
    const [one, two, plain, other] = [collect(), collect(), collect(), collect()]
    const both: number[] = []
    const handler = (m: M) => both.push(m.n)
    r.add({ topic: 'a/+', qos: 0 }, one.sink, { subscriptionIdentifier: 1 })
    r.add({ topic: 'a/#', qos: 0 }, two.sink, { subscriptionIdentifier: 2 })
    r.add({ topic: 'a/b', qos: 0 }, plain.sink)
    r.add({ topic: '#', qos: 0 }, other.sink, { subscriptionIdentifier: 3 })
    r.addSink('a/+', handler as Sink<M>)
    r.addSink('a/#', handler as Sink<M>)
    r.dispatch({ topic: 'a/b', n: 1 }, () => undefined, [1, 2])
    expect([one.got, two.got, plain.got, other.got, both]).toEqual([[1], [1], [1], [], [1]])
    // Without identifiers every matching filter delivers, as in MQTT 3.1.1.
    r.dispatch({ topic: 'a/b', n: 2 }, () => undefined)
    expect([one.got, two.got, plain.got, other.got, both]).toEqual([[1, 2], [1, 2], [1, 2], [2], [1, 2, 2]])
  })

  it('delivers by identifier only where the filter also matches the topic', () => {
    const r = new Router<M>()
    const [a, b] = [collect(), collect()]
    r.add({ topic: 'a/#', qos: 0 }, a.sink, { subscriptionIdentifier: 5 })
    r.add({ topic: 'b/#', qos: 0 }, b.sink, { subscriptionIdentifier: 5 })
    r.dispatch({ topic: 'a/x', n: 1 }, () => undefined, [5])
    expect([a.got, b.got]).toEqual([[1], []])
  })

  it('treats an empty identifier list as none: every matching filter delivers', () => {
    const r = new Router<M>()
    const [one, plain] = [collect(), collect()]
    r.add({ topic: 'a', qos: 0 }, one.sink, { subscriptionIdentifier: 1 })
    r.add({ topic: 'a/#', qos: 0 }, plain.sink)
    r.dispatch({ topic: 'a', n: 1 }, () => undefined, [])
    expect([one.got, plain.got]).toEqual([[1], [1]])
  })

  it('gives back no identifier for a filter with user properties alone, and no user properties for one with an identifier alone', () => {
    const r = new Router<M>()
    r.add({ topic: 'u', qos: 0 }, undefined, { userProperties: { k: 'v' } })
    r.add({ topic: 'i', qos: 0 }, undefined, { subscriptionIdentifier: 9 })
    const byTopic = Object.fromEntries(r.subscriptions().map((s) => [s.topic, s.properties]))
    expect(byTopic.u).toStrictEqual({ userProperties: { k: 'v' } })
    expect(byTopic.i).toStrictEqual({ subscriptionIdentifier: 9 })
  })
})
