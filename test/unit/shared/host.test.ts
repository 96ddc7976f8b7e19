import { afterEach, describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  InvalidArgumentError,
  InvalidTopicError,
  type IncomingPublishPacket,
  MqttClient,
  type QoS,
  ReasonCodeError,
  SubscribeError,
} from '../../../src/index.js'
import { type HostedClient, SharedHost } from '../../../src/shared/host.js'
import {
  type FailureMessage,
  type HelloMessage,
  type RequestResult,
  rebuildError,
  type SharedSubscription,
  type TabMessage,
  WIRE_VERSION,
} from '../../../src/shared/wire.js'
import { FakeSocket, written } from '../client/fake-socket.js'
import { FakeHostedClient, FakeTab, settled } from './fakes.js'

/**
 * SharedHost with fake tabs and a fake client: each test says which tabs ask for what, settles
 * the client's calls as the broker would, and reads what the host did on the one connection and
 * what each tab was told.
 */
function hostWithFakes() {
  const clients: FakeHostedClient[] = []
  const host = new SharedHost((url, options) => {
    const client = new FakeHostedClient(url, options)
    clients.push(client)
    return client
  })
  let nextId = 1
  const send = (tab: string, message: TabMessage) => host.receive(tab, message)
  const api = {
    host,
    clients,
    /** The one client, made by the first hello. */
    get client(): FakeHostedClient {
      const client = clients[0]
      if (!client) throw new Error('no client was made')
      return client
    },
    /** A tab that said hello for `key`. */
    join(tab: string, key = 'ws://broker.test\nshared-id'): FakeTab {
      const port = new FakeTab()
      host.addTab(tab, port)
      send(tab, hello(tab, key))
      return port
    },
    /** Sends a subscribe of [sub, filter, qos] triples; returns its request id. */
    subscribe(tab: string, ...subs: Array<[number, string, QoS]>): number {
      const id = nextId++
      const subscriptions: SharedSubscription[] = subs.map(([sub, topic, qos]) => ({ sub, topic, qos }))
      send(tab, { type: 'subscribe', id, subscriptions })
      return id
    },
    unsubscribe(tab: string, filters: string[], subs?: number[]): number {
      const id = nextId++
      send(tab, subs ? { type: 'unsubscribe', id, filters, subs } : { type: 'unsubscribe', id, filters })
      return id
    },
    publish(tab: string, topic: string, payload: string | Uint8Array, qos: QoS = 0): number {
      const id = nextId++
      send(tab, { type: 'publish', id, topic, payload, options: { qos } })
      return id
    },
    end(tab: string, force = false): number {
      const id = nextId++
      send(tab, { type: 'end', id, options: force ? { force } : {} })
      return id
    },
  }
  return api
}

function hello(tab: string, key: string): HelloMessage {
  return { type: 'hello', wire: WIRE_VERSION, tab, key, url: 'ws://broker.test', options: { clientId: 'shared-id' } }
}

function incoming(topic: string, qos: QoS = 0, payload = new Uint8Array([1, 2, 3])): IncomingPublishPacket {
  return { cmd: 'publish', topic, payload, qos, retain: false, dup: false }
}

/** What request `id` settled with in `tab`: its value, or its error rebuilt as the tab would. */
function outcome(tab: FakeTab, id: number): { value: RequestResult } | { error: Error } | undefined {
  const answer = tab.answer(id)
  if (!answer) return undefined
  return answer.type === 'result' ? { value: answer.value } : { error: rebuildError(answer.error) }
}

function failure(tab: FakeTab, id: number): Error {
  const answer = tab.answer(id)
  if (answer?.type !== 'failure') throw new Error(`request ${id} did not fail: ${JSON.stringify(answer)}`)
  return rebuildError((answer as FailureMessage).error)
}

