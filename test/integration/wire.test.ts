import { generate, type Packet } from 'mqtt-packet'
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import {
  ClientClosedError,
  connect,
  ConnectionClosedError,
  connectAsync,
  ConnectTimeoutError,
  InvalidArgumentError,
  InvalidTopicError,
  KeepaliveTimeoutError,
  type MqttClient,
  ProtocolError,
  TransportError,
} from '../../src/index.js'
import { acceptConnect, type FakeBroker, startFakeBroker } from '../support/fake-broker.js'
import { rejection } from '../support/expect-error.js'
import { waitUntil } from '../support/wait.js'

let broker: FakeBroker | undefined
let client: MqttClient | undefined

afterEach(async () => {
  await client?.end({ force: true })
  await broker?.close()
  client = undefined
  broker = undefined
})

const opts = { WebSocket, reconnect: false as const }

function publishPacket(topic: string, payload: string, qos: 0 | 1 | 2 = 0, messageId?: number): Buffer {
  return generate({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, messageId } as Packet)
}

function nextEvent<T extends unknown[]>(c: MqttClient, event: 'error' | 'close' | 'message'): Promise<T> {
  return new Promise((resolve) => c.once(event, ((...args: T) => resolve(args)) as never))
}

function collectMessages(c: MqttClient, count: number): Promise<string[]> {
  const got: string[] = []
  return new Promise((resolve) => {
    c.on('message', (topic, payload) => {
      got.push(`${topic}=${Buffer.from(payload).toString()}`)
      if (got.length === count) resolve(got)
    })
  })
}

describe('WebSocket transport', () => {
  it('asks for the mqtt subprotocol, and a broker that refuses it fails the connection', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    expect(broker.connections[0]?.socket.protocol).toBe('mqtt')
    await client.end()
    await broker.close()
    broker = await startFakeBroker({ protocol: 'other' })
    const refused = await rejection(connectAsync(broker.url, opts), TransportError)
    expect(refused.message).toMatch(/subprotocol/)
  })

  it('reads several MQTT packets from one WebSocket frame', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const got = collectMessages(client, 3)
    broker.connections[0]?.send(Buffer.concat([publishPacket('a', '1'), publishPacket('b', '2'), publishPacket('c', '3')]))
    expect(await got).toEqual(['a=1', 'b=2', 'c=3'])
  })

  it('reads one MQTT packet split across several frames', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const got = collectMessages(client, 2)
    const bytes = Buffer.concat([publishPacket('split/topic', 'x'.repeat(1000)), publishPacket('next', 'y')])
    const conn = broker.connections[0]
    for (const [from, to] of [[0, 1], [1, 2], [2, 500], [500, 1005], [1005, bytes.length]] as const) {
      conn?.send(bytes.subarray(from, to))
    }
    expect(await got).toEqual([`split/topic=${'x'.repeat(1000)}`, 'next=y'])
  })

  it('writes the packets of one event-loop turn in a single frame', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const conn = broker.connections[0]
    const framesBefore = conn?.frames.length ?? 0
    const sends = Array.from({ length: 100 }, (_, i) => client?.publish('burst', `m${i}`))
    await Promise.all(sends)
    await waitUntil(() => (conn?.packets.filter((p) => p.cmd === 'publish').length ?? 0) === 100)
    expect((conn?.frames.length ?? 0) - framesBefore).toBe(1)
  })
})

describe('receiving', () => {
  it('passes on the retain and dup flags of a received message, and acknowledges a QoS 1 re-send', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const got: Array<{ retain: boolean; dup: boolean; qos: number }> = []
    await new Promise<void>((resolve) => {
      client?.subscribe('flags', (m) => {
        got.push({ retain: m.retain, dup: m.dup, qos: m.qos })
        if (got.length === 2) resolve()
      })
      const conn = broker?.connections[0]
      void conn?.waitFor('subscribe').then((sub) => {
        conn.send({ cmd: 'suback', messageId: sub.messageId as number, granted: [1] })
        conn.send({ cmd: 'publish', topic: 'flags', payload: Buffer.from('r'), qos: 0, retain: true, dup: false })
        conn.send({ cmd: 'publish', topic: 'flags', payload: Buffer.from('d'), qos: 1, messageId: 42, retain: false, dup: true })
      })
    })
    expect(got).toEqual([
      { retain: true, dup: false, qos: 0 },
      { retain: false, dup: true, qos: 1 },
    ])
    const ack = await broker.connections[0]?.waitFor('puback')
    expect(ack?.messageId).toBe(42)
  })
})

