import { describe, expect, it } from 'vitest'
import { MessageIterator } from '../../src/routing/message-iterator.js'
import { Router, type Sink } from '../../src/routing/router.js'

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