describe('SharedHost: one client per shared key', () => {
  it("makes one client for the tabs of one key, with the first tab's URL and options, and another for another key", () => {
    const t = hostWithFakes()
    t.join('A')
    t.join('B')
    t.join('C', 'other')
    expect(t.clients).toHaveLength(2)
    expect(t.client.url).toBe('ws://broker.test')
    expect(t.client.options).toEqual({ clientId: 'shared-id' })
  })

  it("tells a tab the client's state on its hello, and every tab each client event with the state after it", () => {
    const t = hostWithFakes()
    const a = t.join('A')
    expect(a.got).toEqual([{ type: 'state', snapshot: { state: 'connecting', clientId: 'fake-client', protocolVersion: 5 } }])
    const b = t.join('B')
    const connack = { cmd: 'connack', sessionPresent: false, reasonCode: 0 } as const
    t.client.state = 'connected'
    t.client.connack = connack
    t.client.emit('connect', connack)
    t.client.emit('error', new InvalidTopicError('a/#', 'why'))
    for (const tab of [a, b]) {
      expect(tab.events).toEqual(['connect', 'error'])
      expect(tab.got.at(-2)).toEqual({ type: 'event', snapshot: { state: 'connected', clientId: 'fake-client', protocolVersion: 5, connack }, event: { name: 'connect', connack } })
    }
    const error = b.got.at(-1)
    expect(error?.type === 'event' && error.event.name === 'error' && rebuildError(error.event.error)).toBeInstanceOf(InvalidTopicError)
  })
})

