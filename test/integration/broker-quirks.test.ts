import type { Packet } from 'mqtt-packet'
import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { connectAsync, type MqttClient, TransportError } from '../../src/index.js'
import { type FakeBroker, type FakeConnection, startFakeBroker } from '../support/fake-broker.js'
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

/** What a broker that reads the first packet of each frame left unread, per connection. */
const ignoredBy = new WeakMap<FakeConnection, Packet[]>()

/**
 * A broker that reads one MQTT packet per WebSocket frame, as some embedded and test brokers do:
 * it answers the first packet of each frame and ignores the rest, without a word.
 */
function firstPacketOfEachFrame(conn: FakeConnection): (packet: Packet, conn: FakeConnection) => void {
  const ignored: Packet[] = []
  ignoredBy.set(conn, ignored)
  let answeredFrame = 0
  return (packet) => {
    // The broker counts a frame before it cuts the frame's packets out, so all of one frame see one count.
    if (conn.received.frames === answeredFrame) return void ignored.push(packet)
    answeredFrame = conn.received.frames
    if (packet.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
    if (packet.cmd === 'publish' && packet.qos === 1) conn.send({ cmd: 'puback', messageId: packet.messageId })
    if (packet.cmd === 'subscribe') conn.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) })
  }
}

function onlyConnection(): FakeConnection {
  const conn = broker?.connections[0]
  if (!conn) throw new Error('the broker has no connection')
  return conn
}

describe('a broker that reads only the first MQTT packet of each frame', () => {
  it('acknowledges a burst of 50 QoS 1 publishes and a subscribe from a client with coalesceWrites false', async () => {
    broker = await startFakeBroker({ script: firstPacketOfEachFrame })
    client = await connectAsync(broker.url, { ...opts, coalesceWrites: false })
    const publishes = Array.from({ length: 50 }, (_, i) => (client as MqttClient).publish(`quirk/${i}`, `m${i}`, { qos: 1 }))
    const subscribed = client.subscribe('quirk/#', { qos: 1 })
    const conn = onlyConnection()
    await waitUntil(() => conn.packets.length === 52) // CONNECT, 50 PUBLISH, SUBSCRIBE
    expect(ignoredBy.get(conn)).toEqual([])
    expect(conn.frames).toHaveLength(conn.packets.length)
    await Promise.all(publishes)
    expect(await subscribed).toEqual([{ topic: 'quirk/#', qos: 1 }])
  })

  it('misses packets when the client joins them into frames, as it does by default', async () => {
    broker = await startFakeBroker({ script: firstPacketOfEachFrame })
    client = await connectAsync(broker.url, opts)
    // Never acknowledged; the forced end in afterEach rejects them.
    for (let i = 0; i < 10; i++) client.publish(`quirk/${i}`, 'x', { qos: 1 }).catch(() => undefined)
    const conn = onlyConnection()
    await waitUntil(() => conn.packets.length === 11) // CONNECT, 10 PUBLISH
    expect(conn.frames.length).toBeLessThan(conn.packets.length)
    expect(ignoredBy.get(conn)?.map((p) => p.cmd)).toEqual(Array(9).fill('publish'))
  })
})

describe('a broker that agrees only to the mqttv3.1 subprotocol', () => {
  it("accepts a client given subprotocol 'mqttv3.1'", async () => {
    broker = await startFakeBroker({ protocol: 'mqttv3.1' })
    client = await connectAsync(broker.url, { ...opts, subprotocol: 'mqttv3.1' })
    expect(onlyConnection().socket.protocol).toBe('mqttv3.1')
  })

  it('accepts a client offering a list with mqttv3.1 in it', async () => {
    broker = await startFakeBroker({ protocol: 'mqttv3.1' })
    client = await connectAsync(broker.url, { ...opts, subprotocol: ['mqtt', 'mqttv3.1'] })
    expect(onlyConnection().socket.protocol).toBe('mqttv3.1')
  })

  it('refuses a client that offers only the default mqtt', async () => {
    broker = await startFakeBroker({ protocol: 'mqttv3.1' })
    const refused = await rejection(connectAsync(broker.url, opts), TransportError)
    expect(refused.message).toMatch(/subprotocol/)
  })
})
