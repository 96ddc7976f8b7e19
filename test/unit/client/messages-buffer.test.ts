import { describe, expect, it } from 'vitest'
import { BufferOverflowError, type ClientOptions, type Message, MqttClient } from '../../../src/index.js'
import { rejection } from '../../support/expect-error.js'
import { FakeSocket, written } from './fake-socket.js'
import { startedClients } from './fake-client.js'

/** client.messages() over a fake socket: the buffer a consumer that does not read runs into. */
const started = startedClients()

async function connected(options: ClientOptions = {}): Promise<{ c: MqttClient; socket: FakeSocket }> {
  const c = new MqttClient('ws://broker.test', { WebSocket: FakeSocket, reconnect: false, ...options }).open()
  started.push(c)
  await written()
  const socket = FakeSocket.last
  socket.open()
  socket.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
  return { c, socket }
}

/** Answers the SUBSCRIBE just written, granting what it asked. */
async function grant(socket: FakeSocket): Promise<void> {
  await written()
  const sub = socket.written.at(-1) as { cmd: string; messageId: number; subscriptions: Array<{ qos: number }> }
  expect(sub.cmd).toBe('subscribe')
  socket.deliver({ cmd: 'suback', messageId: sub.messageId, granted: sub.subscriptions.map((s) => s.qos) })
}

function flood(socket: FakeSocket, count: number, qos: 0 | 1 = 0): void {
  for (let i = 1; i <= count; i++) socket.deliver({ cmd: 'publish', topic: 'flood', payload: Buffer.from(String(i)), qos, retain: false, dup: false, messageId: qos ? i : undefined })
}

describe('client.messages() buffer', () => {
  it('holds 1,000 messages by default for a consumer that does not read, keeps the newest and counts the rest as dropped', async () => {
    const { c, socket } = await connected()
    const stream = c.messages('flood')
    await grant(socket)
    flood(socket, 1_005)
    expect({ buffered: stream.buffered, dropped: stream.dropped }).toEqual({ buffered: 1_000, dropped: 5 })
    const first = await stream.next()
    expect((first.value as Message).text()).toBe('6')
    expect(stream.buffered).toBe(999)
  })

  it('acknowledges QoS 1 messages it drops: the broker will not send them again, which is why the docs point slow consumers to handlers', async () => {
    const { c, socket } = await connected()
    const stream = c.messages('flood', { qos: 1, bufferLimit: 2 })
    await grant(socket)
    flood(socket, 5, 1)
    await written()
    expect(stream.dropped).toBe(3)
    expect(socket.written.filter((p) => p.cmd === 'puback')).toHaveLength(5)
  })

  it("with overflow 'error' ends the stream after what it holds and unsubscribes, while the client goes on", async () => {
    const { c, socket } = await connected()
    const stream = c.messages('flood', { bufferLimit: 3, overflow: 'error' })
    await grant(socket)
    flood(socket, 10)
    await written()
    expect(socket.written.at(-1)).toMatchObject({ cmd: 'unsubscribe', unsubscriptions: ['flood'] })
    const read: string[] = []
    for (let i = 0; i < 3; i++) read.push(((await stream.next()).value as Message).text())
    expect(read).toEqual(['1', '2', '3'])
    await rejection(stream.next(), BufferOverflowError)
    expect(stream.dropped).toBe(1)
    expect(c.connected).toBe(true)
  })
})