describe('SharedHost: subscriptions counted across tabs', () => {
  it('sends one SUBSCRIBE for a filter two tabs ask for, and answers both with its grant', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    const first = t.subscribe('A', [1, 'sensors/+', 1])
    const second = t.subscribe('B', [1, 'sensors/+', 1])
    expect(t.client.subscribed).toEqual([{ 'sensors/+': 1 }])
    t.client.grant()
    await settled()
    expect(outcome(a, first)).toEqual({ value: [{ topic: 'sensors/+', qos: 1 }] })
    expect(outcome(b, second)).toEqual({ value: [{ topic: 'sensors/+', qos: 1 }] })
  })

  it('subscribes again at a higher QoS when a later tab asks for more, and not for less; each tab granted what it asked', async () => {
    const t = hostWithFakes()
    const tabs = [t.join('A'), t.join('B'), t.join('C')]
    const ids = [t.subscribe('A', [1, 'a', 0]), t.subscribe('B', [1, 'a', 2]), t.subscribe('C', [1, 'a', 1])]
    expect(t.client.subscribed).toEqual([{ a: 0 }, { a: 2 }])
    t.client.grant(0)
    t.client.grant(1)
    await settled()
    expect(ids.map((id, i) => outcome(tabs[i] as FakeTab, id))).toEqual([0, 2, 1].map((qos) => ({ value: [{ topic: 'a', qos }] })))
  })

  it('keeps the higher QoS after its tab leaves, and delivers to the others at no more than they asked', async () => {
    const t = hostWithFakes()
    const low = t.join('low')
    t.join('high')
    t.subscribe('low', [1, 'a', 0])
    t.subscribe('high', [1, 'a', 2])
    t.client.grant(0)
    t.client.grant(1)
    t.host.tabGone('high')
    expect(t.client.subscribes).toHaveLength(2)
    expect(t.client.unsubscribes).toHaveLength(0)
    t.client.emit('message', 'a', new Uint8Array(), incoming('a', 2))
    expect(low.deliveries.map((d) => d.packet.qos)).toEqual([0])
  })

  it('unsubscribes on the connection only when the last tab using the filter unsubscribes', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    t.subscribe('A', [1, 'a', 0])
    t.subscribe('B', [7, 'a', 0])
    t.client.grant()
    const first = t.unsubscribe('A', ['a'])
    await settled()
    expect(t.client.unsubscribes).toHaveLength(0)
    expect(outcome(a, first)).toEqual({ value: { reasonCodes: [0] } })
    const last = t.unsubscribe('B', ['a'])
    expect(t.client.unsubscribes.map((u) => u.args)).toEqual([['a']])
    t.client.unsubscribes[0]?.resolve({ reasonCodes: [0] })
    await settled()
    expect(outcome(b, last)).toEqual({ value: { reasonCodes: [0] } })
  })

  it('counts several subscriptions of one tab on a filter: releasing one keeps it, releasing the last unsubscribes', async () => {
    const t = hostWithFakes()
    t.join('A')
    t.subscribe('A', [1, 'a/#', 0])
    t.subscribe('A', [2, 'a/#', 0])
    expect(t.client.subscribes).toHaveLength(1)
    t.unsubscribe('A', ['a/#'], [1])
    expect(t.client.unsubscribes).toHaveLength(0)
    t.unsubscribe('A', ['a/#'], [2])
    expect(t.client.unsubscribes.map((u) => u.args)).toEqual([['a/#']])
  })

  it("answers one code per filter on MQTT 5: the broker's, success where others still use it, 0x11 where the tab had none", async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.join('B')
    t.subscribe('A', [1, 'mine', 0], [2, 'ours', 0])
    t.subscribe('B', [1, 'ours', 0], [2, 'theirs', 0])
    const id = t.unsubscribe('A', ['mine', 'ours', 'theirs', 'nobodys'])
    expect(t.client.unsubscribes.map((u) => u.args)).toEqual([['mine', 'nobodys']])
    t.client.unsubscribes[0]?.resolve({ reasonCodes: [0, 0x11] })
    await settled()
    expect(outcome(a, id)).toEqual({ value: { reasonCodes: [0, 0, 0x11, 0x11] } })
  })

  it('answers an unsubscribe on MQTT 3.1.1 with no codes, as the broker would', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.join('B')
    t.client.protocolVersion = 4
    t.subscribe('A', [1, 'a', 0])
    t.subscribe('B', [1, 'a', 0])
    const id = t.unsubscribe('A', ['a'])
    await settled()
    expect(outcome(a, id)).toEqual({ value: { reasonCodes: [] } })
  })

  it('refuses a subscription number the tab already uses, without touching the connection', () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.subscribe('A', [1, 'a', 0])
    const again = t.subscribe('A', [1, 'b', 0])
    expect(failure(a, again)).toBeInstanceOf(InvalidArgumentError)
    expect(t.client.subscribed).toEqual([{ a: 0 }])
  })

  it("rejects a refused filter with a SubscribeError of the tab's own filters, forgets it, and subscribes again on the next ask", async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    const first = t.subscribe('A', [1, 'ok', 1], [2, 'secret/#', 1])
    const piggyback = t.subscribe('B', [1, 'secret/#', 0])
    const refusal = new SubscribeError([{ topic: 'ok', qos: 1 }, { topic: 'secret/#', qos: 0x87 }], { reasonString: 'not authorized' })
    t.client.subscribes[0]?.reject(refusal)
    await settled()
    const error = failure(a, first) as SubscribeError
    expect(error).toBeInstanceOf(SubscribeError)
    expect(error.granted).toEqual([{ topic: 'ok', qos: 1 }, { topic: 'secret/#', qos: 0x87 }])
    expect(error.reasonString).toBe('not authorized')
    expect((failure(b, piggyback) as SubscribeError).granted).toEqual([{ topic: 'secret/#', qos: 0x87 }])
    // 'secret/#' has no user now and was never granted: no UNSUBSCRIBE, and the next ask sends a SUBSCRIBE.
    expect(t.client.unsubscribes).toHaveLength(0)
    t.subscribe('B', [2, 'secret/#', 0])
    t.subscribe('B', [3, 'ok', 0])
    expect(t.client.subscribed.slice(1)).toEqual([{ 'secret/#': 0 }])
  })

  it('drops the subscriptions of a subscribe that fails (the client ended) and rejects it with that error', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const id = t.subscribe('A', [1, 'a', 0])
    t.client.subscribes[0]?.reject(new ClientClosedError())
    await settled()
    expect(failure(a, id)).toBeInstanceOf(ClientClosedError)
    t.client.emit('message', 'a', new Uint8Array(), incoming('a'))
    expect(a.deliveries).toHaveLength(0)
  })
})

