import { describe, expect, it } from 'vitest'
import nextTickModule, { nextTick } from '../../../src/codec/shims/next-tick.js'

/** Resolves after the microtasks queued before it have run. */
const afterQueuedMicrotasks = () => new Promise<void>((resolve) => queueMicrotask(resolve))

describe('nextTick shim (process-nextick-args stand-in)', () => {
  it('calls the callback later, not synchronously, with the arguments given', async () => {
    const calls: unknown[][] = []
    nextTick((...args) => calls.push(args), 1, 'two')
    expect(calls).toEqual([])
    await afterQueuedMicrotasks()
    expect(calls).toEqual([[1, 'two']])
  })

  it('offers nextTick on its default export too, as process-nextick-args does', async () => {
    const calls: unknown[][] = []
    nextTickModule.nextTick((...args) => calls.push(args), 'x')
    await afterQueuedMicrotasks()
    expect(calls).toEqual([['x']])
  })
})
