import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BrokerLimitError, ConnectionClosedError, connect, ReasonCodeError, SessionTakenOverError } from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import type { Broker } from '../support/brokers.js'
import { rejection } from '../support/expect-error.js'
import { startFakeBroker } from '../support/fake-broker.js'
import { startMosquitto } from '../support/mosquitto.js'
import { v5Clients, written } from '../support/v5-clients.js'
import { waitUntil } from '../support/wait.js'

/**
 * MQTT 5 against a real broker that announces limits in its CONNACK: a private Mosquitto whose
 * knobs set each one. What Mosquitto cannot do (aliases to us, AUTH, server reference) is left to
 * the scripted server in the unit and fake-broker tests.
 */
let seq = 0
const unique = (name: string) => `v5/${process.pid}/${++seq}/${name}`

const { client, peer, track } = v5Clients()


describe('against a Mosquitto with small limits', () => {
  let broker: Broker & { tcpUrl: string; restart(): Promise<void> }

  beforeAll(async () => {
    broker = await startMosquitto({
      extraConfig: ['max_keepalive 10', 'max_qos 1', 'retain_available false', 'max_packet_size 2000', 'max_topic_alias 2'].join('\n'),
    })
  })
  afterAll(() => broker.close())

  it('reads the limits from the CONNACK, adopts the Server Keep Alive and keeps the connection up by it', async () => {
    const c = await client(broker.url, { keepalive: 60 })
    expect(c.connack?.properties).toMatchObject({ serverKeepAlive: 10, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 2000 })
    // The broker drops a client silent for 1.5 × 10 s (its minimum); the client pings in time because it adopted 10 s.
    const sent = written(c)
    let closed = 0
    c.on('close', () => closed++)
    await waitUntil(() => sent.some((p) => p.cmd === 'pingreq'), 12_000)
    expect(closed).toBe(0)
  }, 20_000)

  it('rejects a QoS 2 publish over Maximum QoS 1 with BrokerLimitError and writes nothing, staying connected', async () => {
    const c = await client(broker.url)
    const sent = written(c)
    const err = await rejection(c.publish(unique('q2'), 'x', { qos: 2 }), BrokerLimitError)
    expect(err.limit).toBe('maximumQoS')
    await c.publish(unique('q1'), 'x', { qos: 1 })
    expect(sent.filter((p) => p.cmd === 'publish').map((p) => (p as { qos: number }).qos)).toEqual([1])
    expect(c.state).toBe('connected')
  })

  it('rejects a retained publish when the broker has no retained messages, and one over its Maximum Packet Size', async () => {
    const c = await client(broker.url)
    const sent = written(c)
    expect((await rejection(c.publish(unique('r'), 'x', { retain: true }), BrokerLimitError)).limit).toBe('retainAvailable')
    expect((await rejection(c.publish(unique('big'), new Uint8Array(3000), { qos: 1 }), BrokerLimitError)).limit).toBe('maximumPacketSize')
    expect(sent.filter((p) => p.cmd === 'publish')).toEqual([])
    expect(c.state).toBe('connected')
  })

  it('announces its own maximum packet size, so the broker never sends it a message it would have to refuse', async () => {
    const c = await client(broker.url, { maxPacketSize: 500 })
    const topic = unique('capped')
    const got: number[] = []
    await c.subscribe(topic, { qos: 1 }, (m) => got.push(m.payload.length))
    let closed = 0
    c.on('close', () => closed++)
    const p = await peer(broker.url)
    await p.publishAsync(topic, Buffer.alloc(1000), { qos: 1 })
    await p.publishAsync(topic, Buffer.alloc(10), { qos: 1 })
    await waitUntil(() => got.length > 0)
    expect(got).toEqual([10])
    expect(closed).toBe(0)
  })

  it('gives aliases to no more topics than the broker Topic Alias Maximum (2), and every message arrives under its own topic', async () => {
    const c = await client(broker.url)
    expect(c.connack?.properties?.topicAliasMaximum).toBe(2)
    const topics = ['a', 'b', 'c', 'd'].map((t) => unique(`alias-${t}`))
    const p = await peer(broker.url)
    const got: string[] = []
    p.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`))
    await Promise.all(topics.map((t) => p.subscribeAsync(t, { qos: 1 })))
    const sent = written(c)
    let closed = 0
    c.on('close', () => closed++)
    const expected: string[] = []
    for (let round = 0; round < 3; round++) {
      for (const t of topics) {
        await c.publish(t, `${round}`, { qos: 1 })
        expected.push(`${t} ${round}`)
      }
    }
    await waitUntil(() => got.length === expected.length)
    expect(got.sort()).toEqual(expected.sort())
    const publishes = sent.filter((x) => x.cmd === 'publish') as Array<{ topic: string; properties?: { topicAlias?: number } }>
    expect(new Set(publishes.map((x) => x.properties?.topicAlias).filter((a) => a !== undefined))).toEqual(new Set([1, 2]))
    // After the first round the first two topics go by alias alone; the others always in full.
    expect(publishes.filter((x) => x.topic === '')).toHaveLength(4)
    expect(closed).toBe(0)
  })

  it('sends correlation data given as a plain Uint8Array, and MQTT.js reads the same bytes', async () => {
    const p = await peer(broker.url)
    const topic = unique('corr')
    await p.subscribeAsync(topic, { qos: 1 })
    const received = new Promise<Buffer | undefined>((resolve) => p.on('message', (_t, _m, packet) => resolve(packet.properties?.correlationData)))
    const c = await client(broker.url)
    await c.publish(topic, 'req', { qos: 1, properties: { correlationData: new Uint8Array([1, 2, 250]), responseTopic: 'r' } })
    expect([...((await received) ?? [])]).toEqual([1, 2, 250])
  })

  it('has the broker publish the will when end() gives reason 0x04, and not on a plain end', async () => {
    const p = await peer(broker.url)
    const willTopic = unique('will')
    await p.subscribeAsync(willTopic, { qos: 1 })
    const wills: string[] = []
    p.on('message', (topic, payload) => topic === willTopic && wills.push(payload.toString()))
    const plain = await client(broker.url, { will: { topic: willTopic, payload: 'plain', qos: 1 } })
    await plain.end()
    const withWill = await client(broker.url, { will: { topic: willTopic, payload: 'asked', qos: 1 } })
    await withWill.end({ reasonCode: 0x04 })
    await waitUntil(() => wills.length > 0)
    await new Promise((r) => setTimeout(r, 200))
    expect(wills).toEqual(['asked'])
  })

  it('routes each copy by its subscription identifier, and keeps identifiers when it subscribes again after a restart', async () => {
    // Mosquitto sends one copy per matching subscription, each naming its own identifier; without
    // identifiers each copy would reach both handlers, and each handler would run twice.
    const c = await client(broker.url, { reconnect: { minDelay: 50, maxDelay: 200 } })
    const base = unique('ids')
    const [viaPlus, viaHash]: string[][] = [[], []]
    await c.subscribe(`${base}/+`, { qos: 1, properties: { subscriptionIdentifier: 1 } }, (m) => viaPlus.push(m.topic))
    await c.subscribe(`${base}/#`, { qos: 1, properties: { subscriptionIdentifier: 2 } }, (m) => viaHash.push(m.topic))
    const p = await peer(broker.url)
    await p.publishAsync(`${base}/x`, 'one', { qos: 1 })
    await waitUntil(() => viaPlus.length >= 1 && viaHash.length >= 1)
    const sent = written(c)
    let subacks = 0
    c.on('packetreceive', (packet) => packet.cmd === 'suback' && subacks++)
    await broker.restart()
    // Both filters made again and granted before anything is published to them.
    await waitUntil(() => c.state === 'connected' && subacks === 2, 10_000)
    const again = sent.filter((s) => s.cmd === 'subscribe') as Array<{ properties?: { subscriptionIdentifier?: number } }>
    expect(again.map((s) => s.properties?.subscriptionIdentifier).sort()).toEqual([1, 2])
    const p2 = await peer(broker.url)
    await p2.publishAsync(`${base}/y`, 'two', { qos: 1 })
    await waitUntil(() => viaPlus.length >= 2 && viaHash.length >= 2)
    await new Promise((r) => setTimeout(r, 200))
    expect([viaPlus, viaHash]).toEqual([
      [`${base}/x`, `${base}/y`],
      [`${base}/x`, `${base}/y`],
    ])
  })

  it('resolves unsubscribe with the UNSUBACK reason codes: 0x11 for a filter that had no subscription', async () => {
    const c = await client(broker.url)
    const topic = unique('unsub')
    await c.subscribe(topic, { qos: 1 })
    expect(await c.unsubscribe([topic, unique('never')])).toEqual({ reasonCodes: [0x00, 0x11] })
  })

  it('does request/response over MQTT 5 between two of our clients, several requests in flight at once', async () => {
    const service = unique('svc')
    const server = await client(broker.url)
    const caller = await client(broker.url)
    await server.respond(service, async (m) => `${m.text()}!`)
    const replies = await Promise.all(['a', 'b', 'c'].map((text) => caller.request(service, text, { timeout: 5000 })))
    expect(replies.map((r) => r.text())).toEqual(['a!', 'b!', 'c!'])
  })

  it('answers an MQTT.js request: the reply goes to its response topic with its correlation data echoed', async () => {
    const service = unique('svc-for-mqttjs')
    const server = await client(broker.url)
    await server.respond(service, (m) => `pong ${m.text()}`)
    const p = await peer(broker.url)
    const responseTopic = unique('mqttjs-replies')
    await p.subscribeAsync(responseTopic, { qos: 1 })
    const reply = new Promise<{ text: string; correlation: number[] }>((resolve) =>
      p.on('message', (_t, payload, packet) => resolve({ text: payload.toString(), correlation: [...(packet.properties?.correlationData ?? [])] })),
    )
    await p.publishAsync(service, 'ping', { qos: 1, properties: { responseTopic, correlationData: Buffer.from([7, 0, 255]) } })
    expect(await reply).toEqual({ text: 'pong ping', correlation: [7, 0, 255] })
  })

  it('gets its reply from an MQTT.js responder that echoes the correlation data', async () => {
    const service = unique('mqttjs-svc')
    const p = await peer(broker.url)
    await p.subscribeAsync(service, { qos: 1 })
    p.on('message', (_t, payload, packet) => {
      const { responseTopic, correlationData } = packet.properties ?? {}
      if (responseTopic) p.publish(responseTopic, `echo ${payload.toString()}`, { qos: 1, properties: { correlationData } })
    })
    const caller = await client(broker.url)
    expect((await caller.request(service, 'hi', { timeout: 5000 })).text()).toBe('echo hi')
  })

  it('adopts the client id the broker assigns when it is given none', async () => {
    const c = await client(broker.url, { clientId: '' })
    expect(c.clientId).not.toBe('')
    expect(c.clientId).toBe(c.connack?.properties?.assignedClientIdentifier)
  })
})

