import { describe, expect, it, vi } from 'vitest'
import {
  ClientClosedError,
  type ClientOptions,
  ConnectionClosedError,
  ConnectTimeoutError,
  InvalidTopicError,
  MemoryStore,
  type Message,
  MqttClient,
  SubscribeError,
} from '../../../src/index.js'
import { rejection } from '../../support/expect-error.js'
import { FakeSocket, written } from './fake-socket.js'
import { startedClients, useFakeClock } from './fake-client.js'

/**
 * MqttClient with no server: a fake WebSocket stands in for the broker and fake timers for the
 * clock, so each test walks the client through exactly the packets and times it names.
 */
useFakeClock()
const started = startedClients()

function client(options: ClientOptions = {}): MqttClient {
  const c = new MqttClient('ws://broker.test', { WebSocket: FakeSocket, reconnect: { minDelay: 100, maxDelay: 100, jitter: false }, ...options })
  started.push(c)
  return c
}

/** Opens a client and answers its CONNECT; resolves once the store was read and CONNACK taken. */
async function connected(options: ClientOptions = {}, sessionPresent = false): Promise<{ c: MqttClient; socket: FakeSocket }> {
  const c = client(options).open()
  await written() // the store is read first (vi.waitFor would move the fake clock)
  const socket = FakeSocket.last
  socket.open()
  socket.deliver({ cmd: 'connack', sessionPresent, returnCode: 0 })
  expect(c.state).toBe('connected')
  return { c, socket }
}

function events(c: MqttClient): string[] {
  const seen: string[] = []
  for (const name of ['connect', 'reconnect', 'close', 'offline', 'end'] as const) c.on(name, () => seen.push(name))
  c.on('error', (e) => seen.push(`error:${e.name}`))
  return seen
}

