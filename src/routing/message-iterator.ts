import type { Subscriber } from './router.js'

/**
 * An async iterator fed by pushes: messages wait in order until the consumer pulls them. It ends
 * when end() is called (after the waiting messages are read) and throws after fail().
 */
export class MessageIterator<M> implements AsyncIterableIterator<M>, Subscriber<M> {
  private readonly buffer: M[] = []
  private readonly waiting: Array<{ resolve: (r: IteratorResult<M>) => void; reject: (e: unknown) => void }> = []
  private done = false
  private error: unknown

  constructor(private readonly onReturn: () => void) {}

  deliver(message: M): void {
    if (this.done) return
    const waiter = this.waiting.shift()
    if (waiter) waiter.resolve({ value: message, done: false })
    else this.buffer.push(message)
  }

  end(): void {
    if (this.done) return
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
