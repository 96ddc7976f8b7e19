import { describe, expect, it } from 'vitest'
import { ReconnectPlan, serverUrl } from '../../../src/protocol/reconnect.js'

const options = { minDelay: 1000, maxDelay: 8000, factor: 2, jitter: false, maxAttempts: Infinity, resetAfter: 10_000 }

describe('ReconnectPlan', () => {
  it('grows the delay with each try while connections keep failing', () => {
    const plan = new ReconnectPlan(['ws://a'], options)
    expect([0, 1, 2, 3, 4].map((t) => plan.next(t))).toEqual([1000, 2000, 4000, 8000, 8000])
  })

  it('keeps the grown delay after a connection that dropped soon after it was accepted', () => {
    const plan = new ReconnectPlan(['ws://a'], options)
    plan.next(0)
    plan.next(1)
    plan.connected(100)
    expect(plan.next(100 + 9_999)).toBe(4000)
  })

  it('falls back to minDelay once a connection stayed up for resetAfter', () => {
    const plan = new ReconnectPlan(['ws://a'], options)
    plan.next(0)
    plan.next(1)
    plan.connected(100)
    expect(plan.next(100 + 10_000)).toBe(1000)
  })

  it('gives up after maxAttempts failed tries in a row, counting afresh after each accepted connection', () => {
    const plan = new ReconnectPlan(['ws://a'], { ...options, maxAttempts: 2 })
    expect(plan.next(0)).toBeDefined()
    expect(plan.next(1)).toBeDefined()
    plan.connected(2)
    expect(plan.next(3)).toBeDefined()
    expect(plan.next(4)).toBeDefined()
    expect(plan.next(5)).toBeUndefined()
  })

  it('counts the tries since the last accepted connection, from 1', () => {
    const plan = new ReconnectPlan(['ws://a'], options)
    expect(plan.attempts).toBe(0)
    plan.next(0)
    plan.next(1)
    expect(plan.attempts).toBe(2)
    plan.connected(2)
    expect(plan.attempts).toBe(0)
    plan.next(3)
    expect(plan.attempts).toBe(1)
  })

  it('never retries when reconnect is off', () => {
    expect(new ReconnectPlan(['ws://a'], false).next(0)).toBeUndefined()
  })

  it('takes the servers in turn, one per try', () => {
    const plan = new ReconnectPlan(['ws://a', 'ws://b', 'ws://c'], options)
    const seen = [plan.server]
    for (let t = 0; t < 4; t++) {
      plan.next(t)
      seen.push(plan.server)
    }
    expect(seen).toEqual(['ws://a', 'ws://b', 'ws://c', 'ws://a', 'ws://b'])
  })

  it('spreads first retries over the whole window with full jitter', () => {
    const random = [0.1, 0.5, 0.9]
    const delays = random.map((r) => new ReconnectPlan(['ws://a'], { ...options, jitter: true }, () => r).next(0))
    expect(delays).toEqual([100, 500, 900])
  })
})

describe('ReconnectPlan, sent to another server (MQTT 5 Server Reference)', () => {
  it('tries the named server next, at once and once only, then goes back to its own turn', () => {
    const plan = new ReconnectPlan(['ws://a/mqtt', 'ws://b/mqtt'], options)
    plan.redirect('elsewhere:9001', false)
    expect(plan.next(0)).toBe(0)
    expect(plan.server).toBe('ws://elsewhere:9001/mqtt')
    expect(plan.next(1)).toBe(1000)
    expect(plan.server).toBe('ws://b/mqtt')
  })

  it('puts a server that moved in place of the old one for good', () => {
    const plan = new ReconnectPlan(['ws://a', 'ws://b'], options)
    plan.redirect('wss://new.example/mqtt', true)
    expect(plan.next(0)).toBe(0)
    expect(plan.server).toBe('wss://new.example/mqtt')
    plan.next(1)
    plan.next(2)
    expect(plan.server).toBe('wss://new.example/mqtt')
  })

  it('goes back to its own server after a one-try redirect, keeping it in the list', () => {
    const plan = new ReconnectPlan(['ws://a/mqtt'], options)
    plan.redirect('elsewhere:9001', false)
    plan.next(0)
    expect(plan.server).toBe('ws://elsewhere:9001/mqtt')
    plan.next(1)
    expect(plan.server).toBe('ws://a/mqtt')
  })

  it('ignores a reference that is neither a WebSocket URL nor a host and port', () => {
    const plan = new ReconnectPlan(['ws://a'], options)
    plan.redirect('tcp://x:1883', false)
    plan.redirect('@@@', true)
    expect(plan.next(0)).toBe(1000)
    expect(plan.server).toBe('ws://a')
  })
})

describe('serverUrl', () => {
  it('keeps a WebSocket URL, puts a host[:port] into the current URL, and takes the first of several', () => {
    expect(serverUrl('wss://x.example:8443/ws', 'ws://a/mqtt')).toBe('wss://x.example:8443/ws')
    expect(serverUrl('b.example:9001', 'wss://a.example/mqtt?x=1')).toBe('wss://b.example:9001/mqtt?x=1')
    expect(serverUrl('[::1]:9001 other:1', 'ws://a/')).toBe('ws://[::1]:9001/')
    expect(serverUrl('mqtt://x', 'ws://a/')).toBeUndefined()
    expect(serverUrl('', 'ws://a/')).toBeUndefined()
  })

  it('skips whitespace around the reference before taking its first server', () => {
    expect(serverUrl('  b.example:9001  c.example:1', 'ws://a/mqtt')).toBe('ws://b.example:9001/mqtt')
  })

  it('puts a host without a port, or an IPv6 address without a port, into the current URL', () => {
    expect(serverUrl('b.example', 'wss://a.example/mqtt')).toBe('wss://b.example/mqtt')
    expect(serverUrl('[::1]', 'ws://a/mqtt')).toBe('ws://[::1]/mqtt')
  })

  it('ignores a URL of another scheme that merely contains ws://', () => {
    expect(serverUrl('mqtt+wss://x.example', 'ws://a/')).toBeUndefined()
  })

  it('ignores an IPv6 address with anything before or after it but a port', () => {
    expect(serverUrl('x[::1]:9001', 'ws://a/')).toBeUndefined()
    expect(serverUrl('[::1]/x', 'ws://a/')).toBeUndefined()
    expect(serverUrl('[::1]:x', 'ws://a/')).toBeUndefined()
  })

  it('gives undefined rather than throwing for a WebSocket URL that does not parse', () => {
    expect(serverUrl('ws://', 'ws://a/')).toBeUndefined()
    expect(serverUrl('b.example', 'not a url')).toBeUndefined()
  })
})
