import { BufferOverflowError } from '../errors.js'
import type { Subscriber } from './router.js'

/** An async iterator of messages that also says how far its consumer has fallen behind. */
export interface MessageStream<M> extends AsyncIterableIterator<M> {
  /** Messages that came and wait to be read. */
  readonly buffered: number
  /** Messages thrown away because the buffer was full when they came (see MessagesOptions' bufferLimit and overflow). */
  readonly dropped: number
  /** Stops listening (what `break` in a for-await loop calls); the messages still waiting are let go. */
  return(): Promise<IteratorResult<M>>
}

/**
 * How many messages may wait for a consumer, and what one more does when that many wait:
 * - 'drop-oldest': the oldest waiting message makes room, so a consumer that catches up reads the newest;
 * - 'drop-newest': the new one is thrown away, so the consumer reads an unbroken run up to where it fell behind;
 * - 'error': the stream stops taking messages and stops listening; the consumer reads what waits,
 *   then a BufferOverflowError.
 * Messages are counted, not bytes: the count costs nothing per message, and a caller with big
 * messages sets a smaller limit.
 */
export interface BufferPolicy {
  limit: number
  overflow: 'drop-oldest' | 'drop-newest' | 'error'
  /** The filter, for the BufferOverflowError's message. */
  filter: string
}

/**
 * An async iterator fed by pushes: messages wait in order until the consumer pulls them, up to the
 * policy's limit. It ends when end() is called (after the waiting messages are read) and throws
 * after fail().
 */
export class MessageIterator<M> implements MessageStream<M>, Subscriber<M> {
  private readonly buffer: M[] = []
  private readonly waiting: Array<{ resolve: (r: IteratorResult<M>) => void; reject: (e: unknown) => void }> = []
  private done = false
  private error: unknown
  private droppedCount = 0

  constructor(
    private readonly onReturn: () => void,
    /** Without one, every message waits, however many. */
    private readonly policy?: BufferPolicy,
  ) {}

  /** An iterator that throws `error` at its first read: for a stream whose arguments were refused. */
  static failed<M>(error: unknown): MessageIterator<M> {
    const iterator = new MessageIterator<M>(() => undefined)
    iterator.fail(error)
    return iterator
  }

  get buffered(): number {
    return this.buffer.length
  }

  get dropped(): number {
    return this.droppedCount
  }

  deliver(message: M): void {
    if (this.done) return
    const waiter = this.waiting.shift()
    if (waiter) return waiter.resolve({ value: message, done: false })
    const policy = this.policy
    if (!policy || this.buffer.length < policy.limit) return void this.buffer.push(message)
    this.droppedCount++
    if (policy.overflow === 'drop-oldest') {
      this.buffer.shift()
      this.buffer.push(message)
    } else if (policy.overflow === 'error') {
      // Unlike fail(), what waits is kept: the consumer reads it, then learns where the gap is.
      this.error = new BufferOverflowError(policy.filter, policy.limit)
      this.done = true
      this.onReturn()
    }
  }

  /** Once done, nobody waits (next() waits only before), so ending again changes nothing. */
  end(): void {
    this.done = true
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true })
  }

  fail(error: unknown): void {
    if (this.done) return
    this.error = error
    this.done = true
    this.buffer.length = 0
    for (const waiter of this.waiting.splice(0)) waiter.reject(error)
  }

  next(): Promise<IteratorResult<M>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as M, done: false })
    if (this.error !== undefined) return Promise.reject(this.error)
    if (this.done) return Promise.resolve({ value: undefined, done: true })
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }))
  }

  /** `break` in a for-await loop lands here: stop listening. */
  return(): Promise<IteratorResult<M>> {
    const wasDone = this.done
    this.end()
    this.buffer.length = 0
    if (!wasDone) this.onReturn()
    return Promise.resolve({ value: undefined, done: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
