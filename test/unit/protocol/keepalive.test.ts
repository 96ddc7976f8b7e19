import { describe, expect, it } from 'vitest'
import { Keepalive } from '../../../src/protocol/keepalive.js'

/** A keepalive of `periodMs`, reset at `start` as when a connection opens. */
function keepalive(periodMs: number, start = 0): Keepalive {
  const k = new Keepalive(periodMs)
  k.reset(start)
  return k
}

describe('Keepalive', () => {
  it('is off with a period of 0: nothing is ever due and there is no deadline', () => {
    const k = keepalive(0)
    expect(k.enabled).toBe(false)
    expect(k.check(0)).toBeUndefined()
    expect(k.check(1_000_000)).toBeUndefined()
    expect(k.nextDeadline()).toBeUndefined()
    k.pinged(5)
    expect(k.check(1_000_000)).toBeUndefined()
    expect(k.nextDeadline()).toBeUndefined()
  })

  it('is on with any positive period', () => {
    expect(new Keepalive(1).enabled).toBe(true)
    expect(new Keepalive(10_000).enabled).toBe(true)
  })

  it('asks for a ping exactly one period after the reset, not a millisecond before', () => {
    const k = keepalive(10_000, 500)
    expect(k.nextDeadline()).toBe(10_500)
    expect(k.check(10_499)).toBeUndefined()
    expect(k.check(10_500)).toBe('ping')
    expect(k.check(20_000)).toBe('ping')
  })

  it('declares a timeout exactly half a period after the ping, unless something arrives', () => {
    const k = keepalive(10_000)
    k.pinged(10_000)
    expect(k.nextDeadline()).toBe(15_000)
    expect(k.check(10_000)).toBeUndefined()
    expect(k.check(14_999)).toBeUndefined()
    expect(k.check(15_000)).toBe('timeout')
    expect(k.check(99_000)).toBe('timeout')
  })

  it('uses half of an odd period as it is, without rounding', () => {
    const k = keepalive(3)
    k.pinged(3)
    expect(k.nextDeadline()).toBe(4.5)
    expect(k.check(4)).toBeUndefined()
    expect(k.check(4.5)).toBe('timeout')
  })

  it('waits for the later of sending and receiving to go quiet: the earlier one sets the ping time', () => {
    const onlySent = keepalive(10_000)
    onlySent.sent(6_000)
    expect(onlySent.nextDeadline()).toBe(10_000)
    expect(onlySent.check(10_000)).toBe('ping')

    const onlyReceived = keepalive(10_000)
    onlyReceived.received(6_000)
    expect(onlyReceived.nextDeadline()).toBe(10_000)
    expect(onlyReceived.check(10_000)).toBe('ping')

    const both = keepalive(10_000)
    both.sent(6_000)
    both.received(4_000)
    expect(both.nextDeadline()).toBe(14_000)
    expect(both.check(13_999)).toBeUndefined()
    expect(both.check(14_000)).toBe('ping')
  })

  it('counts any received packet as the answer to a ping and schedules the next ping a period after it', () => {
    const k = keepalive(10_000)
    k.pinged(10_000)
    k.received(12_000)
    expect(k.check(15_000)).toBeUndefined()
    // The ping itself was the last thing sent, so the next ping is due a period after it.
    expect(k.nextDeadline()).toBe(20_000)
    expect(k.check(19_999)).toBeUndefined()
    expect(k.check(20_000)).toBe('ping')
  })

  it('does not let outgoing traffic answer a ping', () => {
    const k = keepalive(10_000)
    k.pinged(10_000)
    k.sent(12_000)
    expect(k.nextDeadline()).toBe(15_000)
    expect(k.check(15_000)).toBe('timeout')
  })

  it('forgets a pending ping and starts a fresh period on reset', () => {
    const k = keepalive(10_000)
    k.pinged(10_000)
    k.reset(30_000)
    expect(k.nextDeadline()).toBe(40_000)
    expect(k.check(39_999)).toBeUndefined()
    expect(k.check(40_000)).toBe('ping')
  })

  it('moves both clocks on reset, so earlier traffic no longer counts', () => {
    const k = keepalive(10_000)
    k.sent(2_000)
    k.received(3_000)
    k.reset(50_000)
    expect(k.nextDeadline()).toBe(60_000)
    k.sent(55_000)
    expect(k.nextDeadline()).toBe(60_000)
    k.received(56_000)
    expect(k.nextDeadline()).toBe(65_000)
  })
})
