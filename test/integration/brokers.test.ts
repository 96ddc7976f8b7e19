import mqtt from 'mqtt'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ClientOptions,
  connectAsync,
  type Message,
  type MqttClient,
  SubscribeError,
} from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import { type Broker, bothBrokers } from '../support/brokers.js'
import { startMosquitto } from '../support/mosquitto.js'
import { waitUntil } from '../support/wait.js'

/**
 * The client against two independent brokers, with MQTT.js as the independent peer: whatever
 * ts-mqtt-ws sends, MQTT.js must read as sent, and the other way round.
 */
const brokers = bothBrokers

let seq = 0
const unique = (name: string) => `it/${process.pid}/${++seq}/${name}`

describe.each(brokers)('against %s', (_name, start) => {
  let broker: Broker
  const opened: Array<{ end(o?: { force?: boolean }): unknown }> = []
  const peers: mqtt.MqttClient[] = []

  beforeAll(async () => {
    broker = await start()
  })

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.end({ force: true })))
    await Promise.all(peers.map((p) => p.endAsync(true)))
    await broker.close()
  })

  async function client(options: ClientOptions = {}): Promise<MqttClient> {
    const c = await connectAsync(broker.url, { WebSocket, reconnect: false, ...options })
    opened.push(c)
    return c
  }

  async function peer(options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
    const p = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, ...options })
    peers.push(p)
    return p
  }

  function peerReceives(p: mqtt.MqttClient, count: number): Promise<Array<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }>> {
    const got: Array<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }> = []
    return new Promise((resolve) => {
      p.on('message', (topic, payload, packet) => {
        got.push({ topic, payload, packet })
        if (got.length === count) resolve(got)
      })
    })
  }

  function receives(c: MqttClient, filter: string, count: number, qos: 0 | 1 | 2 = 0): Promise<Message[]> {
    const got: Message[] = []
    return new Promise((resolve, reject) => {
      c.subscribe(filter, { qos }, (m) => {
        got.push(m)
        if (got.length === count) resolve(got)
      }).catch(reject)
    })
  }

  /** Publishes a marker to a topic of its own and waits for it: what was sent before it has been handled. */
  async function markerThrough(c: MqttClient, topic: string): Promise<void> {
    const marker = receives(c, topic, 1, 1)
    await new Promise((r) => setTimeout(r, 20))
    await c.publish(topic, 'm', { qos: 1 })
    await marker
  }

  // Mosquitto 2.0.11 writes to WebSocket clients a few KiB per main-loop pass: a 256 KiB message
  // takes it about 6 s to deliver, to MQTT.js as to us (3 ms over TCP). Hence the longer timeout.
  it('carries every byte value and a 256 KiB payload exactly, both ways', { timeout: 60_000 }, async () => {
    const topic = unique('bytes')
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const big = new Uint8Array(256 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff
    const ours = await client()
    const theirs = await peer()
    await theirs.subscribeAsync(`${topic}/to-peer`, { qos: 1 })
    const atPeer = peerReceives(theirs, 2)
    await ours.publish(`${topic}/to-peer`, all, { qos: 1 })
    await ours.publish(`${topic}/to-peer`, big.buffer, { qos: 1 })
    const [a, b] = await atPeer
    expect(Buffer.compare(a?.payload as Buffer, Buffer.from(all))).toBe(0)
    expect(Buffer.compare(b?.payload as Buffer, Buffer.from(big))).toBe(0)

    const atUs = receives(ours, `${topic}/to-us`, 2, 1)
    await new Promise((r) => setTimeout(r, 20))
    await theirs.publishAsync(`${topic}/to-us`, Buffer.from(big), { qos: 1 })
    await theirs.publishAsync(`${topic}/to-us`, Buffer.from(all), { qos: 1 })
    const [x, y] = await atUs
    expect(Buffer.compare(Buffer.from(x?.payload as Uint8Array), Buffer.from(big))).toBe(0)
    expect(Buffer.compare(Buffer.from(y?.payload as Uint8Array), Buffer.from(all))).toBe(0)
  })

  it('carries UTF-8 topics and payloads unchanged, both ways', async () => {
    const topic = `${unique('utf8')}/ünïcødé/温度/🌡`
    const text = 'Grüße, 世界 🌍'
    const ours = await client()
    const theirs = await peer()
    await theirs.subscribeAsync(topic)
    const atPeer = peerReceives(theirs, 1)
    await ours.publish(topic, text)
    const [m] = await atPeer
    expect(m?.topic).toBe(topic)
    expect(m?.payload.toString('utf8')).toBe(text)

    const filterTopic = `${unique('utf8b')}/ünïcødé/温度/🌡`
    const got = receives(ours, filterTopic.replace('ünïcødé', '+'), 1)
    await new Promise((r) => setTimeout(r, 20))
    await theirs.publishAsync(filterTopic, text)
    const [n] = await got
    expect(n?.topic).toBe(filterTopic)
    expect(n?.text()).toBe(text)
  })

  it('delivers a retained message, flagged retain, to a client that subscribes later', async () => {
    const topic = unique('retained')
    const publisher = await client()
    await publisher.publish(topic, 'kept', { qos: 1, retain: true })
    const late = await client()
    const [m] = await receives(late, topic, 1, 1)
    expect(m?.text()).toBe('kept')
    expect(m?.retain).toBe(true)
    // Clear it so the broker does not keep it for other tests.
    await publisher.publish(topic, '', { qos: 1, retain: true })
  })

  it('subscribes in string, array and object form and returns what the broker granted', async () => {
    const c = await client()
    const base = unique('forms')
    expect(await c.subscribe(`${base}/s`, { qos: 1 })).toEqual([{ topic: `${base}/s`, qos: 1 }])
    expect(await c.subscribe([`${base}/a1`, `${base}/a2`], { qos: 2 })).toEqual([
      { topic: `${base}/a1`, qos: 2 },
      { topic: `${base}/a2`, qos: 2 },
    ])
    expect(await c.subscribe({ [`${base}/o1/#`]: { qos: 1 }, [`${base}/o2`]: { qos: 0 } })).toEqual([
      { topic: `${base}/o1/#`, qos: 1 },
      { topic: `${base}/o2`, qos: 0 },
    ])
  })

  it('gives each subscription handler only the messages its filter matches', async () => {
    const c = await client()
    const base = unique('handlers')
    const temps: string[] = []
    const all: string[] = []
    await c.subscribe(`${base}/+/temp`, (m) => temps.push(m.topic))
    await c.subscribe(`${base}/#`, (m) => all.push(m.topic))
    for (const t of [`${base}/kitchen/temp`, `${base}/kitchen/humidity`, `${base}/hall/temp`]) await c.publish(t, 'x')
    // A marker outside both filters, sent last, arrives after the broker has handled the three.
    await markerThrough(c, `${base}-marker`)
    expect(temps).toEqual([`${base}/kitchen/temp`, `${base}/hall/temp`])
    expect(all).toEqual([`${base}/kitchen/temp`, `${base}/kitchen/humidity`, `${base}/hall/temp`])
  })

  it('yields matching messages from messages(), and ends the iterator when the client ends', async () => {
    const c = await client()
    const filter = `${unique('iter')}/#`
    const seen: string[] = []
    const loop = (async () => {
      for await (const m of c.messages(filter, { qos: 1 })) seen.push(m.text())
    })()
    await new Promise((r) => setTimeout(r, 50))
    const publisher = await client()
    for (const n of ['1', '2', '3']) await publisher.publish(filter.replace('#', n), n, { qos: 1 })
    await waitUntil(() => seen.length === 3)
    await c.end()
    await loop
    expect(seen).toEqual(['1', '2', '3'])
  })

  it('stops delivering after unsubscribe', async () => {
    const c = await client()
    const topic = unique('unsub')
    const got: string[] = []
    await c.subscribe(topic, { qos: 1 }, (m) => got.push(m.text()))
    await c.publish(topic, 'before', { qos: 1 })
    await waitUntil(() => got.length === 1)
    await c.unsubscribe(topic)
    await c.publish(topic, 'after', { qos: 1 })
    await markerThrough(c, `${topic}-marker`)
    expect(got).toEqual(['before'])
  })

  it('publishes at QoS 0, 1 and 2 with the retain flag the broker keeps', async () => {
    const c = await client()
    const base = unique('qos')
    for (const qos of [0, 1, 2] as const) await c.publish(`${base}/${qos}`, `q${qos}`, { qos, retain: true })
    const theirs = await peer()
    const got = peerReceives(theirs, 3)
    await theirs.subscribeAsync(`${base}/+`, { qos: 2 })
    const msgs = (await got).sort((a, b) => a.topic.localeCompare(b.topic))
    expect(msgs.map((m) => [m.payload.toString(), m.packet.qos, m.packet.retain])).toEqual([
      ['q0', 0, true],
      ['q1', 1, true],
      ['q2', 2, true],
    ])
    for (const qos of [0, 1, 2]) await c.publish(`${base}/${qos}`, '', { qos: 1, retain: true })
  })

  it('delivers QoS 2 messages exactly once in both directions', async () => {
    const n = 200
    const topic = unique('exactly-once')
    const all = Array.from({ length: n }, (_, i) => i)
    const ours = await client()
    const theirs = await peer()
    await theirs.subscribeAsync(`${topic}/to-peer`, { qos: 2 })
    // Both lists stay live: whatever arrives after the n-th message is still counted below.
    const peerGot = await Promise.all([
      peerReceives(theirs, n),
      ...all.map((i) => ours.publish(`${topic}/to-peer`, String(i), { qos: 2 })),
    ]).then(([got]) => got)

    const atUs = receives(ours, `${topic}/to-us`, n, 2)
    await new Promise((r) => setTimeout(r, 20))
    await Promise.all(all.map((i) => theirs.publishAsync(`${topic}/to-us`, String(i), { qos: 2 })))
    const usGot = await atUs
    // A duplicate would arrive after the n-th message, from a late timer or a PUBREL: give it time.
    await new Promise((r) => setTimeout(r, 500))
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
    expect(sorted(peerGot.map((m) => Number(m.payload.toString())))).toEqual(all)
    expect(sorted(usGot.map((m) => Number(m.text())))).toEqual(all)
    expect(usGot.every((m) => m.qos === 2)).toBe(true)
  })

  it('has the broker publish the will when the socket is lost abruptly, and not after a graceful end', async () => {
    const willTopic = unique('will')
    const watcher = await peer()
    await watcher.subscribeAsync(willTopic, { qos: 1 })
    const wills: string[] = []
    watcher.on('message', (_t, payload) => wills.push(payload.toString()))

    const sockets: WebSocket[] = []
    class Tracked extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols)
        sockets.push(this)
      }
    }
    const graceful = await client({ WebSocket: Tracked, will: { topic: willTopic, payload: 'graceful', qos: 1 } })
    await graceful.end()
    const abrupt = await client({ WebSocket: Tracked, will: { topic: willTopic, payload: 'abrupt', qos: 1 } })
    expect(abrupt.connected).toBe(true)
    sockets[1]?.terminate() // TCP torn down, no DISCONNECT, no close frame
    await waitUntil(() => wills.length > 0)
    await new Promise((r) => setTimeout(r, 300))
    expect(wills).toEqual(['abrupt'])
  })
})

