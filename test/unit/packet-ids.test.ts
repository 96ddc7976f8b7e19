import { describe, expect, it } from 'vitest'
import { PacketIdAllocator } from '../../src/protocol/packet-ids.js'

describe('PacketIdAllocator', () => {
  it('hands out ids from 1 in rising order', () => {
    const ids = new PacketIdAllocator()
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([1, 2, 3])
  })

  it('does not reuse a released id at once, and wraps past the maximum skipping ids in use', () => {
    const ids = new PacketIdAllocator(4)
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([1, 2, 3])
    ids.release(2)
    expect(ids.allocate()).toBe(4)
    expect(ids.allocate()).toBe(2)
    ids.release(1)
    expect(ids.allocate()).toBe(1)
  })

  it('returns undefined when every id is in use, and recovers after a release', () => {
    const ids = new PacketIdAllocator(3)
    ids.allocate()
    ids.allocate()
    ids.allocate()
    expect(ids.allocate()).toBeUndefined()
    ids.release(2)
    expect(ids.allocate()).toBe(2)
  })

  it('never hands out 0 and covers all 65535 ids', () => {
    const ids = new PacketIdAllocator()
    const seen = new Set<number>()
    for (let i = 0; i < 65_535; i++) seen.add(ids.allocate() as number)
    expect(seen.size).toBe(65_535)
    expect(seen.has(0)).toBe(false)
    expect(ids.allocate()).toBeUndefined()
  })

  it('tells which ids are in use and how many', () => {
    const ids = new PacketIdAllocator()
    expect(ids.size).toBe(0)
    expect(ids.has(1)).toBe(false)
    ids.allocate()
    ids.allocate()
    expect(ids.size).toBe(2)
    expect([ids.has(1), ids.has(2), ids.has(3)]).toEqual([true, true, false])
    ids.release(1)
    expect(ids.size).toBe(1)
    expect([ids.has(1), ids.has(2)]).toEqual([false, true])
  })

  it('frees every id on clear, yet keeps handing out ids in rising order', () => {
    const ids = new PacketIdAllocator(3)
    ids.allocate()
    ids.allocate()
    ids.allocate()
    ids.clear()
    expect(ids.size).toBe(0)
    expect(ids.has(2)).toBe(false)
    expect([ids.allocate(), ids.allocate(), ids.allocate()]).toEqual([1, 2, 3])
    expect(ids.allocate()).toBeUndefined()
  })
})
