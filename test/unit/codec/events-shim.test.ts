import { describe, expect, it } from 'vitest'
import { EventEmitter } from '../../../src/codec/shims/events.js'

describe("the codec's EventEmitter", () => {
  it('calls every listener of an event with its arguments, and says whether any heard', () => {
    const e = new EventEmitter()
    const got: unknown[] = []
    expect(e.emit('packet', 1)).toBe(false)
    e.on('packet', (p) => got.push(['a', p])).on('packet', (p) => got.push(['b', p]))
    expect(e.emit('packet', 2)).toBe(true)
    expect(got).toEqual([
      ['a', 2],
      ['b', 2],
    ])
  })

  it("throws an 'error' nobody listens to, as Node's does, and hands it to a listener otherwise", () => {
    const e = new EventEmitter()
    const boom = new Error('boom')
    expect(() => e.emit('error', boom)).toThrow(boom)
    const heard: unknown[] = []
    e.on('error', (err) => heard.push(err))
    e.emit('error', boom)
    expect(heard).toEqual([boom])
  })
})