describe('refusals', () => {
  it('rejects connectAsync with the CONNACK return code and a readable reason, never the password', async () => {
    const broker = await startAedesBroker({ port: 0 })
    broker.aedes.authenticate = (_client, username, password, done) => {
      const ok = username === 'alice' && password?.toString() === 'right'
      const error = ok ? null : Object.assign(new Error('Auth error'), { returnCode: 4 })
      done(error as never, ok)
    }
    try {
      const secret = 's3cr3t-p4ss'
      const failure = await connectAsync(broker.url, { WebSocket, reconnect: false, username: 'alice', password: secret }).catch(
        (e: unknown) => e as Error & { returnCode?: number; code?: string },
      )
      expect(failure).toMatchObject({ name: 'ConnectionRefusedError', code: 'CONNECTION_REFUSED', returnCode: 4 })
      expect((failure as Error).message).toMatch(/bad user name or password/)
      expect(JSON.stringify(failure)).not.toContain(secret)
      expect(String((failure as Error).stack)).not.toContain(secret)
      const ok = await connectAsync(broker.url, { WebSocket, reconnect: false, username: 'alice', password: 'right' })
      await ok.end()
    } finally {
      await broker.close()
    }
  })

  it('rejects subscribe with SubscribeError when the broker answers 0x80', async () => {
    const broker = await startAedesBroker({ port: 0 })
    broker.aedes.authorizeSubscribe = (_client, sub, done) => done(null, sub.topic.startsWith('forbidden') ? null : sub)
    try {
      const c = await connectAsync(broker.url, { WebSocket, reconnect: false })
      const err = await c.subscribe(['allowed', 'forbidden/x'], { qos: 1 }).then(
        () => undefined,
        (e: unknown) => e as SubscribeError,
      )
      expect(err).toBeInstanceOf(SubscribeError)
      expect(err?.granted).toEqual([
        { topic: 'allowed', qos: 1 },
        { topic: 'forbidden/x', qos: 0x80 },
      ])
      await c.end()
    } finally {
      await broker.close()
    }
  })

  it('rejects a refused connection from Mosquitto (not authorized) without retrying', async () => {
    const broker = await startMosquitto({ extraConfig: 'allow_anonymous false' })
    try {
      await expect(connectAsync(broker.url, { WebSocket })).rejects.toMatchObject({ name: 'ConnectionRefusedError', returnCode: 5 })
    } finally {
      await broker.close()
    }
  })
})
