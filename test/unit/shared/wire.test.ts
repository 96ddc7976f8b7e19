import { MessageChannel } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import {
  BrokerLimitError,
  BufferOverflowError,
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  CredentialsError,
  InvalidArgumentError,
  InvalidTopicError,
  KeepaliveTimeoutError,
  MqttError,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  RequestTimeoutError,
  SessionTakenOverError,
  SubscribeError,
  TransportError,
} from '../../../src/index.js'
import {
  deliverablePacket,
  type HostMessage,
  parseTabMessage,
  rebuildError,
  serializeError,
  sharedKeyOf,
  type TabMessage,
  WIRE_VERSION,
} from '../../../src/shared/wire.js'
import { thrown } from '../../support/expect-error.js'

/** An error as the tab gets it: serialized, structured-cloned (as postMessage does), rebuilt. */
const acrossTheWire = (error: unknown) => rebuildError(structuredClone(serializeError(error)))

describe('errors across the wire', () => {
  const every: MqttError[] = [
    new InvalidTopicError('a/+', 'no wildcards'),
    new InvalidArgumentError('why'),
    new ConnectionRefusedError(5, 'not authorized'),
    new ConnectTimeoutError(10),
    new SubscribeError([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 0x87 }], { reasonString: 'no', userProperties: { k: 'v' } }),
    new ReasonCodeError('Publish', 0x97, { reasonString: 'quota' }),
    new ClientClosedError(),
    new ConnectionClosedError(),
    new KeepaliveTimeoutError(),
    new ProtocolError('bad', { reasonCode: 0x81 }),
    new QueueFullError(3),
    new BufferOverflowError('t/#', 5),
    new OfflineError(),
    new TransportError('socket'),
    new BrokerLimitError('maximumQoS', 'QoS 2 publish'),
    new RequestTimeoutError('t', 5),
    new SessionTakenOverError('taken'),
    new CredentialsError('credentials', 'hook failed'),
  ]

  it.each(every.map((e) => [e.name, e] as const))('rebuilds %s as its class, with its name, code, message and fields', (_, error) => {
    const rebuilt = acrossTheWire(error)
    expect(rebuilt).toBeInstanceOf(error.constructor as typeof MqttError)
    expect(rebuilt).toBeInstanceOf(MqttError)
    expect(rebuilt).toBeInstanceOf(Error)
    expect({ ...rebuilt }).toEqual({ ...error })
    expect([rebuilt.name, rebuilt.message, (rebuilt as MqttError).code]).toEqual([error.name, error.message, error.code])
    expect(rebuilt.stack).toBe(error.stack)
  })

  it('covers every code the errors have', () => {
    expect(new Set(every.map((e) => e.code)).size).toBe(every.length)
  })

  it("keeps an error's cause when it is an Error, rebuilt as its class too", () => {
    const error = new CredentialsError('credentials', 'the hook answered no password', { cause: new InvalidArgumentError('password must be a string') })
    const rebuilt = acrossTheWire(error)
    expect(rebuilt.cause).toBeInstanceOf(InvalidArgumentError)
    expect((rebuilt.cause as Error).message).toBe('password must be a string')
  })

  it('leaves out what cannot be cloned: a cause that is not an Error, a field holding a function', () => {
    const error = Object.assign(new TransportError('socket', { cause: { target: () => undefined } }), { hook: () => undefined })
    const serialized = serializeError(error)
    expect(serialized.cause).toBeUndefined()
    expect(serialized.fields).toEqual({})
    expect(() => structuredClone(serialized)).not.toThrow()
  })

  it('keeps a field named __proto__ a plain field: the rebuilt error stays an instance of its class', () => {
    const fields = JSON.parse('{"__proto__": {"evil": true}, "topic": "t"}') as { [field: string]: unknown }
    const rebuilt = rebuildError({ name: 'InvalidTopicError', message: 'm', code: 'INVALID_TOPIC', fields })
    expect(rebuilt).toBeInstanceOf(InvalidTopicError)
    expect((rebuilt as unknown as { evil?: boolean }).evil).toBeUndefined()
    expect((rebuilt as InvalidTopicError).topic).toBe('t')
  })

  it('rebuilds errors of other kinds as built-in errors, and what was thrown that is no Error as an Error saying it', () => {
    expect(acrossTheWire(new TypeError('x is not a function'))).toBeInstanceOf(TypeError)
    const odd = acrossTheWire('a string thrown')
    expect([odd.constructor, odd.message]).toEqual([Error, 'a string thrown'])
    const unknownCode = rebuildError({ name: 'FutureError', message: 'm', code: 'FUTURE', fields: {} })
    expect(unknownCode).toBeInstanceOf(MqttError)
    expect(unknownCode.name).toBe('FutureError')
  })
})

