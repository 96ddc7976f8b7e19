import WebSocket from 'ws'
import { describe, expect, it, vi } from 'vitest'
import { type ResolvedOptions, resolveOptions } from '../../../src/input/options.js'
import { MemoryStore } from '../../../src/store/memory-store.js'
import type { Store } from '../../../src/store/store.js'
import { InvalidArgumentError, InvalidTopicError } from '../../../src/errors.js'
import type { ClientOptions } from '../../../src/index.js'

const url = 'ws://127.0.0.1:1'

describe('resolveOptions', () => {
  it('fills the documented defaults', () => {
    const o = resolveOptions(url, { WebSocket })
    expect(o).toMatchObject({ protocolVersion: 4, clean: true, keepalive: 60, connectTimeout: 30_000, maxInflight: 1_000 })
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

/** The InvalidArgumentError resolveOptions throws for these options, so a test can check its code and message. */
function optionError(options: unknown, at: string = url): InvalidArgumentError {
  try {
    resolveOptions(at, options as ClientOptions)
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err
    throw err
  }
  throw new Error('expected an InvalidArgumentError, but the options were accepted')
}

const resolve = (options: ClientOptions) => resolveOptions(url, { WebSocket, ...options })

/** A store that does nothing, to check that the client takes the one it is given. */
const nullStore = (): Store => ({
  load: async () => [],
  put: async () => undefined,
  delete: async () => undefined,
  close: async () => undefined,
})

describe('resolveOptions defaults', () => {
  it('fills every documented default', () => {
    const o = resolveOptions(url, { WebSocket })
    expect(o).toMatchObject({
      url,
      servers: [url],
      queueQoS0: true,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      username: undefined,
      password: undefined,
      will: undefined,
      connectTimeout: 30_000,
      properties: undefined,
      maxInflight: 1_000,
      queueLimit: 100_000,
      maxPacketSize: 16 * 1024 * 1024,
      endTimeout: 10_000,
      coalesceWrites: true,
      subprotocols: ['mqtt'],
    })
    expect(o.WebSocket).toBe(WebSocket)
    expect(o.store).toBeInstanceOf(MemoryStore)
    expect(o.reconnect).toStrictEqual({
      minDelay: 1000,
      maxDelay: 30_000,
      factor: 2,
      jitter: true,
      maxAttempts: Infinity,
      resetAfter: 10_000,
    })
  })

  it('gives each client a store of its own', () => {
    expect(resolveOptions(url, { WebSocket }).store).not.toBe(resolveOptions(url, { WebSocket }).store)
  })

  it('makes a client id of the prefix and eight hex digits, two per random byte', () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation(<T extends ArrayBufferView | null>(array: T): T => {
      if (array instanceof Uint8Array) array.set([0x00, 0x0a, 0xb1, 0xff])
      return array
    })
    try {
      expect(resolveOptions(url, { WebSocket }).clientId).toBe('ts-mqtt-ws_000ab1ff')
    } finally {
      spy.mockRestore()
    }
  })

  it('uses the global WebSocket when none is given', () => {
    const g = globalThis as { WebSocket?: unknown }
    const saved = g.WebSocket
    g.WebSocket = WebSocket
    try {
      expect(resolveOptions(url).WebSocket).toBe(WebSocket)
    } finally {
      if (saved) g.WebSocket = saved
      else delete g.WebSocket
    }
  })
})

describe('resolveOptions takes what the caller gives', () => {
  it('keeps the given values', () => {
    const store = nullStore()
    const o = resolve({
      clientId: 'me',
      protocolVersion: 5,
      clean: false,
      username: 'u',
      queueQoS0: false,
      store,
      properties: { sessionExpiryInterval: 30 },
    })
    expect(o).toMatchObject({ clientId: 'me', protocolVersion: 5, clean: false, username: 'u', queueQoS0: false })
    expect(o.store).toBe(store)
    expect(o.properties).toEqual({ sessionExpiryInterval: 30 })
  })

  it('copies the CONNECT properties, so later changes by the caller do not leak in', () => {
    const properties = { sessionExpiryInterval: 30 }
    const o = resolve({ protocolVersion: 5, properties })
    expect(o.properties).not.toBe(properties)
    properties.sessionExpiryInterval = 0
    expect(o.properties).toEqual({ sessionExpiryInterval: 30 })
  })

  it('allows an empty client id with a clean session, and any id with clean false', () => {
    expect(resolve({ clientId: '' }).clientId).toBe('')
    expect(resolve({ clientId: 'x', clean: false }).clean).toBe(false)
  })

  it('accepts a password without a user name in MQTT 5', () => {
    expect(resolve({ protocolVersion: 5, password: 'p' }).password).toEqual(new TextEncoder().encode('p'))
  })

  it('keeps a byte password as it is', () => {
    const password = new Uint8Array([1, 2, 3])
    expect(resolve({ username: 'u', password }).password).toBe(password)
  })

  it('puts the url first among the servers, and lists each server once', () => {
    const o = resolve({ servers: ['wss://b.example/mqtt', url, 'ws://c:8080'] })
    expect(o.servers).toEqual([url, 'wss://b.example/mqtt', 'ws://c:8080'])
  })

  it('keeps coalesceWrites false, and a subprotocol as a list of one or a copy of the list given', () => {
    expect(resolve({ coalesceWrites: false }).coalesceWrites).toBe(false)
    expect(resolve({ subprotocol: 'mqttv3.1' }).subprotocols).toEqual(['mqttv3.1'])
    const offered = ['mqtt', 'mqttv3.1']
    const o = resolve({ subprotocol: offered })
    offered.push('other')
    expect(o.subprotocols).toEqual(['mqtt', 'mqttv3.1'])
  })

  it('accepts every token character in a subprotocol', () => {
    const all = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    expect(resolve({ subprotocol: all }).subprotocols).toEqual([all])
  })

  it('accepts wss:// URLs', () => {
    expect(resolveOptions('wss://broker.example/mqtt', { WebSocket }).url).toBe('wss://broker.example/mqtt')
  })

  it('turns the will into a packet will with bytes, QoS 0 and no retain by default', () => {
    expect(resolve({ will: { topic: 'w', payload: 'bye' } }).will).toStrictEqual({
      topic: 'w',
      payload: new TextEncoder().encode('bye'),
      qos: 0,
      retain: false,
    })
  })

  it('keeps the will QoS, retain flag and a copy of its properties', () => {
    const properties = { willDelayInterval: 5 }
    const will = resolve({ protocolVersion: 5, will: { topic: 'w', payload: new Uint8Array([1]), qos: 2, retain: true, properties } }).will
    expect(will).toStrictEqual({ topic: 'w', payload: new Uint8Array([1]), qos: 2, retain: true, properties: { willDelayInterval: 5 } })
    properties.willDelayInterval = 0
    expect(will?.properties).toEqual({ willDelayInterval: 5 })
  })

  it('turns reconnect off with false', () => {
    expect(resolve({ reconnect: false }).reconnect).toBe(false)
  })

  it('keeps the given reconnect settings', () => {
    expect(resolve({ reconnect: { minDelay: 10, maxDelay: 20, factor: 1, jitter: false, maxAttempts: 3, resetAfter: 0 } }).reconnect).toStrictEqual({
      minDelay: 10,
      maxDelay: 20,
      factor: 1,
      jitter: false,
      maxAttempts: 3,
      resetAfter: 0,
    })
  })

  it('raises the default maxDelay to a minDelay above it', () => {
    expect(resolve({ reconnect: { minDelay: 40_000 } }).reconnect).toMatchObject({ minDelay: 40_000, maxDelay: 40_000 })
    expect(resolve({ reconnect: { minDelay: 5000 } }).reconnect).toMatchObject({ minDelay: 5000, maxDelay: 30_000 })
  })

  it('never changes the caller objects, nested ones included', () => {
    const options: ClientOptions = {
      WebSocket,
      protocolVersion: 5,
      will: { topic: 'w', payload: 'bye', properties: { contentType: 'text/plain' } },
      reconnect: { minDelay: 5 },
      servers: ['ws://b:1'],
      properties: { sessionExpiryInterval: 1 },
    }
    const snapshot = structuredClone({ ...options, WebSocket: undefined })
    resolveOptions(url, options)
    expect({ ...options, WebSocket: undefined }).toStrictEqual(snapshot)
    expect(options.WebSocket).toBe(WebSocket)
  })
})

describe('resolveOptions integer ranges', () => {
  type Range = [name: string, set: (v: number) => ClientOptions, get: (o: ResolvedOptions) => unknown, min: number, max: number]
  const MAX_INT = 2 ** 31 - 1
  const reconnectOf = (o: ResolvedOptions) => (o.reconnect === false ? undefined : o.reconnect)
  const ranges: Range[] = [
    ['keepalive', (v) => ({ keepalive: v }), (o) => o.keepalive, 0, 65_535],
    ['connectTimeout', (v) => ({ connectTimeout: v }), (o) => o.connectTimeout, 1, MAX_INT],
    ['maxInflight', (v) => ({ maxInflight: v }), (o) => o.maxInflight, 1, 65_535],
    ['queueLimit', (v) => ({ queueLimit: v }), (o) => o.queueLimit, 0, MAX_INT],
    ['maxPacketSize', (v) => ({ maxPacketSize: v }), (o) => o.maxPacketSize, 2, 268_435_460],
    ['endTimeout', (v) => ({ endTimeout: v }), (o) => o.endTimeout, 0, MAX_INT],
    ['reconnect.minDelay', (v) => ({ reconnect: { minDelay: v, maxDelay: MAX_INT } }), (o) => reconnectOf(o)?.minDelay, 0, MAX_INT],
    ['reconnect.maxDelay', (v) => ({ reconnect: { maxDelay: v } }), (o) => reconnectOf(o)?.maxDelay, 1000, MAX_INT],
    ['reconnect.maxAttempts', (v) => ({ reconnect: { maxAttempts: v } }), (o) => reconnectOf(o)?.maxAttempts, 0, MAX_INT],
    ['reconnect.resetAfter', (v) => ({ reconnect: { resetAfter: v } }), (o) => reconnectOf(o)?.resetAfter, 0, MAX_INT],
  ]

  it.each(ranges)('%s accepts its minimum %#', (_, set, get, min) => {
    expect(get(resolve(set(min)))).toBe(min)
  })

  it.each(ranges)('%s accepts its maximum %#', (_, set, get, __, max) => {
    expect(get(resolve(set(max)))).toBe(max)
  })

  it.each(ranges)('%s rejects values outside its range, fractions and non-numbers with InvalidArgumentError', (name, set, _, min, max) => {
    const shown = (bad: unknown) => (typeof bad === 'string' ? `the string '${bad}'` : String(bad))
    for (const bad of [min - 1, max + 1, min + 0.5, Number.NaN, Infinity, String(min)]) {
      const err = optionError({ WebSocket, ...set(bad as number) })
      expect(err.code).toBe('INVALID_ARGUMENT')
      expect(err.message).toBe(`${name} must be an integer from ${min} to ${max}, not ${shown(bad)}`)
    }
  })

  it('measures maxDelay from the given minDelay', () => {
    expect(optionError({ WebSocket, reconnect: { minDelay: 500, maxDelay: 499 } }).message).toBe(
      `reconnect.maxDelay must be an integer from 500 to ${MAX_INT}, not 499`,
    )
  })
})

describe('resolveOptions for MQTT 5', () => {
  it("takes protocol version 4, 5 and 'auto', and defaults to 4", () => {
    expect(resolveOptions(url, { WebSocket }).protocolVersion).toBe(4)
    expect(resolveOptions(url, { WebSocket, protocolVersion: 5 }).protocolVersion).toBe(5)
    expect(resolveOptions(url, { WebSocket, protocolVersion: 'auto' }).protocolVersion).toBe('auto')
  })

  it("keeps topic aliases 'auto' by default, and off when given false", () => {
    expect(resolveOptions(url, { WebSocket }).topicAliases).toBe('auto')
    expect(resolveOptions(url, { WebSocket, topicAliases: 'auto' }).topicAliases).toBe('auto')
    expect(resolveOptions(url, { WebSocket, topicAliases: false }).topicAliases).toBe(false)
  })

  it('keeps the onAuth hook it is given, and none when it is given none', () => {
    const onAuth = () => undefined
    expect(resolveOptions(url, { WebSocket, protocolVersion: 5, onAuth }).onAuth).toBe(onAuth)
    expect(resolveOptions(url, { WebSocket }).onAuth).toBeUndefined()
  })
})

describe('resolveOptions rejects bad input with InvalidArgumentError', () => {
  it.each<[string, unknown, string]>([
    ['options that are null', null, 'options must be an object'],
    ['options that are a string', 'ws://x', 'options must be an object'],
    ['a client id that is not a string', { WebSocket, clientId: 5 }, 'clientId must be a string'],
    ['a user name that is not a string', { WebSocket, username: 5 }, 'username must be a string'],
    ['a protocol version of 3, MQTT.js\'s MQTT 3.1', { WebSocket, protocolVersion: 3 }, "protocolVersion must be 4 (MQTT 3.1.1), 5 (MQTT 5.0) or 'auto', not 3: MQTT 3.1 is not supported"],
    ['a protocol version of 6', { WebSocket, protocolVersion: 6 }, "protocolVersion must be 4 (MQTT 3.1.1), 5 (MQTT 5.0) or 'auto', not 6"],
    ['a protocol version given as text', { WebSocket, protocolVersion: '5' }, "protocolVersion must be 4 (MQTT 3.1.1), 5 (MQTT 5.0) or 'auto', not the string '5'"],
    ['clean false with an empty client id', { WebSocket, clean: false, clientId: '' }, 'clean: false needs a clientId'],
    ['topic aliases that are neither auto nor false', { WebSocket, topicAliases: true }, "topicAliases must be 'auto' or false"],
    ['an onAuth that is not a function', { WebSocket, onAuth: 'x' }, 'onAuth must be a function'],
    ['a password without a user name in 3.1.1', { WebSocket, password: 'p' }, 'MQTT 3.1.1 allows a password only with a username'],
    ['a password that is a number', { WebSocket, username: 'u', password: 42 }, 'password must be a string or Uint8Array'],
    ['a store without close', { WebSocket, store: { load() {}, put() {}, delete() {} } }, 'store must have load, put, delete and close'],
    ['a store that is null', { WebSocket, store: null }, 'store must have load, put, delete and close'],
    ['a store that is a function', { WebSocket, store: () => undefined }, 'store must have load, put, delete and close'],
    ['a function carrying the store methods', { WebSocket, store: Object.assign(() => undefined, nullStore()) }, 'store must have load, put, delete and close'],
    ['a will that is a string', { WebSocket, will: 'bye' }, 'will must be an object'],
    ['a will that is null', { WebSocket, will: null }, 'will must be an object'],
    ['a will QoS of 3', { WebSocket, will: { topic: 'w', payload: '', qos: 3 } }, 'QoS must be 0, 1 or 2, not 3'],
    ['a will payload that is a number', { WebSocket, will: { topic: 'w', payload: 1 } }, 'payload must be a string, Uint8Array or ArrayBuffer, not number'],
    ['a reconnect factor below 1', { WebSocket, reconnect: { factor: 0.5 } }, 'reconnect.factor must be a number >= 1'],
    ['a reconnect factor that is NaN', { WebSocket, reconnect: { factor: Number.NaN } }, 'reconnect.factor must be a number >= 1'],
    ['a reconnect factor given as text', { WebSocket, reconnect: { factor: '2' } }, 'reconnect.factor must be a number >= 1'],
    ['a WebSocket that is not a constructor', { WebSocket: {} }, 'No WebSocket implementation: pass one as options.WebSocket (in Node 20: import WebSocket from "ws")'],
    ['a server URL that is not ws://', { WebSocket, servers: ['http://b'] }, 'URL must start with ws:// or wss://, not http://'],
    ['coalesceWrites given as text', { WebSocket, coalesceWrites: 'false' }, 'coalesceWrites must be true or false'],
    ['an empty subprotocol', { WebSocket, subprotocol: '' }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['a subprotocol with a space', { WebSocket, subprotocol: 'mqtt v3' }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['two subprotocols in one string', { WebSocket, subprotocol: 'mqtt,mqttv3.1' }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['a subprotocol outside ASCII', { WebSocket, subprotocol: 'mqtté' }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['a subprotocol that is a number', { WebSocket, subprotocol: 5 }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['a subprotocol list holding a number', { WebSocket, subprotocol: ['mqtt', 5] }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['an empty subprotocol list', { WebSocket, subprotocol: [] }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
    ['a subprotocol listed twice', { WebSocket, subprotocol: ['mqtt', 'mqtt'] }, 'subprotocol must be a token (RFC 7230) or a list of distinct tokens'],
  ])('rejects %s', (_, options, message) => {
    const err = optionError(options)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe(message)
  })

  it.each<[string, unknown, string]>([
    ['a URL that is not a string', 42, 'url must be a string like ws://host:port/path'],
    // Not quoted: a URL's query may carry a token even when the URL does not parse.
    ['a URL that does not parse', 'not a url?token=s3cret', 'Invalid URL: it does not parse (not shown, as it may carry credentials)'],
    ['an http URL', 'http://x', 'URL must start with ws:// or wss://, not http://'],
    ['an mqtt URL', 'mqtt://x:1883', 'URL must start with ws:// or wss://, not mqtt://'],
  ])('rejects %s', (_, at, message) => {
    const err = optionError({ WebSocket }, at as string)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe(message)
  })

  it('accepts a reconnect factor of exactly 1', () => {
    expect(resolve({ reconnect: { factor: 1 } }).reconnect).toMatchObject({ factor: 1 })
  })

  it('rejects a bad will topic with InvalidTopicError', () => {
    for (const topic of ['', 'w/+', 5]) {
      let caught: unknown
      try {
        resolve({ will: { topic: topic as string, payload: '' } })
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(InvalidTopicError)
      expect((caught as InvalidTopicError).code).toBe('INVALID_TOPIC')
    }
  })
})

describe('resolveOptions at the byte limits of CONNECT fields', () => {
  it('takes a password of exactly 65,535 bytes and refuses one byte more, naming the limit and not the password', () => {
    expect(resolve({ username: 'u', password: new Uint8Array(65_535) }).password?.byteLength).toBe(65_535)
    expect(optionError({ WebSocket, username: 'u', password: new Uint8Array(65_536) }).message).toBe('password must be at most 65535 bytes')
  })

  it('takes a will payload of exactly 65,535 bytes', () => {
    expect(resolve({ will: { topic: 'w', payload: new Uint8Array(65_535) } }).will?.payload.byteLength).toBe(65_535)
  })

  it('refuses a user name that is not an MQTT UTF-8 string, naming the field', () => {
    expect(optionError({ WebSocket, username: 'a\u0000b' }).message).toBe('username must not contain U+0000')
  })
})

describe('resolveOptions names the flag it refuses', () => {
  it('names queueQoS0', () => {
    expect(optionError({ WebSocket, queueQoS0: 'yes' }).message).toBe("queueQoS0 must be true or false, not the string 'yes'")
  })

  it('names will.retain', () => {
    expect(optionError({ WebSocket, will: { topic: 'w', payload: 'x', retain: 1 } }).message).toBe('will.retain must be true or false, not 1')
  })
})
