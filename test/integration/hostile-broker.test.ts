import type { Packet } from 'mqtt-packet'
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { type ClientWarning, connect, connectAsync, type MqttClient, ProtocolError } from '../../src/index.js'
import { type FakeBroker, type FakeConnection, startFakeBroker } from '../support/fake-broker.js'
import { packet, props, str } from '../support/raw-packets.js'
import { waitUntil } from '../support/wait.js'

let broker: FakeBroker | undefined
let client: MqttClient | undefined

afterEach(async () => {
  await client?.end({ force: true })
  await broker?.close()
  client = undefined
  broker = undefined
})

const MALFORMED = 0x81
const PROTOCOL = 0x82

type When = 'connect' | 'publish'

/** [what the broker does wrong, versions, when it does it, the bytes, DISCONNECT reason on MQTT 5, message] */
const violations: Array<[string, Array<4 | 5>, When, Uint8Array, number, RegExp]> = [
  ['a second CONNACK', [4], 'publish', packet(0x20, 0, 0), PROTOCOL, /a second CONNACK/],
  ['a second CONNACK', [5], 'publish', packet(0x20, 0, 0, 0), PROTOCOL, /a second CONNACK/],
  ['a PUBLISH before CONNACK', [4, 5], 'connect', packet(0x30, ...str('t'), 0), PROTOCOL, /expected CONNACK first, got PUBLISH/],
  ['a topic that is not UTF-8', [4, 5], 'publish', packet(0x30, ...str([0x61, 0xc3, 0x28]), 0), MALFORMED, /topic is not valid UTF-8/],
  ['a topic with U+0000', [4, 5], 'publish', packet(0x30, ...str([0x61, 0]), 0), MALFORMED, /U\+0000/],
  ['a topic with a UTF-16 surrogate', [4, 5], 'publish', packet(0x30, ...str([0xed, 0xb0, 0x80]), 0), MALFORMED, /not valid UTF-8/],
  ['a wildcard in a topic name', [4, 5], 'publish', packet(0x30, ...str('a/#'), 0), PROTOCOL, /wildcard/],
  ['packet identifier 0 on a QoS 1 PUBLISH', [4, 5], 'publish', packet(0x32, ...str('t'), 0, 0, 0), PROTOCOL, /packet identifier 0/],
  ['reserved flag bits', [4, 5], 'publish', packet(0x41, 0, 1), MALFORMED, /reserved flag bits/],
  ['an unknown packet type', [4, 5], 'publish', packet(0x00), MALFORMED, /unknown packet type 0/],
  ['a packet a server must not send', [4, 5], 'publish', packet(0xc0), PROTOCOL, /must not send PINGREQ/],
  ['a property twice', [5], 'publish', packet(0x30, ...str('t'), ...props(0x03, ...str('a'), 0x03, ...str('b'))), PROTOCOL, /contentType twice/],
  ['a property not allowed on the packet', [5], 'publish', packet(0x40, 0, 1, 0, ...props(0x11, 0, 0, 0, 1)), MALFORMED, /sessionExpiryInterval is not allowed on PUBACK/],
  // A remaining length of 268,435,455: refused on the header, not waited on.
  ['a remaining length over maxPacketSize', [4, 5], 'publish', Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0x7f), 0x95, /exceeds the limit of 1048576 bytes/],
]

/**
 * A broker that breaks the rules once, on the first connection, then behaves: the client must
 * report a ProtocolError, say why on MQTT 5, close, reconnect, and deliver what it had accepted.
 */
function breaksOnce(when: When, bytes: Uint8Array, version: 4 | 5) {
  return (conn: FakeConnection) => (p: Packet) => {
    const first = broker?.connections.indexOf(conn) === 0
    if (p.cmd === 'connect') {
      if (first && when === 'connect') conn.send(bytes)
      conn.send(version === 5 ? { cmd: 'connack', reasonCode: 0, sessionPresent: false } : { cmd: 'connack', returnCode: 0, sessionPresent: false })
    }
    if (p.cmd === 'publish' && p.qos === 1) conn.send(first && when === 'publish' ? bytes : { cmd: 'puback', messageId: p.messageId })
  }
}

