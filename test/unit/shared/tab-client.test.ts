import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { Packet as WirePacket } from 'mqtt-packet'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  type ClientOptions,
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidTopicError,
  type Message,
  MemoryStore,
  MqttClient,
  type MqttClientApi,
  MqttError,
  OfflineError,
  SubscribeError,
} from '../../../src/index.js'
import { SharedHost } from '../../../src/shared/host.js'
import { connectShared, type HostLink, SharedClient } from '../../../src/shared/tab-client.js'
import type { HostMessage, TabMessage } from '../../../src/shared/wire.js'
import { rejection, thrown } from '../../support/expect-error.js'
import { FakeSocket } from '../client/fake-socket.js'

/**
 * SharedClients in "tabs" and a SharedHost at the other end of Node's real MessageChannels, the
 * host's client a real MqttClient over a FakeSocket: the test plays the broker on that one socket
 * and reads what each tab's caller sees.
 */

const URL = 'ws://broker.test'
const ports: MessagePort[] = []
const hosts: Array<{ host: SharedHost; tabs: string[] }> = []

afterEach(() => {
  for (const { host, tabs } of hosts.splice(0)) for (const tab of tabs) host.tabGone(tab)
  for (const port of ports.splice(0)) port.close()
})

/** A tab's end of a MessagePort, keeping what it posts and what the host sends it. */
function portLink(port: MessagePort) {
  const posted: TabMessage[] = []
  const got: HostMessage[] = []
  const link: HostLink = {
    post(message) {
      posted.push(message)
      port.postMessage(message)
    },
    onMessage(handler) {
      port.on('message', (message: HostMessage) => {
        got.push(message)
        handler(message)
      })
    },
    close: () => port.close(),
    onClose: (handler) => port.on('close', () => handler()),
  }
  return { link, posted, got }
}

/** What a worker entry does with a port: the first message is the hello, which names the tab. */
function serve(host: SharedHost, port: MessagePort, tabs: string[]): void {
  let tab: string | undefined
  port.on('message', (message: TabMessage) => {
    if (tab === undefined && message.type === 'hello') {
      tab = message.tab
      tabs.push(tab)
      host.addTab(tab, { post: (m) => port.postMessage(m) })
    }
    if (tab !== undefined) host.receive(tab, message)
  })
}

/** Lets messages cross the channels (each hop takes a turn of the event loop) until `done` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (done()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`never: ${what}`)
}

/** A few turns of the event loop, for checking that something did not happen. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** One host (in "the worker") and the tabs connected to it, the connection's socket played by the test. */
function sharedOrigin() {
  FakeSocket.all.length = 0
  const hosted: MqttClient[] = []
  const host = new SharedHost((url, options) => {
    const client = new MqttClient(url, { ...options, WebSocket: FakeSocket })
    hosted.push(client)
    return client.open()
  })
  const entry = { host, tabs: [] as string[] }
  hosts.push(entry)
  const seen = new Map<string, number>()
  const origin = {
    host,
    hosted,
    /** A tab's shared client, its link to the host a MessageChannel. */
    tab(options: ClientOptions = {}) {
      const { port1, port2 } = new MessageChannel()
      ports.push(port1, port2)
      serve(host, port2, entry.tabs)
      const { link, posted, got } = portLink(port1)
      const client = connectShared(URL, { clientId: 'shared-id', shared: true, ...options }, link)
      return { client, posted, got, hostPort: port2 }
    },
    get socket(): FakeSocket {
      return FakeSocket.last
    },
    /** The broker accepts the connection once its socket is there. */
    async connect(): Promise<void> {
      await until(() => FakeSocket.all.length > 0, 'the host opened a socket')
      origin.socket.open()
      origin.socket.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
    },
    /** The packets of `cmd` written since the last call for it. */
    async written(cmd: string, count: number): Promise<WirePacket[]> {
      const from = seen.get(cmd) ?? 0
      const of = () => origin.socket.written.filter((p) => p.cmd === cmd)
      await until(() => of().length >= from + count, `${count} ${cmd} written`)
      seen.set(cmd, from + count)
      return of().slice(from, from + count)
    },
    /** The broker grants a SUBSCRIBE (each filter at the QoS asked, or `codes`). */
    suback(packet: WirePacket, codes?: number[]): void {
      const { messageId, subscriptions } = packet as { messageId: number; subscriptions: Array<{ qos: number }> }
      origin.socket.deliver({ cmd: 'suback', messageId, granted: codes ?? subscriptions.map((s) => s.qos) } as WirePacket)
    },
    /** The broker sends a message on `topic`. */
    publish(topic: string, text = topic): void {
      origin.socket.deliver({ cmd: 'publish', topic, payload: Buffer.from(text), qos: 0, retain: false, dup: false })
    },
  }
  return origin
}

