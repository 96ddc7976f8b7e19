import { describe, expect, it } from 'vitest'
import { type LifeState, checkMove, hasSocket } from '../../../src/protocol/lifecycle.js'

/** Written out here rather than read from LIFE, so that a change to the table shows up as a failure. */
const STATES: readonly LifeState[] = ['starting', 'connecting', 'connected', 'reconnecting', 'disconnected', 'closing', 'closed']

/** The client's life as designed: every move it may make, and no other. */
const ALLOWED: ReadonlyArray<readonly [LifeState, LifeState]> = [
  ['starting', 'connecting'],
  ['starting', 'closed'],
  ['connecting', 'connected'],
  ['connecting', 'reconnecting'],
  ['connecting', 'disconnected'],
  ['connecting', 'closed'],
  ['connected', 'reconnecting'],
  ['connected', 'disconnected'],
  ['connected', 'closing'],
  ['connected', 'closed'],
  ['reconnecting', 'connecting'],
  // Another client in this browser took the session while this one waited to reconnect.
  ['reconnecting', 'disconnected'],
  ['reconnecting', 'closed'],
  ['disconnected', 'closed'],
  ['closing', 'closed'],
]

const isAllowed = (from: LifeState, to: LifeState): boolean => ALLOWED.some(([f, t]) => f === from && t === to)

describe('checkMove', () => {
  it('lets every allowed move pass', () => {
    for (const [from, to] of ALLOWED) expect(() => checkMove(from, to), `${from} → ${to}`).not.toThrow()
  })

  it('throws on every other move, staying put included, naming the move as a bug', () => {
    const forbidden = STATES.flatMap((from) => STATES.filter((to) => !isAllowed(from, to)).map((to) => [from, to] as const))
    expect(forbidden).toHaveLength(STATES.length ** 2 - ALLOWED.length)
    for (const [from, to] of forbidden) {
      expect(() => checkMove(from, to), `${from} → ${to}`).toThrow(`ts-mqtt-ws bug: no move from ${from} to ${to}`)
    }
  })
})

describe('hasSocket', () => {
  it('holds while connecting, connected and closing, and in no other state', () => {
    expect(STATES.filter(hasSocket)).toEqual(['connecting', 'connected', 'closing'])
  })
})
