import { describe, expect, it } from 'vitest'
import { MessageIterator } from '../../../src/routing/message-iterator.js'

const PENDING = Symbol('pending')

/** The value a promise has already settled with, or PENDING; settles nothing by waiting on timers. */
function settledValue<T>(promise: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([promise, Promise.resolve(PENDING)])
}

/** Reads whatever the iterator has until it ends, without waiting for more. */
async function drain<M>(it: MessageIterator<M>): Promise<M[]> {
  const seen: M[] = []
  for (;;) {
    const r = await settledValue(it.next())
    if (r === PENDING) throw new Error('the iterator is still waiting for messages')
    if (r.done) return seen
    seen.push(r.value)
  }
}

const counter = () => {
  const calls = { n: 0 }
  return { calls, onReturn: () => void calls.n++ }
}

describe('MessageIterator delivery', () => {
  it('hands a message straight to a consumer that is already waiting', async () => {
    const it = new MessageIterator<string>(() => undefined)
    const first = it.next()
    const second = it.next()
    expect(await settledValue(first)).toBe(PENDING)
    it.deliver('a')
    it.deliver('b')
    expect(await settledValue(first)).toEqual({ value: 'a', done: false })
    expect(await settledValue(second)).toEqual({ value: 'b', done: false })
    expect(await settledValue(it.next())).toBe(PENDING)
  })

  it('finishes a waiting consumer when it ends', async () => {
    const it = new MessageIterator<string>(() => undefined)
    const pending = it.next()
    it.end()
    expect(await settledValue(pending)).toEqual({ value: undefined, done: true })
    expect(await it.next()).toEqual({ value: undefined, done: true })
  })

  it('drops messages delivered after end, but keeps those that came before', async () => {
    const it = new MessageIterator<string>(() => undefined)
    it.deliver('before')
    it.end()
    it.deliver('after')
    expect(await drain(it)).toEqual(['before'])
  })

  it('ending twice changes nothing', async () => {
    const it = new MessageIterator<string>(() => undefined)
    it.deliver('a')
    it.end()
    it.end()
    expect(await drain(it)).toEqual(['a'])
  })
})

describe('MessageIterator failure', () => {
  it('discards waiting messages and rejects every later read with the error', async () => {
    const it = new MessageIterator<string>(() => undefined)
    it.deliver('lost')
    const error = new Error('refused')
    it.fail(error)
    await expect(it.next()).rejects.toBe(error)
    await expect(it.next()).rejects.toBe(error)
  })

  it('ignores messages delivered after a failure', async () => {
    const it = new MessageIterator<string>(() => undefined)
    const error = new Error('refused')
    it.fail(error)
    it.deliver('late')
    await expect(it.next()).rejects.toBe(error)
  })

  it('keeps the first error when it fails twice', async () => {
    const it = new MessageIterator<string>(() => undefined)
    const first = new Error('first')
    it.fail(first)
    it.fail(new Error('second'))
    await expect(it.next()).rejects.toBe(first)
  })

  it('does not fail once it has ended: the messages read so far still come, then the end', async () => {
    const it = new MessageIterator<string>(() => undefined)
    it.deliver('a')
    it.end()
    it.fail(new Error('too late'))
    expect(await drain(it)).toEqual(['a'])
  })

  it('stays failed when end() comes after fail()', async () => {
    const it = new MessageIterator<string>(() => undefined)
    const error = new Error('refused')
    it.fail(error)
    it.end()
    await expect(it.next()).rejects.toBe(error)
  })
})

describe('MessageIterator return (break in for-await)', () => {
  it('stops listening at once when the consumer breaks out, and reports it exactly once', async () => {
    const { calls, onReturn } = counter()
    const it = new MessageIterator<number>(onReturn)
    it.deliver(1)
    it.deliver(2)
    for await (const n of it) {
      expect(n).toBe(1)
      break
    }
    expect(calls.n).toBe(1)
    expect(await it.return()).toEqual({ value: undefined, done: true })
    expect(calls.n).toBe(1)
    // The message left unread is dropped, and nothing delivered later comes through.
    it.deliver(3)
    expect(await it.next()).toEqual({ value: undefined, done: true })
  })

  it('answers return() with a finished result', async () => {
    const it = new MessageIterator<number>(() => undefined)
    expect(await it.return()).toEqual({ value: undefined, done: true })
  })

  it('finishes a consumer that is waiting when return() is called', async () => {
    const it = new MessageIterator<number>(() => undefined)
    const pending = it.next()
    await it.return()
    expect(await settledValue(pending)).toEqual({ value: undefined, done: true })
  })

  it('does not report a return after the iterator already ended or failed', async () => {
    const ended = counter()
    const a = new MessageIterator<number>(ended.onReturn)
    a.end()
    await a.return()
    expect(ended.calls.n).toBe(0)

    const failed = counter()
    const b = new MessageIterator<number>(failed.onReturn)
    b.fail(new Error('x'))
    await b.return()
    expect(failed.calls.n).toBe(0)
  })

  it('is its own async iterator', () => {
    const it = new MessageIterator<number>(() => undefined)
    expect(it[Symbol.asyncIterator]()).toBe(it)
  })
})