describe('messages through a real MessageChannel', () => {
  /** Posts `message` from one port and resolves with what the other received: the structured clone a tab gets. */
  function through<T>(message: T): Promise<T> {
    const { port1, port2 } = new MessageChannel()
    return new Promise<T>((resolve) => {
      port2.once('message', (received: T) => {
        port1.close()
        resolve(received)
      })
      port1.postMessage(message)
    })
  }

  it('carries a delivery with its Uint8Array payload, and a failure whose error is rebuilt as its class', async () => {
    const frame = new Uint8Array(1024).fill(9)
    frame.set([104, 105], 10)
    const packet = { cmd: 'publish', topic: 'a/b', payload: frame.subarray(10, 12), qos: 1, retain: false, dup: false, messageId: 4 } as const
    const delivery: HostMessage = { type: 'message', packet: deliverablePacket(packet), subs: [1, 2] }
    const got = await through(delivery)
    expect(got.type === 'message' && got.packet.payload).toBeInstanceOf(Uint8Array)
    expect(got).toEqual({ ...delivery, packet: { ...packet, payload: new Uint8Array([104, 105]) } })
    // Only the payload's own two bytes crossed, not the kilobyte frame it was a view on.
    expect(got.type === 'message' && got.packet.payload.buffer.byteLength).toBe(2)

    const failure: HostMessage = { type: 'failure', id: 3, error: serializeError(new InvalidTopicError('a/#', 'no wildcards')) }
    const answer = await through(failure)
    const error = answer.type === 'failure' ? rebuildError(answer.error) : undefined
    expect(error).toBeInstanceOf(InvalidTopicError)
    expect((error as InvalidTopicError).topic).toBe('a/#')
  })

  it('carries every kind of tab message unchanged', async () => {
    const messages: TabMessage[] = [
      { type: 'hello', wire: WIRE_VERSION, tab: 't1', key: sharedKeyOf('ws://b', { clientId: 'c' }), url: 'ws://b', options: { clientId: 'c', keepalive: 30, password: new Uint8Array([1]) } },
      { type: 'subscribe', id: 1, subscriptions: [{ sub: 1, topic: 'a/+', qos: 1, nl: true, rh: 2 }], properties: { subscriptionIdentifier: 5 } },
      { type: 'unsubscribe', id: 2, filters: ['a/+'], subs: [1] },
      { type: 'publish', id: 3, topic: 'a/b', payload: new Uint8Array([1, 2]), options: { qos: 2, retain: true, properties: { correlationData: new Uint8Array([3]) } } },
      { type: 'end', id: 4, options: { force: true } },
      { type: 'bye' },
    ]
    for (const message of messages) {
      const got = await through(message)
      expect(got).toEqual(message)
      expect(parseTabMessage(got)).toEqual(message)
    }
  })
})

describe('parseTabMessage', () => {
  it.each([
    ['not an object', 'hello'],
    ['an unknown type', { type: 'launch' }],
    ['a request without an id', { type: 'publish', topic: 't', payload: 'x' }],
    ['a negative id', { type: 'end', id: -1 }],
    ['a payload of another kind', { type: 'publish', id: 1, topic: 't', payload: [1, 2] }],
    ['no subscriptions', { type: 'subscribe', id: 1, subscriptions: [] }],
    ['a subscription without its number', { type: 'subscribe', id: 1, subscriptions: [{ topic: 'a', qos: 0 }] }],
    ['a QoS of 3', { type: 'subscribe', id: 1, subscriptions: [{ topic: 'a', qos: 3, sub: 1 }] }],
    ['rh of 3', { type: 'subscribe', id: 1, subscriptions: [{ topic: 'a', qos: 0, sub: 1, rh: 3 }] }],
    ['a filter that is not a string', { type: 'unsubscribe', id: 1, filters: [1] }],
    ['subs that are not numbers', { type: 'unsubscribe', id: 1, filters: ['a'], subs: ['1'] }],
    ['options that are not an object', { type: 'end', id: 1, options: true }],
    ['a hello of another wire version', { type: 'hello', wire: WIRE_VERSION + 1, tab: 't', key: 'k', url: 'ws://b', options: {} }],
    ['a hello without options', { type: 'hello', wire: WIRE_VERSION, tab: 't', key: 'k', url: 'ws://b' }],
  ])('refuses %s with InvalidArgumentError', (_, message) => {
    thrown(() => parseTabMessage(message), InvalidArgumentError)
  })

  it('keeps only the fields a message has, not what else a tab put in it', () => {
    expect(parseTabMessage({ type: 'bye', extra: 1 })).toEqual({ type: 'bye' })
    expect(parseTabMessage({ type: 'subscribe', id: 1, subscriptions: [{ topic: 'a', qos: 0, sub: 1, junk: true }] })).toEqual({
      type: 'subscribe',
      id: 1,
      subscriptions: [{ topic: 'a', qos: 0, sub: 1 }],
    })
  })
})

describe('the payload that crosses', () => {
  it('is the packet as it is when its payload owns its buffer, and its own copy when a view on a larger one', () => {
    const own = { cmd: 'publish', topic: 't', payload: new Uint8Array([1]), qos: 0, retain: false, dup: false } as const
    expect(deliverablePacket(own)).toBe(own)
    const view = { ...own, payload: new Uint8Array(64).subarray(8, 16) }
    const copy = deliverablePacket(view)
    expect(copy.payload.buffer.byteLength).toBe(8)
    expect(copy).toEqual(view)
  })
})

describe('sharedKeyOf', () => {
  it('is the explicit key, or the URL and client id', () => {
    expect(sharedKeyOf('ws://b', { sharedKey: 'mine', clientId: 'c' })).toBe('mine')
    expect(sharedKeyOf('ws://b', { clientId: 'c' })).not.toBe(sharedKeyOf('ws://b', { clientId: 'd' }))
    expect(sharedKeyOf('ws://b')).toBe(sharedKeyOf('ws://b', {}))
  })
})
