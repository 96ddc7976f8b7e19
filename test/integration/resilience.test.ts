import WebSocket from 'ws'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  type ClientOptions,
  connect,
  connectAsync,
  ConnectionClosedError,
  ConnectionRefusedError,
  KeepaliveTimeoutError,
  type Message,
  type MqttClient,
  QueueFullError,
} from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js'
import { rejection } from '../support/expect-error.js'
import { waitUntil } from '../support/wait.js'

let broker: Awaited<ReturnType<typeof startAedesBroker>>
let proxy: FaultProxy
const clients: MqttClient[] = []

beforeEach(async () => {
  broker = await startAedesBroker({ port: 0 })
  proxy = await startFaultProxy({ port: broker.port })
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
  await proxy.close()
  await broker.close()
})

const fast = { minDelay: 10, maxDelay: 50 }

function track(client: MqttClient): MqttClient {
  clients.push(client)
  return client
}

function viaProxy(options: ClientOptions = {}): MqttClient {
  return track(connect(proxy.url, { WebSocket, reconnect: fast, ...options }))
}

const once = (c: MqttClient, event: 'connect' | 'close' | 'reconnect') => new Promise<void>((r) => c.once(event, () => r()))

async function direct(options: ClientOptions = {}): Promise<MqttClient> {
  return track(await connectAsync(broker.url, { WebSocket, reconnect: false, ...options }))
}

describe('liveness', () => {
  it('finds a stalled connection by keepalive and replaces it', async () => {
    const c = viaProxy({ keepalive: 1 })
    await once(c, 'connect')
    const errors: Error[] = []
    c.on('error', (e) => errors.push(e))
    const stalledAt = performance.now()
    proxy.stall(true)
    // Nothing comes back after the stall, so a ping goes out within one keepalive period and the
    // link is declared dead half a period later: 1.5 s at the latest, plus 1 s for a busy machine.
    await waitUntil(() => errors.some((e) => e instanceof KeepaliveTimeoutError), 2500)
    expect(performance.now() - stalledAt).toBeGreaterThanOrEqual(500)
    proxy.stall(false)
    await waitUntil(() => c.connected && proxy.accepted >= 2, 10_000)
    expect(c.state).toBe('connected')
  })

  it.each([
    ['every write cut into 1-byte pieces', (p: FaultProxy) => p.fragment(true)],
    ['50 ms of added delay', (p: FaultProxy) => p.delay(50)],
  ])('carries QoS 2 messages intact with %s', async (_, fault) => {
    fault(proxy)
    const c = viaProxy()
    await once(c, 'connect')
    const got: string[] = []
    await c.subscribe('faults', { qos: 2 }, (m) => got.push(m.text()))
    await Promise.all(['one', 'two', 'x'.repeat(3000)].map((t) => c.publish('faults', t, { qos: 2 })))
    await waitUntil(() => got.length === 3)
    expect(got).toEqual(['one', 'two', 'x'.repeat(3000)])
  })
})

describe('reconnecting', () => {
  it('fails over to the next server when the first refuses connections', async () => {
    proxy.refuse(true)
    const c = track(connect(proxy.url, { WebSocket, reconnect: fast, servers: [broker.url] }))
    await once(c, 'connect')
    expect(proxy.accepted).toBe(1)
    await c.publish('failover', 'ok', { qos: 1 })
  })

  it('subscribes again after a reconnect to every filter, at the QoS each was granted, when the broker kept no session', async () => {
    const c = viaProxy({ clean: true })
    await once(c, 'connect')
    const got: Array<{ topic: string; qos: number }> = []
    const record = (m: Message) => got.push({ topic: m.topic, qos: m.qos })
    await c.subscribe('resub/zero', { qos: 0 }, record)
    await c.subscribe('resub/one', { qos: 1 }, record)
    // More filters than fit in one re-sent SUBSCRIBE (50), the last of them at QoS 2.
    const many = Array.from({ length: 60 }, (_, i) => `resub/many/${i}`)
    await c.subscribe(many, { qos: 2 }, record)
    proxy.dropAll()
    await once(c, 'connect')
    // The broker kept no session: only the client's own SUBSCRIBEs can bring the messages back.
    const peer = await direct()
    const targets = ['resub/zero', 'resub/one', 'resub/many/0', 'resub/many/59']
    const delivered = (topic: string) => got.some((m) => m.topic === topic)
    // Publish until each filter delivers (the re-sent SUBSCRIBEs may still be on their way), for 10 s at most.
    for (const deadline = Date.now() + 10_000; !targets.every(delivered) && Date.now() < deadline; ) {
      for (const topic of targets) if (!delivered(topic)) await peer.publish(topic, 'after the drop', { qos: 2 })
      await new Promise((r) => setTimeout(r, 100))
    }
    // Sent at QoS 2, each message arrives at the QoS its filter was granted before the drop.
    const qosOf = (topic: string) => got.find((m) => m.topic === topic)?.qos
    expect(targets.map(qosOf)).toEqual([0, 1, 2, 2])
  })

  it('does not subscribe again when the broker kept the session, and still receives', async () => {
    const c = viaProxy({ clean: false, clientId: 'kept-session' })
    await once(c, 'connect')
    const got: string[] = []
    await c.subscribe('kept', { qos: 1 }, (m) => got.push(m.text()))
    const sent: string[] = []
    c.on('packetsend', (p) => sent.push(p.cmd))
    let present: boolean | undefined
    c.once('connect', (connack) => {
      present = connack.sessionPresent
    })
    proxy.dropAll()
    await waitUntil(() => present !== undefined)
    expect(present).toBe(true)
    const peer = await direct()
    await peer.publish('kept', 'still here', { qos: 1 })
    await waitUntil(() => got.length === 1)
    expect(sent).not.toContain('subscribe')
  })

  it('stops at a refusal for bad credentials, says why, and does not retry', async () => {
    broker.aedes.authenticate = (_client, _user, _pass, done) => done(Object.assign(new Error('no'), { returnCode: 4 }) as never, false)
    const c = viaProxy({ username: 'u', password: 'wrong' })
    const error = await new Promise<Error>((r) => c.once('error', r))
    expect(error).toBeInstanceOf(ConnectionRefusedError)
    await waitUntil(() => c.state === 'disconnected')
    // Long enough for many retries at a 10 ms delay; there must be none.
    await new Promise((r) => setTimeout(r, 500))
    expect(proxy.accepted).toBe(1)
    expect((await rejection(c.publish('t', 'x', { qos: 1 }), ConnectionClosedError)).message).toMatch(/bad user name or password/)
  })
})