describe('a scripted MQTT 5 server, for what Mosquitto does not do over WebSocket', () => {
  it('follows a CONNACK 0x9C to the server it names, trying the first server once, not in a loop', async () => {
    const target = await startFakeBroker({ protocolVersion: 5, onPacket: (packet, conn) => packet.cmd === 'connect' && conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false }) })
    const first = await startFakeBroker({
      protocolVersion: 5,
      onPacket: (packet, conn) => {
        if (packet.cmd === 'connect') conn.send({ cmd: 'connack', reasonCode: 0x9c, sessionPresent: false, properties: { serverReference: `127.0.0.1:${target.port}` } })
      },
    })
    try {
      const c = connect(first.url, { WebSocket, protocolVersion: 5, reconnect: { minDelay: 20, maxDelay: 20 } })
      track(c)
      c.on('error', () => undefined)
      await waitUntil(() => c.connected)
      expect(first.connections).toHaveLength(1)
      expect(target.connections).toHaveLength(1)
    } finally {
      await Promise.all([first.close(), target.close()])
    }
  })

  it('resolves topic aliases the server sends, up to the maximum it announced, and answers an unknown one with DISCONNECT 0x94', async () => {
    const publish = (topic: string, topicAlias: number, payload: string) =>
      ({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false, properties: { topicAlias } }) as const
    const broker = await startFakeBroker({
      protocolVersion: 5,
      onPacket: (packet, conn) => {
        if (packet.cmd === 'connect') conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false })
        if (packet.cmd !== 'subscribe') return
        conn.send({ cmd: 'suback', messageId: packet.messageId, granted: [0] })
        conn.send(publish('aliases/long/topic', 3, 'full'))
        conn.send(publish('', 3, 'by alias'))
        conn.send(publish('', 4, 'unknown alias'))
      },
    })
    try {
      const c = await client(broker.url, { properties: { topicAliasMaximum: 5 } })
      const connect = (broker.connections[0]?.packets ?? []).find((p) => p.cmd === 'connect') as { properties?: { topicAliasMaximum?: number } }
      expect(connect.properties?.topicAliasMaximum).toBe(5)
      const got: string[] = []
      const errors: Error[] = []
      c.on('error', (e) => errors.push(e))
      await c.subscribe('aliases/#', (m) => got.push(`${m.topic}: ${m.text()}`))
      const farewell = await broker.connections[0]?.waitFor('disconnect')
      expect(farewell).toMatchObject({ reasonCode: 0x94 })
      await waitUntil(() => c.state === 'disconnected')
      expect(got).toEqual(['aliases/long/topic: full', 'aliases/long/topic: by alias'])
      expect(errors.map((e) => e.message).join('\n')).toMatch(/alias/i)
    } finally {
      await broker.close()
    }
  })

  it('authenticates through a two-step AUTH challenge before CONNACK, and re-authenticates on the live connection', async () => {
    const text = (b?: Uint8Array) => (b ? Buffer.from(b).toString() : '')
    const heard: string[] = []
    const method = 'DEMO-2STEP'
    const broker = await startFakeBroker({
      protocolVersion: 5,
      script: () => {
        let step = 0
        return (packet, conn) => {
          const data = (packet as { properties?: { authenticationData?: Uint8Array } }).properties?.authenticationData
          if (packet.cmd === 'connect' || packet.cmd === 'auth') heard.push(`${packet.cmd}:${text(data)}`)
          const auth = (reasonCode: number, d?: string) =>
            conn.send({ cmd: 'auth', reasonCode, properties: { authenticationMethod: method, ...(d ? { authenticationData: Buffer.from(d) } : {}) } })
          if (packet.cmd === 'connect') auth(0x18, 'challenge-1')
          else if (packet.cmd === 'auth' && step === 0) (step++, auth(0x18, 'challenge-2'))
          else if (packet.cmd === 'auth' && step === 1) (step++, conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { authenticationMethod: method } }))
          else if (packet.cmd === 'auth' && step === 2) (step++, auth(0x18, 'again'))
          else if (packet.cmd === 'auth' && step === 3) (step++, auth(0x00))
        }
      },
    })
    try {
      const c = await client(broker.url, {
        properties: { authenticationMethod: method, authenticationData: new TextEncoder().encode('hello') },
        onAuth: async ({ authenticationData }) => new TextEncoder().encode(`answer to ${text(authenticationData)}`),
      })
      expect(c.connected).toBe(true)
      await c.reauthenticate(new TextEncoder().encode('refresh'))
      expect(heard).toEqual(['connect:hello', 'auth:answer to challenge-1', 'auth:answer to challenge-2', 'auth:refresh', 'auth:answer to again'])
    } finally {
      await broker.close()
    }
  })

  it('fails a message the broker disconnects over, once, and reconnects and delivers the rest without it', async () => {
    const publishes: string[] = []
    const broker = await startFakeBroker({
      protocolVersion: 5,
      onPacket: (packet, conn) => {
        if (packet.cmd === 'connect') conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: true })
        if (packet.cmd !== 'publish') return
        publishes.push(packet.topic)
        if (packet.topic === 'poison') conn.send({ cmd: 'disconnect', reasonCode: 0x99, properties: { reasonString: 'not UTF-8' } })
        else conn.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 })
      },
    })
    try {
      const c = connect(broker.url, { WebSocket, protocolVersion: 5, reconnect: { minDelay: 20, maxDelay: 20 } })
      track(c)
      c.on('error', () => undefined)
      const poison = c.publish('poison', 'x', { qos: 1 })
      const err = await rejection(poison, ReasonCodeError)
      expect(err).toMatchObject({ reasonCode: 0x99, reasonString: 'not UTF-8' })
      await c.publish('after', 'y', { qos: 1 })
      await new Promise((r) => setTimeout(r, 200))
      expect(publishes).toEqual(['poison', 'after'])
      expect(broker.connections).toHaveLength(2)
    } finally {
      await broker.close()
    }
  })

  // Mosquitto 2.0.11 does send DISCONNECT 0x8E to a client whose session another connection
  // took, but over WebSocket it closes the socket before the packet is written (seen: the old
  // client gets close code 1006 and no DISCONNECT), so the scripted server sends it.
  it('stops for good when the broker says another connection took its session (0x8E), and reports it', async () => {
    const broker = await startFakeBroker({
      protocolVersion: 5,
      onPacket: (packet, conn) => {
        if (packet.cmd !== 'connect') return
        conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false })
        setTimeout(() => conn.send({ cmd: 'disconnect', reasonCode: 0x8e }), 20)
      },
    })
    try {
      const c = connect(broker.url, { WebSocket, protocolVersion: 5, reconnect: { minDelay: 20, maxDelay: 20 } })
      track(c)
      const errors: Error[] = []
      c.on('error', (e) => errors.push(e))
      await waitUntil(() => c.state === 'disconnected')
      expect(errors.map((e) => e.message).join('\n')).toMatch(/session taken over/)
      expect(errors.some((e) => e instanceof SessionTakenOverError)).toBe(true)
      // Long enough for several 20 ms retries, had it kept fighting for the session.
      await new Promise((r) => setTimeout(r, 300))
      expect(broker.connections).toHaveLength(1)
      await rejection(c.publish('t', 'x'), ConnectionClosedError)
    } finally {
      await broker.close()
    }
  })
})