/** Subscribe answers to every SUBSCRIBE written, in order, reset per call. */
async function grantAll(origin: ReturnType<typeof sharedOrigin>, count: number): Promise<void> {
  for (const packet of await origin.written('subscribe', count)) origin.suback(packet)
}

describe('SharedClient: one connection for many tabs', () => {
  it('makes one SUBSCRIBE on the connection for a filter two tabs ask for, and gives each tab only its own filters\' messages', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const b = origin.tab()
    await origin.connect()
    const seen = { a: [] as string[], bAll: [] as string[], bSensors: [] as string[], aEvent: [] as string[] }
    a.client.on('message', (topic) => seen.aEvent.push(topic))
    // Tab A's first, so that B's lower QoS meets the filter held already (ports do not order messages between them).
    const granted = [a.client.subscribe('news/#', { qos: 1 }, (m) => seen.a.push(m.topic))]
    const subscribes = await origin.written('subscribe', 1)
    granted.push(b.client.subscribe('news/#', (m) => seen.bAll.push(m.topic)), b.client.subscribe('sensors/+', (m) => seen.bSensors.push(m.topic)))
    subscribes.push(...(await origin.written('subscribe', 1)))
    await turns()
    expect(origin.socket.commands.filter((c) => c === 'subscribe')).toHaveLength(2)
    expect(subscribes.map((p) => (p as { subscriptions: Array<{ topic: string }> }).subscriptions.map((s) => s.topic))).toEqual([['news/#'], ['sensors/+']])
    for (const p of subscribes) origin.suback(p)
    expect(await Promise.all(granted)).toEqual([[{ topic: 'news/#', qos: 1 }], [{ topic: 'news/#', qos: 0 }], [{ topic: 'sensors/+', qos: 0 }]])
    for (const topic of ['news/1', 'sensors/2', 'other/3']) origin.publish(topic)
    await until(() => seen.bSensors.length === 1 && seen.bAll.length === 1 && seen.a.length === 1, 'deliveries')
    await turns()
    expect(seen).toEqual({ a: ['news/1'], bAll: ['news/1'], bSensors: ['sensors/2'], aEvent: ['news/1'] })
    expect(origin.hosted).toHaveLength(1)
  })

  it('builds the same Message as an unshared client: topic, payload bytes, text(), json()', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    await origin.connect()
    const got: Message[] = []
    const granted = a.client.subscribe('j', (m) => got.push(m))
    await grantAll(origin, 1)
    await granted
    origin.publish('j', '{"n":1}')
    await until(() => got.length === 1, 'the message')
    const [m] = got as [Message]
    expect([m.topic, m.payload, m.text(), m.json(), m.qos, m.retain]).toEqual(['j', new TextEncoder().encode('{"n":1}'), '{"n":1}', { n: 1 }, 0, false])
  })

  it('settles a publish in the publishing tab only', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const b = origin.tab()
    await origin.connect()
    const sent = a.client.publish('t', 'hello', { qos: 1 })
    const [publish] = (await origin.written('publish', 1)) as [WirePacket & { messageId: number; topic: string }]
    expect(publish.topic).toBe('t')
    origin.socket.deliver({ cmd: 'puback', messageId: publish.messageId })
    await expect(sent).resolves.toEqual({ reasonCode: 0 })
    await turns()
    expect(a.got.filter((m) => m.type === 'result')).toHaveLength(1)
    expect(b.got.filter((m) => m.type === 'result' || m.type === 'failure')).toEqual([])
  })

  it('mirrors the connection: a tab reads its state and client id, and a tab joining it up hears connect with its CONNACK', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const events: string[] = []
    a.client.on('connect', () => events.push('a connect'))
    expect(a.client.state).toBe('connecting')
    await origin.connect()
    await until(() => a.client.connected, 'tab A connected')
    const b = origin.tab()
    b.client.on('connect', (connack) => events.push(`b connect ${connack.returnCode ?? connack.reasonCode}`))
    await until(() => b.client.connected, 'tab B connected')
    expect(events).toEqual(['a connect', 'b connect 0'])
    expect([b.client.state, b.client.clientId, b.client.protocolVersion, b.client.connack?.sessionPresent]).toEqual(['connected', 'shared-id', 4, false])
    expect(b.client.stats).toEqual({ queued: 0, inFlight: 0, awaitingRelease: 0, unknownAcks: 0 })
    expect(b.client.nextReconnect).toBeUndefined()
  })

  it('hears the connection dropping as close and offline, and the host client\'s error rebuilt as its class', async () => {
    const origin = sharedOrigin()
    const a = origin.tab({ reconnect: { minDelay: 60_000, jitter: false } })
    await origin.connect()
    await until(() => a.client.connected, 'connected')
    const heard: string[] = []
    const errors: Error[] = []
    const hostErrors: Error[] = []
    origin.hosted[0]?.on('error', (e) => hostErrors.push(e))
    a.client.on('close', () => heard.push('close')).on('offline', () => heard.push('offline')).on('error', (e) => errors.push(e))
    origin.socket.drop()
    await until(() => heard.length === 2, 'close and offline')
    expect(heard).toEqual(['close', 'offline'])
    expect(a.client.state).toBe('reconnecting')
    expect(errors.map((e) => [e.constructor, e.name, e.message])).toEqual(hostErrors.map((e) => [e.constructor, e.name, e.message]))
    for (const e of errors) expect(e).toBeInstanceOf(MqttError)
  })
})

