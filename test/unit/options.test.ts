import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/client/options.js'
import { InvalidArgumentError, InvalidTopicError } from '../../src/errors.js'
import type { ClientOptions } from '../../src/index.js'

const url = 'ws://127.0.0.1:1'

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions(url, { WebSocket })
    expect(o).toMatchObject({ protocolVersion: 4, clean: true, keepalive: 60, connectTimeout: 30_000, maxInflight: 20 })
    expect(o.clientId).toMatch(/^ts-mqtt-ws_[0-9a-f]{8}$/)
    expect(o.reconnect).toMatchObject({ minDelay: 1000, maxDelay: 30_000, factor: 2, jitter: true })
  })

  it('never changes the caller options, so two clients sharing them get different ids', () => {
    const shared: ClientOptions = { WebSocket, will: { topic: 'w', payload: 'bye' } }
    const before = JSON.stringify(shared)
    const a = resolveOptions(url, shared)
    const b = resolveOptions(url, shared)
    expect(JSON.stringify(shared)).toBe(before)
    expect(shared.clientId).toBeUndefined()
    expect(a.clientId).not.toBe(b.clientId)
  })

  it.each<[string, ClientOptions, RegExp]>([
    ['a keepalive out of range', { keepalive: 70_000 }, /keepalive/],
    ['a fractional keepalive', { keepalive: 1.5 }, /keepalive/],
    ['a protocol version of 3', { protocolVersion: 3 as 4 }, /protocolVersion/],
    ['a password without a user name in 3.1.1', { password: 'p' }, /password only with a username/],
    ['clean false without a client id', { clean: false, clientId: '' }, /clientId/],
    ['a will QoS of 3', { will: { topic: 'w', payload: '', qos: 3 as 0 } }, /QoS/],
  ])('rejects %s with InvalidArgumentError', (_, options, message) => {
    expect(() => resolveOptions(url, { WebSocket, ...options })).toThrow(InvalidArgumentError)
    expect(() => resolveOptions(url, { WebSocket, ...options })).toThrow(message)
  })

  it('rejects a will topic with wildcards as InvalidTopicError', () => {
    expect(() => resolveOptions(url, { WebSocket, will: { topic: 'w/#', payload: '' } })).toThrow(InvalidTopicError)
  })

  it('rejects URLs that are not ws:// or wss://', () => {
    expect(() => resolveOptions('http://x', { WebSocket })).toThrow(/ws:\/\/ or wss:\/\//)
    expect(() => resolveOptions('not a url', { WebSocket })).toThrow(InvalidArgumentError)
  })

  it('asks for a WebSocket implementation when there is none', () => {
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket
    delete (globalThis as { WebSocket?: unknown }).WebSocket
    try {
      expect(() => resolveOptions(url, {})).toThrow(/options.WebSocket/)
    } finally {
      if (saved) (globalThis as { WebSocket?: unknown }).WebSocket = saved
    }
  })

  it('keeps a string password as UTF-8 bytes', () => {
    expect(resolveOptions(url, { WebSocket, username: 'u', password: 'pä' }).password).toEqual(new TextEncoder().encode('pä'))
  })
})