describe('bytes from the broker that are not valid MQTT', () => {
  it.each([
    ['garbage bytes', Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5]), /Malformed packet/],
    ['a remaining length of five bytes', Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), /Malformed remaining length/],
    ['a packet over maxPacketSize', Buffer.from([0x30, 0xff, 0xff, 0x7f]), /exceeds the limit/],
    ['a second CONNACK', Buffer.from([0x20, 0x02, 0x00, 0x00]), /a second CONNACK/],
  ])('end in an error event and a clean close after %s', async (_, bytes, message) => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, { ...opts, maxPacketSize: 1024 })
    const error = nextEvent<[Error]>(client, 'error')
    const closed = nextEvent(client, 'close')
    broker.connections[0]?.send(bytes)
    const [err] = await error
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err.message).toMatch(message)
    await closed
    expect(client.state).toBe('disconnected')
    expect((await rejection(client.publish('t', 'x'), ConnectionClosedError)).message).toMatch(/not reconnect/)
  })

  it('closes on a text frame, which MQTT over WebSocket forbids', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const error = nextEvent<[Error]>(client, 'error')
    broker.connections[0]?.socket.send('hello')
    const [err] = await error
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err.message).toMatch(/non-binary/)
  })

  it('treats a packet before CONNACK as a protocol error', async () => {
    broker = await startFakeBroker({
      onPacket: (p, conn) => {
        if (p.cmd === 'connect') conn.send({ cmd: 'pingresp' })
      },
    })
    await expect(connectAsync(broker.url, opts)).rejects.toThrow(ProtocolError)
  })
})

describe('keepalive', () => {
  it('finds a broker that stops answering and closes with KeepaliveTimeoutError', async () => {
    // Answers CONNECT, then nothing: not even PINGRESP.
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, { ...opts, keepalive: 1 })
    const conn = broker.connections[0]
    const [err] = await nextEvent<[Error]>(client, 'error')
    expect(err).toBeInstanceOf(KeepaliveTimeoutError)
    expect(conn?.packets.some((p) => p.cmd === 'pingreq')).toBe(true)
    await waitUntil(() => client?.state === 'disconnected')
  })

  it('stays connected while the broker answers PINGREQ', async () => {
    broker = await startFakeBroker({
      onPacket: (p, conn) => {
        acceptConnect(p, conn)
        if (p.cmd === 'pingreq') conn.send({ cmd: 'pingresp' })
      },
    })
    client = await connectAsync(broker.url, { ...opts, keepalive: 1 })
    const conn = broker.connections[0]
    await waitUntil(() => (conn?.packets.filter((p) => p.cmd === 'pingreq').length ?? 0) >= 3, 10_000)
    expect(client.connected).toBe(true)
  })
})

describe('connecting', () => {
  it('rejects connectAsync with ConnectTimeoutError when CONNACK never comes', async () => {
    broker = await startFakeBroker({ onPacket: () => undefined })
    await expect(connectAsync(broker.url, { ...opts, connectTimeout: 300 })).rejects.toThrow(ConnectTimeoutError)
  })

  it('rejects connectAsync when nothing listens on the port', async () => {
    broker = await startFakeBroker()
    const url = broker.url
    await broker.close()
    broker = undefined
    const refused = await rejection(connectAsync(url, opts), TransportError)
    expect(refused.message).toMatch(/ECONNREFUSED/)
  })
})

describe('bad input from the caller', () => {
  it('rejects with a typed error and writes nothing to the socket', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const conn = broker.connections[0]
    const c = client
    const attempts: Array<[() => Promise<unknown>, new (...a: never[]) => Error]> = [
      [() => c.publish('a/+', 'x'), InvalidTopicError],
      [() => c.publish('a/#', 'x'), InvalidTopicError],
      [() => c.publish('', 'x'), InvalidTopicError],
      [() => c.publish('a\u0000b', 'x'), InvalidTopicError],
      [() => c.publish('x'.repeat(65_536), 'x'), InvalidTopicError],
      [() => c.publish('t', 'x', { qos: 3 as 0 }), InvalidArgumentError],
      [() => c.publish('t', 42 as unknown as string), InvalidArgumentError],
      [() => c.publish('t', { a: 1 } as unknown as string), InvalidArgumentError],
      [() => c.subscribe('a/#/b'), InvalidTopicError],
      [() => c.subscribe('a+'), InvalidTopicError],
      [() => c.subscribe('t', { qos: -1 as 0 }), InvalidArgumentError],
      [() => c.subscribe([]), InvalidArgumentError],
      [() => c.unsubscribe(''), InvalidTopicError],
    ]
    for (const [attempt, type] of attempts) await expect(attempt()).rejects.toBeInstanceOf(type)
    await c.publish('marker', 'ok')
    await conn?.waitFor('publish')
    // The only packets after CONNECT are the marker publish.
    expect(conn?.packets.map((p) => p.cmd)).toEqual(['connect', 'publish'])
  })

  it('throws a typed error from connect() for bad options, before any socket opens', async () => {
    broker = await startFakeBroker()
    expect(() => connect(broker?.url as string, { ...opts, keepalive: -1 })).toThrow(InvalidArgumentError)
    expect(() => connect('http://127.0.0.1:1', opts)).toThrow(InvalidArgumentError)
    await new Promise((r) => setTimeout(r, 50))
    expect(broker.connections).toHaveLength(0)
  })
})

