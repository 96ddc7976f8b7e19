import { describe, expect, it } from 'vitest'
import { BufferOverflowError } from '../../../src/errors.js'
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

describe('MessageIterator buffer limit', () => {
  const policy = (limit: number, overflow: 'drop-oldest' | 'drop-newest' | 'error') => ({ limit, overflow, filter: 'f/#' })
  const deliverAll = (it: MessageIterator<number>, from: number, to: number) => {
    for (let n = from; n <= to; n++) it.deliver(n)
  }

  it('drop-oldest: holds at most the limit, keeps the newest, and counts each message it dropped', async () => {
    const it = new MessageIterator<number>(() => undefined, policy(3, 'drop-oldest'))
    deliverAll(it, 1, 5)
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 3, dropped: 2 })
    it.end()
    expect(await drain(it)).toEqual([3, 4, 5])
  })

  it('drop-newest: keeps the first messages up to the limit and discards what comes after', async () => {
    const it = new MessageIterator<number>(() => undefined, policy(3, 'drop-newest'))
    deliverAll(it, 1, 5)
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 3, dropped: 2 })
    it.end()
    expect(await drain(it)).toEqual([1, 2, 3])
  })

  it('error: at one message over the limit stops listening, once, and hands over what it holds before the BufferOverflowError', async () => {
    const { calls, onReturn } = counter()
    const it = new MessageIterator<number>(onReturn, policy(2, 'error'))
    deliverAll(it, 1, 2)
    expect(calls.n).toBe(0)
    deliverAll(it, 3, 4)
    expect(calls.n).toBe(1)
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 2, dropped: 1 })
    expect(await it.next()).toEqual({ value: 1, done: false })
    expect(await it.next()).toEqual({ value: 2, done: false })
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(BufferOverflowError)
    expect((err as BufferOverflowError).code).toBe('BUFFER_OVERFLOW')
    expect((err as Error).message).toBe('messages("f/#") fell 2 messages behind (its bufferLimit) and stopped')
    await it.return()
    expect(calls.n).toBe(1)
  })

  it('buffers and drops nothing for a consumer that keeps up: a waiting read takes the message straight', async () => {
    const it = new MessageIterator<number>(() => undefined, policy(1, 'drop-oldest'))
    for (let n = 1; n <= 5; n++) {
      const read = it.next()
      it.deliver(n)
      expect(await read).toEqual({ value: n, done: false })
    }
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 0, dropped: 0 })
  })

  it('counts down as the consumer reads, makes room again below the limit, and holds nothing after return()', async () => {
    const it = new MessageIterator<number>(() => undefined, policy(2, 'drop-newest'))
    deliverAll(it, 1, 2)
    await it.next()
    expect(it.buffered).toBe(1)
    it.deliver(3)
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 2, dropped: 0 })
    await it.return()
    expect(it.buffered).toBe(0)
  })

  it('does not count messages that come after the end as dropped: only a full buffer drops', () => {
    const it = new MessageIterator<number>(() => undefined, policy(1, 'drop-oldest'))
    it.end()
    deliverAll(it, 1, 3)
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 0, dropped: 0 })
  })

  it('keeps every message when no policy is given (the unbounded default is for internal use)', () => {
    const it = new MessageIterator<number>(() => undefined)
    deliverAll(it, 1, 5000)
    expect({ buffered: it.buffered, dropped: it.dropped }).toEqual({ buffered: 5000, dropped: 0 })
  })

  it('MessageIterator.failed makes a stream that rejects at its first read with the error it is given', async () => {
    const error = new Error('bad options')
    await expect(MessageIterator.failed<number>(error).next()).rejects.toBe(error)
  })
})

describe('MessageIterator end() once it is done', () => {
  it('after a buffer overflow, end() keeps what it holds and the BufferOverflowError after it', async () => {
    const it = new MessageIterator<number>(() => undefined, { limit: 1, overflow: 'error', filter: 'x' })
    it.deliver(1)
    it.deliver(2)
    it.end()
    expect(await it.next()).toEqual({ value: 1, done: false })
    await expect(it.next()).rejects.toBeInstanceOf(BufferOverflowError)
  })

  it('after end(), a read finishes at once rather than waiting, so a second end() has nobody to finish', async () => {
    const it = new MessageIterator<number>(() => undefined)
    it.end()
    const read = it.next()
    it.end()
    expect(await settledValue(read)).toEqual({ value: undefined, done: true })
    it.deliver(1)
    expect(await settledValue(it.next())).toEqual({ value: undefined, done: true })
  })
})