describe('SharedHost: messages go only to the tabs they match', () => {
  it('posts a message once to each matching tab, naming every subscription of it that matched, and nothing to the others', () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    const c = t.join('C')
    t.subscribe('A', [1, 'home/+/temp', 0], [2, 'home/#', 0], [3, 'office/#', 0])
    t.subscribe('A', [4, 'home/kitchen/temp', 0])
    t.subscribe('B', [1, 'office/#', 0])
    t.subscribe('C', [1, '$share/g/home/#', 0])
    const packet = incoming('home/kitchen/temp')
    t.client.emit('message', packet.topic, packet.payload, packet)
    expect(a.deliveries).toHaveLength(1)
    expect(a.deliveries[0]?.subs.sort()).toEqual([1, 2, 4])
    expect(a.deliveries[0]?.packet).toEqual(packet)
    expect(b.deliveries).toHaveLength(0)
    expect(c.deliveries.map((d) => d.subs)).toEqual([[1]])
  })

  it('routes to a tab whose subscribe awaits its SUBACK, so retained messages that come first find it', () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.subscribe('A', [1, 'a', 0])
    t.client.emit('message', 'a', new Uint8Array(), { ...incoming('a'), retain: true })
    expect(a.deliveries).toHaveLength(1)
  })

  it('posts a payload that is a view on a larger frame as its own bytes, copied once for every tab', () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    t.subscribe('A', [1, 'a', 0])
    t.subscribe('B', [1, 'a', 0])
    const frame = new Uint8Array(4096)
    const packet = incoming('a', 0, frame.subarray(100, 103))
    t.client.emit('message', 'a', packet.payload, packet)
    const [toA, toB] = [a.deliveries[0]?.packet.payload, b.deliveries[0]?.packet.payload]
    expect(toA?.buffer.byteLength).toBe(3)
    expect(toA).toBe(toB)
  })
})