describe('a broker that breaks the protocol gets an error event, DISCONNECT on MQTT 5, a clean close, and a reconnect that loses nothing', () => {
  const cases = violations.flatMap(([what, versions, ...rest]) => versions.map((v) => [what, v, ...rest] as const))
  it.each(cases)('%s (MQTT %i)', async (_what, version, when, bytes, reasonCode, message) => {
    broker = await startFakeBroker({ protocolVersion: version, script: breaksOnce(when, bytes, version) })
    const errors: Error[] = []
    const c = connect(broker.url, { WebSocket, protocolVersion: version, maxPacketSize: 1024 * 1024, reconnect: { minDelay: 10, maxDelay: 10 } })
    client = c
    c.on('error', (err) => errors.push(err))
    // Accepted before the broker misbehaves: it must survive into the next connection.
    await c.publish('kept', 'accepted', { qos: 1 })
    await waitUntil(() => (broker?.connections.length ?? 0) >= 2)
    const first = broker.connections[0] as FakeConnection
    await waitUntil(() => first.socket.readyState === first.socket.CLOSED)
    const violation = errors.find((e) => e instanceof ProtocolError) as ProtocolError | undefined
    expect(violation?.message).toMatch(message)
    expect(violation?.reasonCode).toBe(reasonCode)
    const farewell = first.packets.filter((p) => p.cmd === 'disconnect')
    expect(farewell).toEqual(version === 5 ? [expect.objectContaining({ reasonCode })] : [])
    expect(c.connected).toBe(true)
    // The publish went again on the second connection, where it was acknowledged.
    expect((broker.connections[1] as FakeConnection).packets.some((p) => p.cmd === 'publish' && p.topic === 'kept')).toBe(true)
  })

  it('closes with a protocol error on a SUBACK whose return-code count does not match, and subscribes again on the next connection', async () => {
    broker = await startFakeBroker({
      script: (conn) => (p) => {
        const first = broker?.connections.indexOf(conn) === 0
        if (p.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
        if (p.cmd === 'subscribe') conn.send({ cmd: 'suback', messageId: p.messageId, granted: first ? [1] : p.subscriptions.map((s) => s.qos) })
      },
    })
    client = await connectAsync(broker.url, { WebSocket, reconnect: { minDelay: 10, maxDelay: 10 } })
    const errors: Error[] = []
    client.on('error', (err) => errors.push(err))
    const granted = await client.subscribe(['a', 'b'], { qos: 1 })
    expect(granted).toEqual([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 1 }])
    expect(broker.connections).toHaveLength(2)
    expect(errors.map((e) => e.message)).toContain('Protocol error from broker: SUBACK with 1 codes for 2 filters')
  })
})

describe('what a broker may get wrong without losing the connection', () => {
  it('ignores and counts an acknowledgement for a packet id with nothing in flight', async () => {
    broker = await startFakeBroker({
      onPacket: (p, conn) => {
        if (p.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
        if (p.cmd === 'publish' && p.qos === 1) {
          conn.send({ cmd: 'puback', messageId: 999 })
          conn.send({ cmd: 'puback', messageId: p.messageId })
        }
      },
    })
    client = await connectAsync(broker.url, { WebSocket, reconnect: false })
    const errors: Error[] = []
    client.on('error', (err) => errors.push(err))
    await client.publish('t', 'x', { qos: 1 })
    expect(client.stats.unknownAcks).toBe(1)
    expect(errors).toEqual([])
    expect(broker.connections).toHaveLength(1)
    expect(client.connected).toBe(true)
  })

  it('completes QoS 2 publishes that a broker answers with PUBACK (as RabbitMQ does) as delivered at QoS 1, with one warning', async () => {
    broker = await startFakeBroker({
      onPacket: (p, conn) => {
        if (p.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
        if (p.cmd === 'publish' && p.qos > 0) conn.send({ cmd: 'puback', messageId: p.messageId })
      },
    })
    client = await connectAsync(broker.url, { WebSocket, reconnect: false })
    const warnings: ClientWarning[] = []
    client.on('warning', (w) => warnings.push(w))
    const results = await Promise.all([1, 2, 3].map((i) => (client as MqttClient).publish(`t/${i}`, 'x', { qos: 2 })))
    expect(results).toEqual([{ reasonCode: 0 }, { reasonCode: 0 }, { reasonCode: 0 }])
    expect(warnings.map((w) => w.code)).toEqual(['QOS2_DOWNGRADED'])
    expect(client.stats.inFlight).toBe(0)
    // No PUBREL: the broker has nothing to release.
    expect(broker.connections[0]?.packets.filter((p) => p.cmd === 'pubrel')).toEqual([])
  })
})
