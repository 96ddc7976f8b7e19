import { describe, expect, it } from 'vitest'
import { MiniBuffer, MiniBufferStatics as Mini } from '../../../src/codec/shims/mini-buffer.js'

// Each case is checked against Node's Buffer doing the same thing.
const texts = ['', 'ascii', 'ünïcødé', '温度', '🌡 emoji', 'mixed ü 温 🌍 end', '\ud800 lone']

describe('MiniBuffer against Node Buffer', () => {
  it.each(texts)('encodes and measures %j as Node does', (text) => {
    expect([...Mini.from(text)]).toEqual([...Buffer.from(text)])
    expect(Mini.byteLength(text)).toBe(Buffer.byteLength(text))
  })

  it('measures bytes by their length, as Node does', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5])
    expect(Mini.byteLength(bytes)).toBe(Buffer.byteLength(bytes))
    expect(Mini.byteLength(bytes.buffer)).toBe(5)
  })

  it('makes buffers from arrays (a copy) and ArrayBuffers (a view)', () => {
    const source = [1, 2, 255]
    const copy = Mini.from(source)
    source[0] = 9
    expect([...copy]).toEqual([1, 2, 255])
    const backing = new Uint8Array([5, 6, 7, 8]).buffer
    const view = Mini.from(backing, 1, 2)
    expect([...view]).toEqual([...Buffer.from(backing, 1, 2)])
    new Uint8Array(backing)[1] = 0
    expect(view[0]).toBe(0)
  })

  it('views a whole ArrayBuffer, or all of it from an offset, when the range is left out', () => {
    const backing = new Uint8Array([5, 6, 7, 8]).buffer
    expect([...Mini.from(backing)]).toEqual([...Buffer.from(backing)])
    expect([...Mini.from(backing, 1)]).toEqual([...Buffer.from(backing, 1)])
    expect(Mini.from(backing, 1).buffer).toBe(backing)
  })

  it('allocates zeroed or filled buffers and recognises its own', () => {
    expect([...Mini.alloc(3)]).toEqual([0, 0, 0])
    expect([...Mini.alloc(2, 7)]).toEqual([7, 7])
    expect(Mini.allocUnsafe(5)).toHaveLength(5)
    expect(Mini.isBuffer(Mini.alloc(1))).toBe(true)
    expect(Mini.isBuffer(new Uint8Array(1))).toBe(false)
  })

  it('concatenates, cutting or padding to a given total as Node does', () => {
    const parts = [Mini.from([1, 2]), Mini.from([3])]
    const native = [Buffer.from([1, 2]), Buffer.from([3])]
    expect([...Mini.concat(parts)]).toEqual([...Buffer.concat(native)])
    expect([...Mini.concat(parts, 2)]).toEqual([...Buffer.concat(native, 2)])
    expect([...Mini.concat(parts, 5)]).toEqual([...Buffer.concat(native, 5)])
    // Cut inside a later part.
    const more = [Mini.from([1, 2]), Mini.from([3, 4])]
    expect([...Mini.concat(more, 3)]).toEqual([...Buffer.concat([Buffer.from([1, 2]), Buffer.from([3, 4])], 3)])
  })

  it('slices as a view and decodes ranges as UTF-8', () => {
    const text = 'héllo wörld'
    const mini = Mini.from(text)
    const native = Buffer.from(text)
    expect(mini.toString('utf8', 2, 9)).toBe(native.toString('utf8', 2, 9))
    const part = mini.slice(1, 4)
    expect(part).toBeInstanceOf(MiniBuffer)
    part[0] = 0x41
    expect(mini[1]).toBe(0x41)
  })

  it('writes UTF-8 at an offset and copies ranges, returning counts as Node does', () => {
    const mini = Mini.alloc(10)
    const native = Buffer.alloc(10)
    expect(mini.write('ab€', 2)).toBe(native.write('ab€', 2))
    expect([...mini]).toEqual([...native])
    const target = Mini.alloc(4)
    const nativeTarget = Buffer.alloc(4)
    expect(mini.copy(target, 1, 2, 8)).toBe(native.copy(nativeTarget, 1, 2, 8))
    expect([...target]).toEqual([...nativeTarget])
  })

  it('copies whole buffers, views at an offset, and ranges past either end as Node does', () => {
    const bytes = Uint8Array.from({ length: 12 }, (_, i) => i + 1)
    const mini = Mini.from(bytes.buffer, 2, 8)
    const native = Buffer.from(bytes.buffer, 2, 8)
    const cases: Array<[number, number?, number?]> = [[0], [3], [0, 0, 8], [2, 5, 7], [0, 6, 20], [6, 2], [7], [2, 3, 1], [0, 8, 8]]
    for (const [targetStart, sourceStart, sourceEnd] of cases) {
      const target = Mini.alloc(6)
      const nativeTarget = Buffer.alloc(6)
      expect(mini.copy(target, targetStart, sourceStart, sourceEnd)).toBe(native.copy(nativeTarget, targetStart, sourceStart, sourceEnd))
      expect([...target]).toEqual([...nativeTarget])
    }
  })

  it('reads and writes big-endian integers as Node does, and refuses to go past the end', () => {
    const mini = Mini.alloc(8)
    const native = Buffer.alloc(8)
    for (const [value, offset] of [[0xffffffff, 0], [0x01020304, 4]] as const) {
      expect(mini.writeUInt32BE(value, offset)).toBe(native.writeUInt32BE(value, offset))
    }
    expect(mini.writeUInt16BE(0xabcd, 2)).toBe(native.writeUInt16BE(0xabcd, 2))
    expect(mini.writeUInt8(0x7f, 7)).toBe(native.writeUInt8(0x7f, 7))
    expect([...mini]).toEqual([...native])
    expect(mini.readUInt32BE(0)).toBe(native.readUInt32BE(0))
    expect(mini.readUInt16BE(2)).toBe(native.readUInt16BE(2))
    expect(mini.readUInt8(7)).toBe(native.readUInt8(7))
    // Both name the offset they refused.
    expect(() => mini.readUInt32BE(6)).toThrow(RangeError)
    expect(() => mini.readUInt32BE(6)).toThrow(/offset.*\b6\b/)
    expect(() => native.readUInt32BE(6)).toThrow(/offset.*\b6\b/)
    expect(() => mini.readUInt8(8)).toThrow(RangeError)
    expect(() => mini.readUInt8(-1)).toThrow(RangeError)
    expect(() => mini.writeUInt16BE(1, 7)).toThrow(RangeError)
  })
})
