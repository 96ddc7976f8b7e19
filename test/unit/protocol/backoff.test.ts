import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF } from '../../../src/protocol/backoff.js'

const base = { minDelay: 1000, maxDelay: 30_000, factor: 2, jitter: false }

describe('backoffDelay', () => {
  it('grows exponentially from minDelay and stops at maxDelay', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, base))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ])
  })

  it('with full jitter picks uniformly between 0 and the ceiling', () => {
    const opts = { ...base, jitter: true }
    expect(backoffDelay(3, opts, () => 0)).toBe(0)
    expect(backoffDelay(3, opts, () => 0.5)).toBe(4000)
    expect(backoffDelay(3, opts, () => 0.999999)).toBe(7999)
    expect(backoffDelay(20, opts, () => 0.5)).toBe(15_000)
  })

  it('by default spreads the first retry over a second, doubles the ceiling, and stops it at 30 s', () => {
    // Full jitter by default: the same random draw lands at the same fraction of each ceiling.
    expect([0, 1, 4, 5, 10].map((a) => backoffDelay(a, DEFAULT_BACKOFF, () => 0.5))).toEqual([500, 1000, 8000, 15_000, 15_000])
  })
})