describe('end()', () => {
  it('waits for an in-flight QoS 1 publish before DISCONNECT', async () => {
    let release: (() => void) | undefined
    broker = await startFakeBroker({
      onPacket: (p, conn) => {
        acceptConnect(p, conn)
        if (p.cmd === 'publish') release = () => conn.send({ cmd: 'puback', messageId: p.messageId as number })
      },
    })
    client = await connectAsync(broker.url, opts)
    const conn = broker.connections[0]
    const published = client.publish('t', 'x', { qos: 1 })
    const ended = client.end()
    await conn?.waitFor('publish')
    expect(conn?.packets.some((p) => p.cmd === 'disconnect')).toBe(false)
    release?.()
    await published
    await ended
    await conn?.waitFor('disconnect')
    expect(conn?.packets.map((p) => p.cmd)).toEqual(['connect', 'publish', 'disconnect'])
    expect(client.state).toBe('closed')
  })

  it('with force, rejects what is pending with ClientClosedError and still sends DISCONNECT', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, opts)
    const conn = broker.connections[0]
    const published = client.publish('t', 'x', { qos: 1 })
    await conn?.waitFor('publish')
    await client.end({ force: true })
    await expect(published).rejects.toBeInstanceOf(ClientClosedError)
    await conn?.waitFor('disconnect')
    await expect(client.publish('t', 'x')).rejects.toBeInstanceOf(ClientClosedError)
  })

  it('settles when the connection was never made', async () => {
    broker = await startFakeBroker({ onPacket: () => undefined })
    client = connect(broker.url, opts)
    const queued = client.publish('t', 'x', { qos: 1 })
    await client.end()
    await expect(queued).rejects.toBeInstanceOf(ClientClosedError)
    expect(client.state).toBe('closed')
  })
})

describe('resources', () => {
  it('holds no timers or sockets once ended', async () => {
    const count = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPSocketWrap').length
    broker = await startFakeBroker()
    // Earlier tests' sockets may still be closing: take the baseline once the count holds still.
    let baseline = -1
    for (let stable = 0; stable < 3; ) {
      await new Promise((r) => setTimeout(r, 50))
      const now = count()
      stable = now === baseline ? stable + 1 : 0
      baseline = now
    }
    // A long keepalive, so a leaked keepalive timer would outlive the wait below.
    client = await connectAsync(broker.url, { WebSocket, keepalive: 60 })
    await client.publish('a', 'x')
    expect(count()).toBeGreaterThan(baseline)
    await client.end()
    // The WebSocket's closing handshake finishes just after end() resolves.
    await waitUntil(() => count() <= baseline, 3000)
  })
})

describe('reconnecting', () => {
  it('reconnects after a lost connection and re-sends an unacknowledged QoS 1 publish with DUP', async () => {
    broker = await startFakeBroker({
      onPacket: (p, conn) => {
        acceptConnect(p, conn)
        // Acknowledge only on the second connection, so the first loss leaves the publish in flight.
        if (p.cmd === 'publish' && broker?.connections.indexOf(conn) === 1) {
          conn.send({ cmd: 'puback', messageId: p.messageId as number })
        }
      },
    })
    client = await connectAsync(broker.url, { WebSocket, reconnect: { minDelay: 10, maxDelay: 20 } })
    const events: string[] = []
    for (const e of ['offline', 'reconnect', 'connect', 'close'] as const) client.on(e, () => events.push(e))
    const first = broker.connections[0]
    const published = client.publish('t', 'kept', { qos: 1 })
    const original = await first?.waitFor('publish')
    const second = broker.nextConnection()
    first?.socket.terminate()
    const resent = await (await second).waitFor('publish')
    await published
    expect(resent).toMatchObject({ dup: true, qos: 1, messageId: original?.messageId, topic: 't' })
    expect(events).toEqual(['close', 'offline', 'reconnect', 'connect'])
    expect(client.state).toBe('connected')
  })

  it('stops at maxAttempts and rejects what was queued', async () => {
    broker = await startFakeBroker()
    client = await connectAsync(broker.url, { WebSocket, reconnect: { minDelay: 5, maxDelay: 10, maxAttempts: 2 } })
    await broker.close()
    broker = undefined
    const queued = client.publish('t', 'x', { qos: 1 })
    const errors: Error[] = []
    client.on('error', (e) => errors.push(e))
    expect((await rejection(queued, ConnectionClosedError)).message).toMatch(/not reconnecting/)
    expect(client.state).toBe('disconnected')
    expect(errors.length).toBeGreaterThanOrEqual(2)
  })
})
