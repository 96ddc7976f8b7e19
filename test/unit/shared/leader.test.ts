import type { Packet as WirePacket } from 'mqtt-packet'
import { afterEach, describe, expect, it } from 'vitest'
import { type ClientOptions, type Message, MemoryStore, MqttClient } from '../../../src/index.js'
import { electLeader, LEADER_SESSION_EXPIRY, leaderClientFactory, type LeaderElection } from '../../../src/shared/leader.js'
import { type ChannelLike, type ChannelMessage, isChannelMessage, leaderChannelName, leaderLockName, openBroadcastChannel, openLeaderLink } from '../../../src/shared/leader-link.js'
import { connectShared, type HostLink, SharedClient } from '../../../src/shared/tab-client.js'
import { type HostMessage, type TabMessage, tabLockName } from '../../../src/shared/wire.js'
import { FakeSocket } from '../client/fake-socket.js'
import { FakeLocks } from './fake-locks.js'

/**
 * Tabs of one origin in one process: each with its election, its link and its SharedClient,
 * over real BroadcastChannels and one fake lock manager (each tab its own page of it). The
 * leader's client is a real MqttClient over a FakeSocket, whose broker the test plays.
 */

const URL = 'ws://broker.test'
const KEY = 'the-key'
const cleanups: Array<() => void> = []

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Lets messages cross the channels (each hop takes turns of the event loop) until `done` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000
  while (Date.now() < deadline) {
    if (done()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error(`never: ${what}`)
}

/** A few turns of the event loop, for checking that something did not happen. */
async function turns(n = 30): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve))
}

type PublishPacket = WirePacket & { cmd: 'publish'; messageId: number; topic: string; qos: number }

/** One origin: its tabs, the store they share (IndexedDB's stand-in), and the sockets their leaders open. */
function origin(attachGrace = 20) {
  FakeSocket.all.length = 0
  const locks = new FakeLocks()
  const store = new MemoryStore()
  const made: Array<{ options: ClientOptions; client: MqttClient }> = []
  cleanups.push(() => {
    for (const { client } of made) client.end({ force: true }).catch(() => undefined)
  })
  const connect = (url: string, options: ClientOptions) => {
    const client = new MqttClient(url, { ...options, WebSocket: FakeSocket })
    made.push({ options, client })
    return client.open()
  }
  const seen = new Map<FakeSocket, Map<string, number>>()

  const world = {
    locks,
    store,
    made,
    /** A tab: it enters the election and opens its shared client. */
    tab(options: ClientOptions = {}) {
      const page = locks.page()
      const channels: ChannelLike[] = []
      const channel = (name: string) => {
        const opened = openBroadcastChannel(name)
        channels.push(opened)
        return opened
      }
      const election: LeaderElection = electLeader(KEY, { connect, store, locks: page, channel, attachGrace })
      const link = openLeaderLink(KEY, { locks: page, channel })
      const client: SharedClient = connectShared(URL, { clientId: 'shared-id', sharedKey: KEY, shared: 'leader', ...options }, link)
      const closeAll = () => channels.forEach((c) => c.close())
      cleanups.push(() => {
        election.close()
        link.close()
        closeAll()
      })
      return {
        election,
        client,
        link,
        /** The tab closes: it leaves the election (its host stops), its link lets its lock go and closes its channel. */
        leave() {
          election.close()
          link.close()
        },
        /** The tab's page dies without a word: its locks pass on, its channels close, none of its code runs again. */
        crash() {
          page.kill()
          closeAll()
        },
      }
    },
    /** The socket of the latest leader's connection. */
    get socket(): FakeSocket {
      return FakeSocket.last
    },
    /** The broker accepts connection number `n` (0-based) once its socket is there. */
    async accept(n: number, sessionPresent = false): Promise<FakeSocket> {
      await until(() => FakeSocket.all.length > n, `socket ${n}`)
      const socket = FakeSocket.all[n] as FakeSocket
      socket.open()
      await until(() => socket.commands.includes('connect'), 'CONNECT written')
      socket.deliver({ cmd: 'connack', sessionPresent, returnCode: 0 })
      return socket
    },
    /** The packets of `cmd` written on `socket` since the last call for it. */
    async written(socket: FakeSocket, cmd: string, count: number): Promise<WirePacket[]> {
      const counts = seen.get(socket) ?? new Map<string, number>()
      seen.set(socket, counts)
      const from = counts.get(cmd) ?? 0
      const of = () => socket.written.filter((p) => p.cmd === cmd)
      await until(() => of().length >= from + count, `${count} ${cmd} written`)
      counts.set(cmd, from + count)
      return of().slice(from, from + count)
    },
    /** The broker grants each SUBSCRIBE at the QoS asked. */
    suback(socket: FakeSocket, packets: WirePacket[]): void {
      for (const packet of packets) {
        const { messageId, subscriptions } = packet as { messageId: number; subscriptions: Array<{ qos: number }> }
        socket.deliver({ cmd: 'suback', messageId, granted: subscriptions.map((s) => s.qos) } as WirePacket)
      }
    },
    /** The broker sends a message. */
    publish(socket: FakeSocket, topic: string, qos: 0 | 1 = 0, messageId = 1): void {
      socket.deliver({ cmd: 'publish', topic, payload: Buffer.from(topic), qos, messageId, retain: false, dup: false } as WirePacket)
    },
  }
  return world
}

