import { describe, expect, it } from 'vitest'
import { TypedEmitter } from '../../../src/client/emitter.js'

type Events = { ping: [n: number]; error: [e: Error] }

/** Emit is protected: the client emits; a test subclass lets the tests do it. */
class Emitter extends TypedEmitter<Events> {
  fire<K extends keyof Events>(event: K, ...args: Events[K]): boolean {
    return this.emit(event, ...args)
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in the order added, with the arguments emitted, and says whether any heard', () => {
    const e = new Emitter()
    const got: string[] = []
    expect(e.fire('ping', 0)).toBe(false)
    e.on('ping', (n) => got.push(`a${n}`)).addListener('ping', (n) => got.push(`b${n}`))
    expect(e.fire('ping', 1)).toBe(true)
    expect(got).toEqual(['a1', 'b1'])
    expect(e.listenerCount('ping')).toBe(2)
  })

  it('calls a once listener one time, and off() removes it by the function given', () => {
    const e = new Emitter()
    const got: number[] = []
    const once = (n: number) => got.push(n)
    e.once('ping', once)
    e.fire('ping', 1)
    e.fire('ping', 2)
    e.once('ping', once)
    e.off('ping', once)
    e.fire('ping', 3)
    expect(got).toEqual([1])
    expect(e.listenerCount('ping')).toBe(0)
  })

  it('removes one registration at a time, the latest first, as EventEmitter does', () => {
    const e = new Emitter()
    const got: string[] = []
    const a = () => got.push('a')
    e.on('ping', a).on('ping', () => got.push('b')).on('ping', a)
    e.removeListener('ping', a)
    e.fire('ping', 0)
    expect(got).toEqual(['a', 'b'])
  })

  it('lets a listener removed during an emit still hear that emit, and not the next', () => {
    const e = new Emitter()
    const got: string[] = []
    const second = () => got.push('second')
    e.on('ping', () => {
      got.push('first')
      e.off('ping', second)
    })
    e.on('ping', second)
    e.fire('ping', 0)
    e.fire('ping', 0)
    expect(got).toEqual(['first', 'second', 'first'])
  })

  it('removes every listener of one event, or of all', () => {
    const e = new Emitter()
    e.on('ping', () => undefined).on('error', () => undefined)
    e.removeAllListeners('ping')
    expect([e.listenerCount('ping'), e.listenerCount('error')]).toEqual([0, 1])
    e.removeAllListeners()
    expect(e.listenerCount('error')).toBe(0)
  })

  it('does not throw an error nobody listens to, and lets a throwing listener throw out of emit', () => {
    const e = new Emitter()
    expect(e.fire('error', new Error('unheard'))).toBe(false)
    e.on('ping', () => {
      throw new Error('listener')
    })
    expect(() => e.fire('ping', 0)).toThrow('listener')
  })
})