describe('SharedClient: errors', () => {
  it('rejects a subscribe the broker refuses with SubscribeError, its granted codes intact, and drops only the refused filter\'s handler', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    await origin.connect()
    const got: string[] = []
    const sent = a.client.subscribe(['ok', 'no'], (m) => got.push(m.topic))
    const [packet] = (await origin.written('subscribe', 1)) as [WirePacket]
    origin.suback(packet, [0, 0x80])
    const error = await rejection(sent, SubscribeError)
    expect(error.granted).toEqual([
      { topic: 'ok', qos: 0 },
      { topic: 'no', qos: 0x80 },
    ])
    origin.publish('ok')
    origin.publish('no')
    await until(() => got.length > 0, 'the granted filter\'s message')
    await turns()
    expect(got).toEqual(['ok'])
  })

  it("rejects with the host client's own error as its class: OfflineError for QoS 0 while offline under queueQoS0: false", async () => {
    const origin = sharedOrigin()
    const a = origin.tab({ queueQoS0: false })
    const error = await rejection(a.client.publish('t', 'x'), OfflineError)
    expect([error.name, error.code]).toEqual(['OfflineError', 'OFFLINE'])
    expect(a.posted.map((m) => m.type)).toEqual(['hello', 'publish'])
  })

  it('rejects bad input with the same typed error as an unshared client, and posts nothing for it', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const unshared = new MqttClient(URL, { WebSocket: FakeSocket })
    await origin.connect()
    await until(() => a.client.connected, 'connected')
    const posted = a.posted.length
    const calls: Array<(c: MqttClientApi) => Promise<unknown>> = [
      (c) => c.publish('a/+', 'x'),
      (c) => c.publish('', 'x'),
      (c) => c.publish('t', 'x', { qos: 3 as never }),
      (c) => c.publish('t', 42 as never),
      (c) => c.publish('t', 'x', { properties: { contentType: 'text/plain' } }),
      (c) => c.publish('t', 'x', { QoS: 1 } as never),
      (c) => (c.publish as (...args: unknown[]) => Promise<unknown>)('t', 'x', {}, () => undefined),
      (c) => c.subscribe('a/#/b'),
      (c) => c.subscribe([]),
      (c) => c.subscribe('a', { qos: 1, nl: true }),
      (c) => c.subscribe('a', ((_err: unknown, _granted: unknown) => undefined) as never),
      (c) => c.unsubscribe(''),
      (c) => (c.unsubscribe as (...args: unknown[]) => Promise<unknown>)('a', () => undefined),
      (c) => (c.end as (...args: unknown[]) => Promise<unknown>)(true),
      (c) => c.end({ reasonCode: 4 }),
      (c) => c.request('a/+', 'x'),
      (c) => c.request('a', 'x', { timeout: -1 }),
    ]
    for (const call of calls) {
      const expected = await call(unshared).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(expected).toBeInstanceOf(MqttError)
      const error = await rejection(call(a.client), (expected as MqttError).constructor as typeof MqttError)
      expect([error.code, error.message]).toEqual([(expected as MqttError).code, (expected as MqttError).message])
    }
    const stream = a.client.messages('a/#/b')
    await expect(stream.next()).rejects.toBeInstanceOf(InvalidTopicError)
    await turns()
    expect(a.posted.slice(posted)).toEqual([])
    expect(a.client.state).toBe('connected')
  })

  it('refuses options that cannot cross to the host, saying why, and bad options as an unshared client does, before posting anything', () => {
    const posted: TabMessage[] = []
    const link: HostLink = { post: (m) => posted.push(m), onMessage: () => undefined, close: () => undefined }
    const cannot: Array<[string | (() => string), ClientOptions, RegExp]> = [
      [() => URL, {}, /url function cannot be sent/],
      [URL, { credentials: () => ({ username: 'u' }) }, /credentials cannot be given with shared/],
      [URL, { onAuth: () => undefined }, /onAuth cannot be given with shared/],
      [URL, { store: new MemoryStore() }, /store cannot be given with shared/],
      [URL, { WebSocket: FakeSocket }, /WebSocket cannot be given with shared/],
      [URL, { will: { topic: 't', payload: 'x', properties: { userProperties: { f: (() => 1) as never } } } }, /plain data/],
    ]
    for (const [url, options, said] of cannot) {
      expect(thrown(() => connectShared(url as string, { shared: true, ...options }, link), InvalidArgumentError).message).toMatch(said)
    }
    for (const options of [{ keepalive: -1 }, { reconnectPeriod: 1000 }, { will: { topic: 'a/#', payload: 'x' } }] as unknown as ClientOptions[]) {
      const unshared = thrown(() => new MqttClient(URL, { WebSocket: FakeSocket, ...options }), MqttError)
      const shared = thrown(() => connectShared(URL, { shared: true, ...options }, link), MqttError)
      expect([shared.constructor, shared.message]).toEqual([unshared.constructor, unshared.message])
    }
    // shared and sharedKey are the shared client's own options (an unshared client does not know them).
    expect(thrown(() => connectShared(URL, { shared: 'yes' } as never, link), InvalidArgumentError).message).toMatch(/shared must be true, 'worker' or 'leader'/)
    expect(thrown(() => connectShared(URL, { shared: true, sharedKey: '' }, link), InvalidArgumentError).message).toMatch(/sharedKey must be a non-empty string/)
    expect(posted).toEqual([])
  })
})