describe('SharedHost: retained messages for a tab that joins a filter the connection holds', () => {
  const retained = (topic: string, payload = 'r', qos: QoS = 1): IncomingPublishPacket => ({
    ...incoming(topic, qos, new TextEncoder().encode(payload)),
    retain: true,
  })
  const emit = (t: ReturnType<typeof hostWithFakes>, packet: IncomingPublishPacket) => t.client.emit('message', packet.topic, packet.payload, packet)
  /** A connection on which tab A holds `filter`, granted, and the broker sent `packets`. */
  const holding = (filter: string, ...packets: IncomingPublishPacket[]) => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.subscribe('A', [1, filter, 1])
    t.client.grant()
    for (const packet of packets) emit(t, packet)
    return { t, a }
  }
  const texts = (tab: FakeTab) => tab.deliveries.map((d) => `${d.packet.topic}=${new TextDecoder().decode(d.packet.payload)} q${d.packet.qos} ${d.subs.join(',')}`)

  it('gives the joining tab the retained messages the broker sent to the first, once each, after its answer and at its QoS; no SUBSCRIBE goes out', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.subscribe('A', [1, 'plant/+', 1], [2, 'plant/1', 1])
    t.client.grant()
    emit(t, retained('plant/1', 'on'))
    emit(t, retained('plant/2', 'off'))
    const b = t.join('B')
    const id = t.subscribe('B', [7, 'plant/+', 0], [8, 'plant/1', 1])
    await settled()
    expect(t.client.subscribed).toEqual([{ 'plant/+': 1, 'plant/1': 1 }])
    const answeredAt = b.got.findIndex((m) => m.type === 'result' && m.id === id)
    const firstDelivery = b.got.findIndex((m) => m.type === 'message')
    expect(answeredAt).toBeGreaterThanOrEqual(0)
    expect(firstDelivery).toBeGreaterThan(answeredAt)
    expect(texts(b).sort()).toEqual(['plant/1=on q1 7,8', 'plant/2=off q0 7'])
    // The first tab heard them once, from the broker, and not again.
    expect(a.deliveries).toHaveLength(2)
  })

  it('gives nothing for a topic whose retained message may have been replaced by a later live one, or was cleared', async () => {
    const { t } = holding('a/#', retained('a/1', 'old'), retained('a/2', 'kept'), retained('a/3', 'gone'))
    emit(t, incoming('a/1', 1))
    emit(t, { ...retained('a/3'), payload: new Uint8Array() })
    const b = t.join('B')
    t.subscribe('B', [1, 'a/#', 1])
    await settled()
    expect(texts(b)).toEqual(['a/2=kept q1 1'])
  })

  it('sends none for Retain Handling 2, and none once the filter was dropped by its last tab', async () => {
    const { t } = holding('x', retained('x', 'v'))
    const b = t.join('B')
    t.host.receive('B', { type: 'subscribe', id: 900, subscriptions: [{ sub: 1, topic: 'x', qos: 1, rh: 2 }] })
    await settled()
    expect(b.deliveries).toEqual([])
    // Every tab leaves the filter (B stays, on another): the connection unsubscribes it, and what it kept for it goes.
    t.subscribe('B', [2, 'other', 1])
    t.unsubscribe('B', ['x'])
    t.host.tabGone('A')
    expect(t.client.unsubscribes.map((u) => u.args)).toEqual([['x']])
    const c = t.join('C')
    t.subscribe('C', [1, 'x', 1])
    await settled()
    expect(c.deliveries).toEqual([])
    expect(t.clients).toHaveLength(1)
  })

  it('gives a message that came after the tab joined only once: live, not again from the cache', async () => {
    const { t } = holding('k', retained('k', 'first'))
    const b = t.join('B')
    t.subscribe('B', [1, 'k', 1])
    // Before B's answer: a newer retained message (a re-subscribe after a reconnect) reaches B live.
    emit(t, retained('k', 'second'))
    await settled()
    expect(texts(b)).toEqual(['k=second q1 1'])
  })
})

describe('SharedHost: requests answered in the tab that made them', () => {
  it('forwards a publish to the one connection and posts its result to the publishing tab only', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    const payload = new Uint8Array([7])
    const id = t.publish('A', 'out', payload, 1)
    expect(t.client.publishes.map((p) => p.args)).toEqual([{ topic: 'out', payload, options: { qos: 1 } }])
    t.client.publishes[0]?.resolve({ reasonCode: 0x10 })
    await settled()
    expect(outcome(a, id)).toEqual({ value: { reasonCode: 0x10 } })
    expect(b.got.filter((m) => m.type === 'result' || m.type === 'failure')).toEqual([])
  })

  it("rebuilds a publish's error as its class in the tab, with its fields", async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const bad = t.publish('A', 'a/+', 'x')
    const refused = t.publish('A', 'b', 'x', 1)
    t.client.publishes[0]?.reject(new InvalidTopicError('a/+', 'no wildcards in a topic name'))
    t.client.publishes[1]?.reject(new ReasonCodeError('Publish', 0x87, { reasonString: 'no' }))
    await settled()
    const topicError = failure(a, bad) as InvalidTopicError
    expect(topicError).toBeInstanceOf(InvalidTopicError)
    expect([topicError.name, topicError.code, topicError.topic]).toEqual(['InvalidTopicError', 'INVALID_TOPIC', 'a/+'])
    const reasonError = failure(a, refused) as ReasonCodeError
    expect(reasonError).toBeInstanceOf(ReasonCodeError)
    expect([reasonError.reasonCode, reasonError.reasonString]).toEqual([0x87, 'no'])
  })
})