/** Topics each handler got. */
function collect(): { got: string[]; handler: (m: Message) => void } {
  const got: string[] = []
  return { got, handler: (m) => got.push(m.topic) }
}

describe('leader mode: one connection for the tabs of an origin, held by a leader tab', () => {
  it('elects one tab of three, whose one connection serves every tab, and routes each message only to the tabs whose filters match', async () => {
    const world = origin()
    const [a, b, c] = [world.tab(), world.tab(), world.tab()]
    await a.election.elected
    expect([a.election.leading, b.election.leading, c.election.leading]).toEqual([true, false, false])
    const socket = await world.accept(0)
    await until(() => [a, b, c].every((t) => t.client.connected), 'every tab connected')
    const [news, sensors, both] = [collect(), collect(), collect()]
    const granted = [a.client.subscribe('news/#', news.handler), b.client.subscribe('sensors/+', sensors.handler), c.client.subscribe('news/#', both.handler)]
    const subscribes = await world.written(socket, 'subscribe', 2)
    world.suback(socket, subscribes)
    await Promise.all(granted)
    for (const topic of ['news/1', 'sensors/2', 'other/3']) world.publish(socket, topic)
    await until(() => news.got.length === 1 && sensors.got.length === 1 && both.got.length === 1, 'deliveries')
    await turns()
    expect([news.got, sensors.got, both.got]).toEqual([['news/1'], ['sensors/2'], ['news/1']])
    expect(FakeSocket.all).toHaveLength(1)
    expect(world.made).toHaveLength(1)
    expect(socket.commands.filter((cmd) => cmd === 'connect')).toHaveLength(1)
  })

  it("makes the leader's client to resume one session: clean: false, the key's store, a clientId on the wire", async () => {
    const world = origin()
    const a = world.tab()
    const socket = await world.accept(0)
    const [connectPacket] = (await world.written(socket, 'connect', 1)) as [WirePacket & { clean: boolean; clientId: string }]
    expect([connectPacket.clean, connectPacket.clientId]).toEqual([false, 'shared-id'])
    expect(world.made[0]?.options).toMatchObject({ clean: false, store: world.store, clientId: 'shared-id' })
    expect(world.made[0]?.options).not.toHaveProperty('shared')
    await until(() => a.client.connected, 'connected')
  })

  it('gives an MQTT 5 leader a session that outlives its connection, unless the options name an expiry', () => {
    const store = new MemoryStore()
    const got: ClientOptions[] = []
    const factory = leaderClientFactory((_url, options) => {
      got.push(options)
      return new MqttClient(URL, { ...options, WebSocket: FakeSocket })
    }, store)
    factory(URL, { protocolVersion: 5, clientId: 'x', properties: { receiveMaximum: 10 } })
    factory(URL, { protocolVersion: 'auto', clientId: 'x', properties: { sessionExpiryInterval: 7 } })
    factory(URL, { clientId: 'x' })
    expect(got.map((o) => [o.clean, o.store === store, o.properties])).toEqual([
      [false, true, { receiveMaximum: 10, sessionExpiryInterval: LEADER_SESSION_EXPIRY }],
      [false, true, { sessionExpiryInterval: 7 }],
      [false, true, undefined],
    ])
  })

  it('passes the lead when the leader tab leaves: the next tab connects anew with clean: false, the others attach to it, their subscriptions (same numbers) and handlers go on, and a QoS 1 message queued in the handover reaches them', async () => {
    const world = origin()
    const [a, b, c] = [world.tab(), world.tab(), world.tab()]
    const first = await world.accept(0)
    await until(() => [a, b, c].every((t) => t.client.connected), 'every tab connected')
    const [bGot, cGot] = [collect(), collect()]
    const granted = [b.client.subscribe('news/#', { qos: 1 }, bGot.handler), c.client.subscribe('sensors/+', { qos: 1 }, cGot.handler)]
    world.suback(first, await world.written(first, 'subscribe', 2))
    await Promise.all(granted)
    const bEvents: string[] = []
    for (const name of ['close', 'offline', 'connect'] as const) b.client.on(name, () => bEvents.push(name))

    a.leave()
    await b.election.elected
    expect([b.election.leading, c.election.leading]).toEqual([true, false])
    const second = await world.accept(1, true)
    // Queued by the broker for the kept session while no tab led: it comes with the CONNACK, and
    // the tabs' filters are known by then, as the new leader connected only once they had attached.
    world.publish(second, 'news/queued', 1, 7)
    const [connectPacket] = (await world.written(second, 'connect', 1)) as [WirePacket & { clean: boolean; clientId: string }]
    expect([connectPacket.clean, connectPacket.clientId]).toEqual([false, 'shared-id'])
    // The tabs subscribe again, under the numbers their deliveries name.
    const again = await world.written(second, 'subscribe', 2)
    const filters = again.flatMap((p) => (p as { subscriptions: Array<{ topic: string; qos: number }> }).subscriptions.map((s) => [s.topic, s.qos]))
    expect(filters.sort()).toEqual([
      ['news/#', 1],
      ['sensors/+', 1],
    ])
    world.suback(second, again)
    await until(() => b.client.connected && c.client.connected, 'the tabs connected again')
    world.publish(second, 'sensors/after')
    await until(() => bGot.got.length === 1 && cGot.got.length === 1, 'deliveries after the handover')
    expect([bGot.got, cGot.got]).toEqual([['news/queued'], ['sensors/after']])
    expect(second.written.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId)).toEqual([7])
    expect(bEvents).toEqual(['close', 'offline', 'connect'])
    expect(FakeSocket.all).toHaveLength(2)
    expect(first.closedByClient).toBe(true)
  })

  it('makes a leader that takes over gather the tabs attaching before its client is made and connects; the first leader connects at once', async () => {
    const world = origin(300)
    const [a, b] = [world.tab(), world.tab()]
    await until(() => FakeSocket.all.length === 1, 'the first leader connects with no wait')
    await world.accept(0)
    await until(() => b.client.connected, 'b connected')
    void b.client.subscribe('t', { qos: 1 })
    await world.written(FakeSocket.all[0] as FakeSocket, 'subscribe', 1)
    a.leave()
    await b.election.elected
    await turns()
    expect([world.made.length, FakeSocket.all.length]).toEqual([1, 1])
    await until(() => FakeSocket.all.length === 2, 'the new leader connects after the grace')
    // Made, opened and given the tab's subscribe in one go: it waits in the queue for the CONNACK.
    expect(world.made[1]?.client.stats.queued).toBe(1)
  })

  it('sends again, to the next leader, a QoS 1 publish a remaining tab made that was not acknowledged, and settles it; an acknowledged one is not sent again', async () => {
    const world = origin()
    const [a, b] = [world.tab(), world.tab()]
    const first = await world.accept(0)
    await until(() => b.client.connected, 'b connected')
    const answered = b.client.publish('done', 'once', { qos: 1 })
    const [donePacket] = (await world.written(first, 'publish', 1)) as [PublishPacket]
    first.deliver({ cmd: 'puback', messageId: donePacket.messageId })
    await expect(answered).resolves.toEqual({ reasonCode: 0 })
    const unanswered = b.client.publish('pending', 'lost?', { qos: 1 })
    await world.written(first, 'publish', 1)

    a.leave()
    await b.election.elected
    const second = await world.accept(1, true)
    const [resent] = (await world.written(second, 'publish', 1)) as [PublishPacket]
    expect([resent.topic, resent.qos, String(resent.payload)]).toEqual(['pending', 1, 'lost?'])
    second.deliver({ cmd: 'puback', messageId: resent.messageId })
    await expect(unanswered).resolves.toEqual({ reasonCode: 0 })
    await turns()
    expect(second.written.filter((p) => p.cmd === 'publish').map((p) => (p as PublishPacket).topic)).toEqual(['pending'])
  })

  it("hands a crashed leader's unacknowledged publishes to the next leader through the store, as the page left no code to send them", async () => {
    const world = origin()
    const [a, b] = [world.tab(), world.tab()]
    const first = await world.accept(0)
    await until(() => a.client.connected, 'a connected')
    void a.client.publish('from-a', 'kept', { qos: 1 }).catch(() => undefined)
    await world.written(first, 'publish', 1)
    expect((await world.store.load()).map((m) => m.topic)).toEqual(['from-a'])

    a.crash()
    await b.election.elected
    const second = await world.accept(1, true)
    const [resent] = (await world.written(second, 'publish', 1)) as [PublishPacket]
    expect([resent.topic, String(resent.payload)]).toEqual(['from-a', 'kept'])
    second.deliver({ cmd: 'puback', messageId: resent.messageId })
    await until(() => b.client.connected, 'b connected')
    await turns()
    expect(await world.store.load()).toEqual([])
  })

  it('serves a tab opened after the leader was elected: its link asks who leads and the leader announces itself again', async () => {
    const world = origin()
    const a = world.tab()
    await world.accept(0)
    await until(() => a.client.connected, 'a connected')
    const late = world.tab()
    await until(() => late.client.connected, 'the late tab connected')
    expect([late.election.leading, FakeSocket.all.length]).toEqual([false, 1])
  })

  it("releases a gone tab's filters when its tab lock is released: the leader unsubscribes those no other tab uses", async () => {
    const world = origin()
    const [a, b, c] = [world.tab(), world.tab(), world.tab()]
    const socket = await world.accept(0)
    await until(() => [a, b, c].every((t) => t.client.connected), 'every tab connected')
    const granted = b.client.subscribe(['mine', 'ours'])
    world.suback(socket, await world.written(socket, 'subscribe', 1))
    await granted
    // Held already: no SUBSCRIBE for it.
    await c.client.subscribe('ours')
    expect(world.locks.held(tabLockName(b.client.tabId))).toBe(true)

    b.leave()
    const [unsubscribe] = (await world.written(socket, 'unsubscribe', 1)) as [WirePacket & { unsubscriptions: string[] }]
    expect(unsubscribe.unsubscriptions).toEqual(['mine'])
    expect(world.locks.held(tabLockName(b.client.tabId))).toBe(false)
    expect(a.election.leading).toBe(true)
  })
})