describe('SharedClient: ending', () => {
  it('rejects the tab\'s pending requests with ClientClosedError at once on a forced end, and the other tab keeps the connection', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const b = origin.tab()
    await origin.connect()
    const publish = a.client.publish('t', 'x', { qos: 1 })
    const subscribe = a.client.subscribe('s')
    await origin.written('publish', 1)
    await origin.written('subscribe', 1)
    let rejectedAt: string | undefined
    publish.catch(() => (rejectedAt ??= a.got.some((m) => m.type === 'result') ? 'after the host answered' : 'at once'))
    const ended = a.client.end({ force: true })
    // Microtasks only: nothing can have crossed the channel yet.
    for (let i = 0; i < 5; i++) await Promise.resolve()
    expect(rejectedAt).toBe('at once')
    await rejection(publish, ClientClosedError)
    await rejection(subscribe, ClientClosedError)
    await ended
    expect(a.client.state).toBe('closed')
    await rejection(a.client.publish('t', 'x'), ClientClosedError)
    expect(b.client.connected).toBe(true)
    const sent = b.client.publish('t', 'y')
    await origin.written('publish', 1)
    await expect(sent).resolves.toBeUndefined()
    expect(origin.socket.commands).not.toContain('disconnect')
  })

  it('ends gracefully: the host settles the tab\'s requests first, and the last tab\'s end disconnects the connection', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    await origin.connect()
    const heard: string[] = []
    a.client.on('close', () => heard.push('close')).on('end', () => heard.push('end'))
    const publish = a.client.publish('t', 'x', { qos: 1 })
    const [packet] = (await origin.written('publish', 1)) as [WirePacket & { messageId: number }]
    const ended = a.client.end()
    await turns()
    expect(a.client.state).toBe('connected')
    origin.socket.deliver({ cmd: 'puback', messageId: packet.messageId })
    await expect(publish).resolves.toEqual({ reasonCode: 0 })
    await ended
    expect(heard).toEqual(['close', 'end'])
    expect(a.client.state).toBe('closed')
    expect(origin.socket.commands.at(-1)).toBe('disconnect')
  })

  it('rejects the pending requests with ConnectionClosedError and closes when the host link closes unexpectedly', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    await origin.connect()
    const errors: Error[] = []
    a.client.on('error', (e) => errors.push(e))
    const publish = a.client.publish('t', 'x', { qos: 1 })
    await origin.written('publish', 1)
    a.hostPort.close()
    await rejection(publish, ConnectionClosedError)
    expect(a.client.state).toBe('closed')
    expect(errors.map((e) => e.constructor)).toEqual([ConnectionClosedError])
    await expect(a.client.end()).resolves.toBeUndefined()
  })

  it('closes with ConnectionClosedError, the refusal as its cause, when the host refuses the hello', async () => {
    const host = new SharedHost(() => {
      throw new InvalidArgumentError('no client for these options')
    })
    hosts.push({ host, tabs: [] })
    const { port1, port2 } = new MessageChannel()
    ports.push(port1, port2)
    serve(host, port2, [])
    const { link } = portLink(port1)
    const client = connectShared(URL, { shared: true }, link)
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    const error = await rejection(client.subscribe('a'), ConnectionClosedError)
    expect(error.message).toMatch(/refused this tab: no client for these options/)
    expect(error.cause).toBeInstanceOf(InvalidArgumentError)
    expect([client.state, errors]).toEqual(['closed', [error]])
  })

  it('detach() says bye at once: the host releases the filters only that tab used', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const b = origin.tab()
    await origin.connect()
    const subscribed = [a.client.subscribe('mine'), a.client.subscribe('both'), b.client.subscribe('both')]
    await grantAll(origin, 2)
    await Promise.all(subscribed)
    a.client.detach()
    expect(a.posted.at(-1)).toEqual({ type: 'bye' })
    expect(a.client.state).toBe('closed')
    const [unsubscribe] = (await origin.written('unsubscribe', 1)) as [WirePacket & { unsubscriptions: string[] }]
    expect(unsubscribe.unsubscriptions).toEqual(['mine'])
  })
})