describe('SharedHost: tabs leaving', () => {
  it('releases the filters of a gone tab that nobody else uses, and drops the answers of its pending requests', async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    t.subscribe('A', [1, 'only-a', 0], [2, 'both', 0])
    t.subscribe('B', [1, 'both', 0])
    const pending = t.publish('A', 'out', 'x', 1)
    t.host.tabGone('A')
    expect(t.client.unsubscribes.map((u) => u.args)).toEqual([['only-a']])
    const before = a.got.length
    t.client.publishes[0]?.resolve({ reasonCode: 0 })
    t.client.emit('message', 'both', new Uint8Array(), incoming('both'))
    await settled()
    expect(a.got).toHaveLength(before)
    expect(a.answer(pending)).toBeUndefined()
    expect(b.deliveries).toHaveLength(1)
    expect(t.client.ends).toHaveLength(0)
  })

  it('treats a bye as a tab gone', () => {
    const t = hostWithFakes()
    t.join('A')
    t.join('B')
    t.subscribe('A', [1, 'a', 0])
    t.host.receive('A', { type: 'bye' })
    expect(t.client.unsubscribes.map((u) => u.args)).toEqual([['a']])
    t.host.receive('A', { type: 'publish', id: 99, topic: 't', payload: 'x' })
    expect(t.client.publishes).toHaveLength(0)
  })

  it("ends one tab's use on its end() and the connection when the last tab leaves, answering the last end once it closed", async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const b = t.join('B')
    const first = t.end('A')
    await settled()
    expect(outcome(a, first)).toEqual({ value: undefined })
    expect(t.client.ends).toHaveLength(0)
    const last = t.end('B')
    expect(t.client.ends.map((e) => e.args)).toEqual([{}])
    await settled()
    expect(b.answer(last)).toBeUndefined()
    t.client.ends[0]?.resolve()
    await settled()
    expect(outcome(b, last)).toEqual({ value: undefined })
  })

  it('ends the connection when the last tab goes without end(), and makes a new client for the key afterwards', () => {
    const t = hostWithFakes()
    t.join('A')
    t.host.tabGone('A')
    expect(t.client.ends.map((e) => e.args)).toEqual([{}])
    t.join('B')
    expect(t.clients).toHaveLength(2)
  })

  it("waits on a graceful end for the tab's pending requests, answering them first; a forced end does not wait", async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.join('B')
    const pub = t.publish('A', 'out', 'x', 1)
    const end = t.end('A')
    const refused = t.publish('A', 'late', 'x')
    expect(failure(a, refused)).toBeInstanceOf(ClientClosedError)
    await settled()
    expect(a.answer(end)).toBeUndefined()
    t.client.publishes[0]?.resolve({ reasonCode: 0 })
    await settled()
    expect(a.got.filter((m) => m.type === 'result').map((m) => (m as { id: number }).id)).toEqual([pub, end])

    const c = t.join('C')
    t.publish('C', 'out', 'x', 1)
    const forced = t.end('C', true)
    await settled()
    expect(outcome(c, forced)).toEqual({ value: undefined })
  })

  it("ends the connection by force when the last tab's end options are refused, and says so", async () => {
    const t = hostWithFakes()
    const a = t.join('A')
    const id = t.end('A')
    t.client.ends[0]?.reject(new InvalidArgumentError('a DISCONNECT reason code or properties need MQTT 5'))
    await settled()
    expect(failure(a, id)).toBeInstanceOf(InvalidArgumentError)
    expect(t.client.ends.map((e) => e.args)).toEqual([{}, { force: true }])
  })
})