describe('an MQTT 5 client against aedes, which speaks 3.1.1 only', () => {
  let broker: Broker

  beforeAll(async () => {
    broker = await startAedesBroker({ port: 0 })
  })
  afterAll(() => broker.close())

  it('is refused once, told the broker does not support MQTT 5, and does not retry', async () => {
    const c = connect(broker.url, { WebSocket, protocolVersion: 5, reconnect: { minDelay: 50, maxDelay: 50 } })
    track(c)
    const errors: Error[] = []
    c.on('error', (e) => errors.push(e))
    let reconnects = 0
    c.on('reconnect', () => reconnects++)
    await waitUntil(() => c.state === 'disconnected')
    expect(errors[0]?.message).toMatch(/does not support MQTT 5/)
    await new Promise((r) => setTimeout(r, 300))
    expect(reconnects).toBe(0)
  })

  it('does request/response on 3.1.1 between two of our clients, by the topic convention', async () => {
    const server = await client(broker.url, { protocolVersion: 4 })
    const service = unique('v4svc')
    await server.respond(service, (m) => m.text().toUpperCase())
    const caller = await client(broker.url, { protocolVersion: 4 })
    expect((await caller.request(service, 'shout', { timeout: 5000 })).text()).toBe('SHOUT')
  })

  it("with protocolVersion 'auto' falls back to 3.1.1 and works", async () => {
    const c = await client(broker.url, { protocolVersion: 'auto' })
    const topic = unique('auto')
    const got: string[] = []
    await c.subscribe(topic, { qos: 1 }, (m) => got.push(m.text()))
    await c.publish(topic, 'hello', { qos: 1 })
    await waitUntil(() => got.length === 1)
    expect(got).toEqual(['hello'])
    expect(c.connack?.returnCode ?? c.connack?.reasonCode).toBe(0)
  })
})