describe('openLeaderLink: a tab addressed on the key channel', () => {
  it('sends nothing before it knows a leader and holds its tab lock; then the hello first, naming the lock, addressed to that leader', async () => {
    const locks = new FakeLocks()
    const heard: ChannelMessage[] = []
    const leader = openBroadcastChannel(leaderChannelName('k'))
    cleanups.push(() => leader.close())
    leader.addEventListener('message', ({ data }: MessageEvent<ChannelMessage>) => heard.push(data))
    const link = openLeaderLink('k', { locks })
    cleanups.push(() => link.close())
    link.post({ type: 'hello', wire: 1, tab: 'T', key: 'k', url: URL, options: {} })
    link.post({ type: 'publish', id: 1, topic: 't', payload: 'x' })
    await until(() => heard.length > 0, 'who')
    await turns()
    expect(heard).toEqual([{ kind: 'who' }])
    leader.postMessage({ kind: 'leader', host: 'H1' })
    await until(() => heard.length === 3, 'hello and publish')
    expect(heard.slice(1)).toEqual([
      { kind: 'to-host', host: 'H1', tab: 'T', message: { type: 'hello', wire: 1, tab: 'T', key: 'k', url: URL, options: {}, lock: tabLockName('T') } },
      { kind: 'to-host', host: 'H1', tab: 'T', message: { type: 'publish', id: 1, topic: 't', payload: 'x' } },
    ])
    expect(locks.held(tabLockName('T'))).toBe(true)
    link.close()
    await turns()
    expect(locks.held(tabLockName('T'))).toBe(false)
  })

  it('takes only messages for its tab from its leader, and tells its client when another leader takes over', async () => {
    const leader = openBroadcastChannel(leaderChannelName('k2'))
    cleanups.push(() => leader.close())
    const link = openLeaderLink('k2', { locks: undefined })
    cleanups.push(() => link.close())
    const got: unknown[] = []
    let changed = 0
    link.onMessage((m) => got.push(m))
    link.onHostChanged(() => changed++)
    link.post({ type: 'hello', wire: 1, tab: 'T', key: 'k2', url: URL, options: {} })
    leader.postMessage({ kind: 'leader', host: 'H1' })
    await turns()
    const state = { type: 'refused', error: { name: 'Error', message: 'x', fields: {} } } as const
    leader.postMessage({ kind: 'to-tab', host: 'H1', tab: 'other', message: state })
    leader.postMessage({ kind: 'to-tab', host: 'H0', tab: 'T', message: state })
    leader.postMessage({ kind: 'to-tab', host: 'H1', tab: 'T', message: state })
    leader.postMessage({ kind: 'leader', host: 'H1' })
    await until(() => got.length === 1, 'the message for T')
    await turns()
    expect([got.length, changed]).toEqual([1, 0])
    leader.postMessage({ kind: 'leader', host: 'H2' })
    await until(() => changed === 1, 'host changed')
  })

  it('tells channel messages from anything else another build or page may post on the channel', () => {
    const good: unknown[] = [{ kind: 'who' }, { kind: 'leader', host: 'H' }, { kind: 'to-host', host: 'H', tab: 'T', message: { type: 'bye' } }]
    const bad: unknown[] = [null, 'who', { kind: 'leader' }, { kind: 'to-tab', host: 'H', tab: 1, message: {} }, { kind: 'to-host', host: 'H', tab: 'T', message: null }, { kind: 'other', host: 'H' }]
    expect(good.map(isChannelMessage)).toEqual(good.map(() => true))
    expect(bad.map(isChannelMessage)).toEqual(bad.map(() => false))
  })

  it("names the leader's lock and channel from the key", () => {
    expect([leaderLockName('k'), leaderChannelName('k')]).toEqual(['ts-mqtt-ws:leader:k', 'ts-mqtt-ws:shared:k'])
  })
})