describe('SharedHost: malformed messages', () => {
  it('answers a malformed request with InvalidArgumentError for its id, and goes on serving', () => {
    const t = hostWithFakes()
    const a = t.join('A')
    t.host.receive('A', { type: 'publish', id: 5, topic: 42, payload: 'x' })
    t.host.receive('A', { type: 'subscribe', id: 6, subscriptions: [{ topic: 'a', qos: 3, sub: 1 }] })
    t.host.receive('A', { type: 'unsubscribe', id: 7, filters: [] })
    t.host.receive('A', { type: 'teleport', id: 8 })
    for (const id of [5, 6, 7, 8]) expect(failure(a, id)).toBeInstanceOf(InvalidArgumentError)
    expect(t.client.publishes).toHaveLength(0)
    expect(t.client.subscribes).toHaveLength(0)
    t.publish('A', 'fine', 'x')
    expect(t.client.publishes).toHaveLength(1)
  })

  it("answers a message with no id, or a tab's request before its hello, without crashing", () => {
    const t = hostWithFakes()
    const early = new FakeTab()
    t.host.addTab('early', early)
    for (const junk of [null, 'junk', 42, [1], { type: 'publish' }]) t.host.receive('early', junk)
    t.host.receive('early', { type: 'publish', id: 1, topic: 't', payload: 'x' })
    t.host.receive('early', { ...hello('early', 'k'), wire: WIRE_VERSION + 1 })
    t.host.receive('nobody', { type: 'bye' })
    expect(early.got.map((m) => m.type)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused', 'failure', 'refused'])
    for (const m of early.got) expect(rebuildError((m as FailureMessage).error)).toBeInstanceOf(InvalidArgumentError)
    expect(t.clients).toHaveLength(0)
  })

  it('refuses a hello whose options no client can be made with, and makes nothing', () => {
    const host = new SharedHost(() => {
      throw new InvalidArgumentError('unknown option')
    })
    const tab = new FakeTab()
    host.addTab('A', tab)
    host.receive('A', hello('A', 'k'))
    expect(tab.got.map((m) => m.type)).toEqual(['refused'])
  })
})

describe('SharedHost with a real MqttClient', () => {
  const hosts: SharedHost[] = []
  afterEach(() => {
    for (const host of hosts.splice(0)) for (const tab of ['A', 'B']) host.tabGone(tab)
  })

  it('is one socket for two tabs: one SUBSCRIBE, each message to both, and DISCONNECT after the last tab', async () => {
    FakeSocket.all.length = 0
    const host = new SharedHost((url, options) => new MqttClient(url, { ...options, WebSocket: FakeSocket }).open())
    hosts.push(host)
    const a = new FakeTab()
    const b = new FakeTab()
    host.addTab('A', a)
    host.addTab('B', b)
    host.receive('A', hello('A', 'k'))
    host.receive('B', hello('B', 'k'))
    await written()
    const socket = FakeSocket.last
    socket.open()
    socket.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
    host.receive('A', { type: 'subscribe', id: 1, subscriptions: [{ sub: 1, topic: 'a/#', qos: 1 }] })
    host.receive('B', { type: 'subscribe', id: 1, subscriptions: [{ sub: 9, topic: 'a/#', qos: 0 }] })
    await written()
    const subscribes = socket.written.filter((p) => p.cmd === 'subscribe')
    expect(subscribes).toHaveLength(1)
    socket.deliver({ cmd: 'suback', messageId: (subscribes[0] as { messageId: number }).messageId, granted: [1] })
    socket.deliver({ cmd: 'publish', topic: 'a/b', payload: Buffer.from('hi'), qos: 0, retain: false, dup: false })
    await settled()
    expect(a.answer(1)).toEqual({ type: 'result', id: 1, value: [{ topic: 'a/#', qos: 1 }] })
    expect(b.answer(1)).toEqual({ type: 'result', id: 1, value: [{ topic: 'a/#', qos: 0 }] })
    expect(a.deliveries.map((d) => [d.subs, new TextDecoder().decode(d.packet.payload)])).toEqual([[[1], 'hi']])
    expect(b.deliveries.map((d) => d.subs)).toEqual([[9]])
    host.tabGone('A')
    host.tabGone('B')
    await written()
    expect(socket.commands.at(-1)).toBe('disconnect')
  })

  it('takes an MqttClient as a HostedClient', () => {
    const hosted: (client: MqttClient) => HostedClient = (client) => client
    expect(hosted).toBeTypeOf('function')
  })
})
