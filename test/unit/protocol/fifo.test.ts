import { describe, expect, it } from 'vitest'
import { Fifo } from '../../../src/protocol/fifo.js'

function fifoOf<T>(items: readonly T[]): Fifo<T> {
  const q = new Fifo<T>()
  for (const item of items) q.push(item)
  return q
}

/** Shifts until empty, returning what came out in order. */
function shiftAll<T>(q: Fifo<T>): T[] {
  const out: T[] = []
  while (q.length > 0) out.push(q.shift() as T)
  return out
}

describe('Fifo', () => {
  it('starts empty', () => {
    const q = new Fifo<number>()
    expect(q.length).toBe(0)
    expect(q.peek()).toBeUndefined()
    expect(q.shift()).toBeUndefined()
  })

  it('gives items back in the order they were pushed', () => {
    const q = fifoOf(['a', 'b', 'c'])
    expect(q.length).toBe(3)
    expect(q.peek()).toBe('a')
    expect(q.shift()).toBe('a')
    expect(q.peek()).toBe('b')
    expect(q.length).toBe(2)
    expect(shiftAll(q)).toEqual(['b', 'c'])
  })

  it('stays empty, with length 0, when shifted past its end', () => {
    const q = fifoOf([1])
    expect(q.shift()).toBe(1)
    expect(q.shift()).toBeUndefined()
    expect(q.shift()).toBeUndefined()
    expect(q.length).toBe(0)
    q.push(2)
    expect(q.length).toBe(1)
    expect(q.peek()).toBe(2)
    expect(q.shift()).toBe(2)
  })

  it('keeps order and length over long runs of interleaved pushes and shifts', () => {
    const q = new Fifo<number>()
    const out: number[] = []
    const wrongLengths: number[] = []
    let pushed = 0
    // Far past the point where consumed slots are dropped, with items always waiting.
    for (let round = 0; round < 3000; round++) {
      q.push(pushed++)
      q.push(pushed++)
      out.push(q.shift() as number)
      if (q.length !== pushed - out.length) wrongLengths.push(round)
    }
    expect(wrongLengths).toEqual([])
    expect(q.peek()).toBe(out.length)
    out.push(...shiftAll(q))
    expect(out).toEqual(Array.from({ length: pushed }, (_, i) => i))
  })

  it('keeps order when drained to empty many times', () => {
    const q = new Fifo<number>()
    for (let round = 0; round < 5; round++) {
      const batch = Array.from({ length: 1500 }, (_, i) => round * 10_000 + i)
      for (const x of batch) q.push(x)
      expect(q.length).toBe(1500)
      expect(shiftAll(q)).toEqual(batch)
      expect(q.length).toBe(0)
      expect(q.peek()).toBeUndefined()
    }
  })

  it('puts unshifted items ahead of everything waiting, keeping their order', () => {
    const q = fifoOf(['x', 'a', 'b'])
    q.shift()
    q.unshiftAll(['r1', 'r2'])
    expect(q.length).toBe(4)
    expect(q.peek()).toBe('r1')
    expect(shiftAll(q)).toEqual(['r1', 'r2', 'a', 'b'])
  })

  it('unshifts into an empty queue, and unshifting nothing changes nothing', () => {
    const q = new Fifo<number>()
    q.unshiftAll([1, 2])
    expect(shiftAll(q)).toEqual([1, 2])
    const r = fifoOf([3, 4])
    r.unshiftAll([])
    expect(r.length).toBe(2)
    expect(shiftAll(r)).toEqual([3, 4])
  })

  it('drains every waiting item oldest first, and is empty afterwards', () => {
    const q = fifoOf([1, 2, 3, 4])
    q.shift()
    expect(q.drain()).toEqual([2, 3, 4])
    expect(q.length).toBe(0)
    expect(q.peek()).toBeUndefined()
    expect(q.drain()).toEqual([])
    q.push(5)
    expect(q.length).toBe(1)
    expect(q.shift()).toBe(5)
  })
})