describe('MqttClient over a fake socket', () => {
  it('writes CONNECT when the socket opens and reports connected on CONNACK, with the mqtt subprotocol', async () => {
    const c = client({ clientId: 'unit-1', keepalive: 30 }).open()
    expect(c.state).toBe('connecting')
    await written()
    expect(FakeSocket.all).toHaveLength(1)
    const socket = FakeSocket.last
    expect(socket.protocols).toEqual(['mqtt'])
    socket.open()
    await written()
    expect(socket.written).toMatchObject([{ cmd: 'connect', clientId: 'unit-1', keepalive: 30, clean: true }])
    const seen = events(c)
    socket.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
    expect(seen).toEqual(['connect'])
    expect(c.connected).toBe(true)
  })

  it('hands the CONNACK to the connect event and keeps it as client.connack (MQTT 5: with its properties)', async () => {
    const c = client({ protocolVersion: 5 }).open()
    await written()
    FakeSocket.last.open()
    await written()
    const given: unknown[] = []
    c.on('connect', (connack) => given.push(connack))
    expect(c.connack).toBeUndefined()
    const connack = { cmd: 'connack', sessionPresent: true, reasonCode: 0, properties: { assignedClientIdentifier: 'given-id', maximumQoS: 1 } } as const
    FakeSocket.last.deliver(connack, 5)
    expect(given).toMatchObject([connack])
    expect(c.connack).toBe(given[0])
    expect(c.clientId).toBe('given-id')
  })

  it('resolves a QoS 1 publish on its PUBACK, and keeps it in the store until then', async () => {
    const store = new MemoryStore()
    const { c, socket } = await connected({ store })
    let settled = false
    const sent = c.publish('t', 'hello', { qos: 1 }).then(() => {
      settled = true
    })
    await written()
    const publish = socket.written.at(-1)
    expect(publish).toMatchObject({ cmd: 'publish', topic: 't', qos: 1 })
    expect(await store.load()).toHaveLength(1)
    expect(settled).toBe(false)
    socket.deliver({ cmd: 'puback', messageId: (publish as { messageId: number }).messageId })
    await sent
    expect(await store.load()).toEqual([])
  })

  it('rejects a publish to a wildcard topic with InvalidTopicError and writes nothing', async () => {
    const { c, socket } = await connected()
    await written()
    const before = socket.written.length
    await rejection(c.publish('a/+', 'x', { qos: 1 }), InvalidTopicError)
    await written()
    expect(socket.written).toHaveLength(before)
  })

  it('gives each subscription handler its own messages, and forgets a filter the broker refused', async () => {
    const { c, socket } = await connected()
    const got: string[] = []
    const granted = c.subscribe('a/+', { qos: 1 }, (m: Message) => got.push(`+:${m.topic}`))
    await written()
    socket.deliver({ cmd: 'suback', messageId: (socket.written.at(-1) as { messageId: number }).messageId, granted: [1] })
    expect(await granted).toEqual([{ topic: 'a/+', qos: 1 }])
    const refused = c.subscribe(['b', 'c'], (m: Message) => got.push(`bc:${m.topic}`))
    await written()
    socket.deliver({ cmd: 'suback', messageId: (socket.written.at(-1) as { messageId: number }).messageId, granted: [0, 0x80] })
    const error = await rejection(refused, SubscribeError)
    expect(error.granted).toEqual([
      { topic: 'b', qos: 0 },
      { topic: 'c', qos: 0x80 },
    ])
    for (const topic of ['a/x', 'b', 'c', 'd']) socket.deliver({ cmd: 'publish', topic, payload: Buffer.from('p'), qos: 0, retain: false, dup: false })
    expect(got).toEqual(['+:a/x', 'bc:b'])
  })

  it('on a dropped connection says close and offline, waits the backoff delay, then reconnects and subscribes again', async () => {
    const { c, socket } = await connected()
    const sub = c.subscribe('kept', { qos: 1 })
    await written()
    socket.deliver({ cmd: 'suback', messageId: (socket.written.at(-1) as { messageId: number }).messageId, granted: [1] })
    await sub
    const seen = events(c)
    socket.drop()
    expect(seen).toEqual(['error:TransportError', 'close', 'offline'])
    expect(c.state).toBe('reconnecting')
    expect(c.nextReconnect).toEqual({ attempt: 1, in: 100 })
    vi.advanceTimersByTime(99)
    expect(c.nextReconnect).toEqual({ attempt: 1, in: 1 })
    expect(FakeSocket.all).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(seen.at(-1)).toBe('reconnect')
    expect(c.nextReconnect).toBeUndefined()
    expect(FakeSocket.all).toHaveLength(2)
    const second = FakeSocket.last
    second.open()
    second.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
    await written()
    expect(second.written.map((p) => p.cmd)).toEqual(['connect', 'subscribe'])
    expect(second.written[1]).toMatchObject({ subscriptions: [{ topic: 'kept', qos: 1 }] })
  })

  it('pings after a keepalive period of silence and gives the link up half a period after an unanswered ping', async () => {
    const { c, socket } = await connected({ keepalive: 1 })
    const seen = events(c)
    vi.advanceTimersByTime(1000)
    await written()
    expect(socket.commands.at(-1)).toBe('pingreq')
    vi.advanceTimersByTime(499)
    expect(seen).toEqual([])
    vi.advanceTimersByTime(1)
    expect(seen).toEqual(['error:KeepaliveTimeoutError', 'close', 'offline'])
    expect(socket.closedByClient).toBe(true)
  })

  it('fails the connection with ConnectTimeoutError when no CONNACK comes in connectTimeout', async () => {
    const c = client({ connectTimeout: 500, reconnect: false }).open()
    const errors: Error[] = []
    c.on('error', (e) => errors.push(e))
    await written()
    expect(FakeSocket.all).toHaveLength(1)
    FakeSocket.last.open()
    vi.advanceTimersByTime(499)
    expect(errors).toEqual([])
    vi.advanceTimersByTime(1)
    expect(errors[0]).toBeInstanceOf(ConnectTimeoutError)
    expect(c.state).toBe('disconnected')
    await rejection(c.publish('t', 'x'), ConnectionClosedError)
  })

  it('ends gracefully: waits for the PUBACK, then DISCONNECT, close and end', async () => {
    const { c, socket } = await connected()
    const sent = c.publish('t', 'x', { qos: 1 })
    await written()
    const seen = events(c)
    const ended = c.end()
    expect(c.state).toBe('connected') // still connected while what is in flight settles
    await rejection(c.publish('t', 'late'), ClientClosedError)
    socket.deliver({ cmd: 'puback', messageId: (socket.written.at(-1) as { messageId: number }).messageId })
    await ended
    await sent
    await written()
    expect(socket.commands.at(-1)).toBe('disconnect')
    expect(seen).toEqual(['close', 'end'])
    expect(c.state).toBe('closed')
  })

  it('ends with force at once, rejecting what is in flight with ClientClosedError, and holds no timer after', async () => {
    const { c } = await connected({ keepalive: 10 })
    const pending = [c.publish('t', 'x', { qos: 2 }), c.subscribe('s'), c.unsubscribe('u')]
    await c.end({ force: true })
    for (const p of pending) await rejection(p, ClientClosedError)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('keeps a single timer for all its deadlines', async () => {
    const { c, socket } = await connected({ keepalive: 5, connectTimeout: 2000 })
    expect(vi.getTimerCount()).toBe(1)
    socket.drop()
    expect(vi.getTimerCount()).toBe(1) // the retry, which replaced keepalive
    vi.advanceTimersByTime(100)
    expect(vi.getTimerCount()).toBe(1) // CONNACK's deadline
    c.on('error', () => undefined)
  })
})

