import { describe, expect, it } from 'vitest'
import { toBytes, toWire } from '../../../src/input/payload.js'
import { InvalidArgumentError } from '../../../src/errors.js'
import { thrown } from '../../support/expect-error.js'

const argumentError = (call: () => unknown): InvalidArgumentError => thrown(call, InvalidArgumentError)

describe('toWire', () => {
  it('keeps a string as it is, for the encoder to write as UTF-8', () => {
    expect(toWire('héllo')).toBe('héllo')
    expect(toWire('')).toBe('')
  })

  it('passes a Uint8Array through without copying it', () => {
    const bytes = new Uint8Array([1, 2, 3])
    expect(toWire(bytes)).toBe(bytes)
  })

  it('views an ArrayBuffer as bytes without copying it', () => {
    const buffer = new Uint8Array([7, 8, 9]).buffer
    const wire = toWire(buffer)
    expect(wire).toBeInstanceOf(Uint8Array)
    expect(Array.from(wire as Uint8Array)).toEqual([7, 8, 9])
    expect((wire as Uint8Array).buffer).toBe(buffer)
  })

  it.each<[string, unknown, string]>([
    ['a number', 42, 'not number'],
    ['undefined', undefined, 'not undefined'],
    ['null', null, 'not null'],
    ['a boolean', true, 'not boolean'],
    ['a plain object', { a: 1 }, 'not Object'],
    ['an array of numbers', [1, 2], 'not Array'],
    ['a typed array other than Uint8Array', new Uint16Array(2), 'not Uint16Array'],
    ['a DataView', new DataView(new ArrayBuffer(2)), 'not DataView'],
    ['an object without a prototype', Object.create(null) as object, 'not object'],
  ])('rejects %s with InvalidArgumentError naming what it got', (_, payload, got) => {
    const err = argumentError(() => toWire(payload))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe(`payload must be a string, Uint8Array or ArrayBuffer, ${got}`)
  })
})

describe('toBytes', () => {
  it('encodes a string as UTF-8', () => {
    expect(toBytes('pä€')).toEqual(new Uint8Array([0x70, 0xc3, 0xa4, 0xe2, 0x82, 0xac]))
  })

  it('returns the same bytes for a Uint8Array and a view for an ArrayBuffer', () => {
    const bytes = new Uint8Array([1, 2])
    expect(toBytes(bytes)).toBe(bytes)
    expect(Array.from(toBytes(bytes.buffer))).toEqual([1, 2])
  })

  it('rejects a payload of the wrong type with InvalidArgumentError', () => {
    const err = argumentError(() => toBytes(12))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(/payload must be a string, Uint8Array or ArrayBuffer, not number/)
  })
})