describe('SharedClient: messages() and request()', () => {
  it('yields the filter\'s messages through messages(), and ends the stream when the client ends', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    await origin.connect()
    const stream = a.client.messages('m/#')
    await grantAll(origin, 1)
    origin.publish('m/1')
    origin.publish('m/2')
    const first = await stream.next()
    const second = await stream.next()
    expect([first.value?.topic, second.value?.topic]).toEqual(['m/1', 'm/2'])
    const third = stream.next()
    await a.client.end()
    await expect(third).resolves.toEqual({ value: undefined, done: true })
  })

  it('releases only a stopped stream\'s own subscription: the filter\'s handler keeps its messages and nothing is unsubscribed', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    await origin.connect()
    const got: string[] = []
    const subscribed = a.client.subscribe('m/#', (m) => got.push(m.topic))
    await grantAll(origin, 1)
    await subscribed
    const stream = a.client.messages('m/#')
    await until(() => a.got.filter((m) => m.type === 'result').length === 2, 'the stream\'s subscription granted')
    await stream.return()
    origin.publish('m/1')
    await until(() => got.length === 1, 'the handler\'s message')
    await turns()
    expect(origin.socket.commands).not.toContain('unsubscribe')
    expect(stream.buffered).toBe(0)
  })

  it('gets a reply to request() from a responder in another tab, over the one connection', async () => {
    const origin = sharedOrigin()
    const a = origin.tab()
    const b = origin.tab()
    await origin.connect()
    const responding = b.client.respond('svc/time', () => 'noon')
    await grantAll(origin, 1)
    await responding
    const reply = a.client.request('svc/time', 'now?', { qos: 0 })
    await grantAll(origin, 1)
    // The broker routes the request (3.1.1: its reply address rides in the topic) and then the reply.
    for (let hop = 0; hop < 2; hop++) {
      const [packet] = (await origin.written('publish', 1)) as [WirePacket & { topic: string; payload: Buffer }]
      origin.publish(packet.topic, packet.payload.toString())
    }
    expect((await reply).text()).toBe('noon')
  })
})

describe('MqttClientApi', () => {
  it('is the whole public surface of MqttClient, which SharedClient has too', () => {
    // Compile-time: a public member of MqttClient missing from the interface fails to type-check here.
    const extra: [Exclude<keyof MqttClient, keyof MqttClientApi>] extends [never] ? true : false = true
    const shared: MqttClientApi = SharedClient.prototype
    expect([extra, typeof shared.publish]).toEqual([true, 'function'])
    const members = (proto: object) => Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor')
    const missing = members(MqttClient.prototype).filter((n) => !(n in SharedClient.prototype))
    // Private methods are on the prototype too; only those of MqttClientApi must be on both.
    const api: Array<keyof MqttClientApi> = ['open', 'publish', 'subscribe', 'unsubscribe', 'messages', 'request', 'respond', 'reauthenticate', 'end', 'state', 'connected', 'clientId', 'connack', 'protocolVersion', 'stats', 'nextReconnect']
    expect(missing.filter((n) => (api as string[]).includes(n))).toEqual([])
  })
})