describe('SharedClient.hostChanged: attaching to a new host as it was', () => {
  /** A link that keeps what the client posts and lets the test play the host. */
  function recordingLink() {
    const posted: TabMessage[] = []
    let handler: (message: HostMessage) => void = () => undefined
    let changed: () => void = () => undefined
    const link: HostLink = {
      post: (message) => void posted.push(message),
      onMessage: (h) => void (handler = h),
      close: () => undefined,
      onHostChanged: (h) => void (changed = h),
    }
    return { link, posted, host: (message: HostMessage) => handler(message), changeHost: () => changed() }
  }

  it("says hello again naming the connection's client id, subscribes again under the same numbers, and sends again only the unanswered requests, in order", async () => {
    const { link, posted, host, changeHost } = recordingLink()
    const client = connectShared(URL, { sharedKey: 'k' }, link)
    expect(posted).toEqual([{ type: 'hello', wire: 1, tab: client.tabId, key: 'k', url: URL, options: {} }])
    const connack = { cmd: 'connack', sessionPresent: false, returnCode: 0 } as const
    host({ type: 'state', snapshot: { state: 'connected', clientId: 'assigned-1', protocolVersion: 4, connack } })
    const got: string[] = []
    const subscribed = client.subscribe('a', { qos: 1 }, (m) => got.push(m.topic))
    host({ type: 'result', id: 1, value: [{ topic: 'a', qos: 1 }] })
    await subscribed
    void client.messages('s/#')
    const unanswered = client.publish('p', 'x', { qos: 1 })
    const answered = client.publish('q', 'y', { qos: 1 })
    host({ type: 'result', id: 4, value: { reasonCode: 0 } })
    await answered
    const events: string[] = []
    for (const name of ['close', 'offline', 'connect'] as const) client.on(name, () => events.push(name))
    const before = posted.length

    changeHost()
    expect(posted.slice(before)).toEqual([
      { type: 'hello', wire: 1, tab: client.tabId, key: 'k', url: URL, options: { clientId: 'assigned-1' } },
      { type: 'subscribe', id: 5, subscriptions: [{ topic: 'a', qos: 1, sub: 1 }] },
      { type: 'subscribe', id: 2, subscriptions: [{ topic: 's/#', qos: 0, sub: 2 }] },
      { type: 'publish', id: 3, topic: 'p', payload: 'x', options: { qos: 1, retain: false } },
    ])
    expect([client.state, events]).toEqual(['connecting', ['close', 'offline']])
    host({ type: 'state', snapshot: { state: 'connected', clientId: 'assigned-1', protocolVersion: 4, connack } })
    host({ type: 'result', id: 3, value: { reasonCode: 0 } })
    await expect(unanswered).resolves.toEqual({ reasonCode: 0 })
    host({ type: 'message', packet: { cmd: 'publish', topic: 'a', payload: new Uint8Array(), qos: 1, retain: false, dup: false }, subs: [1] })
    expect([got, events]).toEqual([['a'], ['close', 'offline', 'connect']])
  })

  it('does nothing on a client not yet opened or closed', () => {
    const { link, posted, changeHost } = recordingLink()
    const client = new SharedClient(link, URL, { sharedKey: 'k' })
    changeHost()
    expect(posted).toEqual([])
    client.open()
    client.detach()
    const after = posted.length
    changeHost()
    expect(posted.length).toBe(after)
  })
})