describe('delivery across drops', () => {
  it('queues publishes made while disconnected and sends them in order after the reconnect', async () => {
    const peer = await direct()
    const got: Array<{ n: number; qos: number }> = []
    await peer.subscribe('ordered', { qos: 2 }, (m) => got.push({ n: Number(m.text()), qos: m.qos }))
    proxy.refuse(true)
    const c = viaProxy({ reconnect: { minDelay: 200, maxDelay: 200, jitter: false } })
    const onWire: number[] = []
    c.on('packetsend', (p) => {
      if (p.cmd === 'publish') onWire.push(Number(p.payload))
    })
    const sends = Array.from({ length: 50 }, (_, i) => c.publish('ordered', String(i), { qos: (i % 3) as 0 | 1 | 2 }))
    expect(c.connected).toBe(false)
    proxy.refuse(false)
    await Promise.all(sends)
    const all = Array.from({ length: 50 }, (_, i) => i)
    expect(onWire).toEqual(all)
    await waitUntil(() => got.length === 50)
    // The broker keeps order within each QoS (MQTT §4.6); across QoS levels it need not.
    for (const qos of [0, 1, 2]) {
      expect(got.filter((m) => m.qos === qos).map((m) => m.n)).toEqual(all.filter((n) => n % 3 === qos))
    }
  })

  it('rejects a publish with QueueFullError once the offline queue is full, keeping what it holds', async () => {
    proxy.refuse(true)
    const c = viaProxy({ queueLimit: 3 })
    const kept = [1, 2, 3].map((i) => c.publish('full', String(i), { qos: 1 }))
    await expect(c.publish('full', '4', { qos: 1 })).rejects.toBeInstanceOf(QueueFullError)
    proxy.refuse(false)
    await Promise.all(kept)
  })

  it('settles every pending publish, subscribe and unsubscribe when ended while reconnecting', async () => {
    proxy.refuse(true)
    const c = viaProxy()
    const pending = [
      c.publish('t', 'a', { qos: 1 }),
      c.publish('t', 'b', { qos: 2 }),
      c.publish('t', 'c'),
      c.subscribe('s', { qos: 1 }),
      c.unsubscribe('u'),
    ]
    await waitUntil(() => c.state === 'reconnecting')
    await c.end()
    for (const p of pending) await rejection(p, ClientClosedError)
    expect(c.state).toBe('closed')
  })

  it('settles every pending publish, subscribe and unsubscribe in flight when ended with force', async () => {
    const c = viaProxy()
    await once(c, 'connect')
    proxy.stall(true) // nothing the client sends is answered now
    const pending = [c.publish('t', 'a', { qos: 1 }), c.subscribe('s', { qos: 1 }), c.unsubscribe('u')]
    await c.end({ force: true })
    for (const p of pending) await rejection(p, ClientClosedError)
  })

  it('settles every pending publish, subscribe and unsubscribe when it gives up reconnecting', async () => {
    proxy.refuse(true)
    const c = viaProxy({ reconnect: { minDelay: 5, maxDelay: 10, maxAttempts: 2 } })
    c.on('error', () => undefined)
    const pending = [c.publish('t', 'a', { qos: 1 }), c.subscribe('s', { qos: 1 }), c.unsubscribe('u')]
    for (const p of pending) expect((await rejection(p, ConnectionClosedError)).message).toMatch(/not reconnecting/)
    expect(c.state).toBe('disconnected')
  })
})
