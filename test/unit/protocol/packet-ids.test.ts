import { describe, expect, it } from 'vitest'
import { InFlight } from '../../../src/protocol/packet-ids.js'

/** Puts `count` items in flight, returning the ids they got. */
function addAll(table: InFlight<string>, count: number): Array<number | undefined> {
  return Array.from({ length: count }, (_, i) => table.add(`item ${i}`))
}

describe('InFlight', () => {
  it('hands out ids from 1 in rising order', () => {
    const table = new InFlight<string>()
    expect([table.add('a'), table.add('b'), table.add('c')]).toEqual([1, 2, 3])
  })

  it('does not reuse a released id at once, and wraps past the maximum skipping ids in use', () => {
    const table = new InFlight<string>(4)
    expect(addAll(table, 3)).toEqual([1, 2, 3])
    table.delete(2)
    expect(table.add('d')).toBe(4)
    expect(table.add('e')).toBe(2)
    table.delete(1)
    expect(table.add('f')).toBe(1)
  })

  it('returns undefined when every id is in use, and recovers after a release', () => {
    const table = new InFlight<string>(3)
    addAll(table, 3)
    expect(table.add('d')).toBeUndefined()
    table.delete(2)
    expect(table.add('e')).toBe(2)
  })

  it('never hands out 0 and covers all 65535 ids', () => {
    const table = new InFlight<number>()
    const seen = new Set<number>()
    for (let i = 0; i < 65_535; i++) seen.add(table.add(i) as number)
    expect(seen.size).toBe(65_535)
    expect(seen.has(0)).toBe(false)
    expect(table.add(65_535)).toBeUndefined()
  })

  it('tells what is in flight under each id, and how many ids are taken', () => {
    const table = new InFlight<string>()
    expect(table.size).toBe(0)
    expect(table.get(1)).toBeUndefined()
    table.add('a')
    table.add('b')
    expect(table.size).toBe(2)
    expect([table.get(1), table.get(2), table.get(3)]).toEqual(['a', 'b', undefined])
    table.delete(1)
    expect(table.size).toBe(1)
    expect([table.get(1), table.get(2)]).toEqual([undefined, 'b'])
  })

  it('frees every id on clear, yet keeps handing out ids in rising order', () => {
    const table = new InFlight<string>(3)
    addAll(table, 3)
    table.clear()
    expect(table.size).toBe(0)
    expect(table.get(2)).toBeUndefined()
    expect(addAll(table, 3)).toEqual([1, 2, 3])
    expect(table.add('d')).toBeUndefined()
  })

  it('lists what is in flight oldest first, even when a wrapped id is lower', () => {
    // The order of allocation is the order messages must be sent again after a reconnect.
    const table = new InFlight<string>(3)
    table.add('a')
    table.add('b')
    table.add('c')
    table.delete(1)
    table.add('d')
    expect([...table.entries()]).toEqual([
      [2, 'b'],
      [3, 'c'],
      [1, 'd'],
    ])
  })
})
