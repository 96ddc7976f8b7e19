import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { connectAsync, type Message, type MessageStream } from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import { liveHeap } from '../support/live-heap.js'
import { waitUntil } from '../support/wait.js'

/**
 * A consumer of client.messages() that never reads, under a flood from the aedes harness: what
 * it costs is the stream's buffer, not the flood. Counts and heap sizes decide, never timings.
 */
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

const FLOOD = 20_000
const PAYLOAD_BYTES = 2048
const LIMIT = 1000 // the default bufferLimit
/**
 * What the flood would hold if the stream kept it all: 20,000 payloads of 2 KiB, 40 MiB (message
 * objects aside). Kept to the limit it holds 1,000 of them, 2 MiB. The live heap may grow by a
 * quarter of the unbounded figure, 10 MiB: five times what the limit lets through, and a quarter
 * of what a stream that held the flood would need (a run with bufferLimit 25,000 measured +47 MiB).
 * The live heap (live-heap.ts) counts the payloads' ArrayBuffers, which live outside V8's heap:
 * heapUsed grew by only 8 MiB in that run, and would hide most of such a leak.
 */
const GROWTH_LIMIT = (FLOOD * PAYLOAD_BYTES) / 4

describe('a consumer that never reads a QoS 0 flood', () => {
  it(`holds only bufferLimit of ${FLOOD} messages: the live heap stays bounded and the stream counts the ${FLOOD - LIMIT} it dropped`, { timeout: 120_000 }, async () => {
    const broker = await startAedesBroker({ port: 0 })
    cleanup.push(() => broker.close())
    const consumer = await connectAsync(broker.url, { WebSocket, clientId: 'slow-consumer' })
    cleanup.push(() => consumer.end({ force: true }))
    const publisher = await connectAsync(broker.url, { WebSocket, clientId: 'flood-publisher' })
    cleanup.push(() => publisher.end({ force: true }))

    let arrived = 0
    consumer.on('message', () => arrived++)
    let subscribed = false
    consumer.on('packetreceive', (packet) => {
      if (packet.cmd === 'suback') subscribed = true
    })
    const stream: MessageStream<Message> = consumer.messages('flood/slow', { qos: 0 })
    await waitUntil(() => subscribed, 10_000)
    const before = await liveHeap()

    // In batches, so the publisher's own queue stays small; each payload starts with its number.
    for (let i = 0; i < FLOOD; i += 500) {
      const batch: Array<Promise<unknown>> = []
      for (let j = i; j < i + 500; j++) {
        const payload = new Uint8Array(PAYLOAD_BYTES)
        payload.set(new TextEncoder().encode(`${j}:`))
        batch.push(publisher.publish('flood/slow', payload))
      }
      await Promise.all(batch)
    }
    await waitUntil(() => arrived === FLOOD, 60_000)
    const after = await liveHeap()
    const growth = after.bytes - before.bytes
    console.log(
      `slow consumer: ${arrived} arrived, ${stream.buffered} buffered, ${stream.dropped} dropped; live heap +${Math.round(growth / 1024)} KiB ` +
        `(limit ${GROWTH_LIMIT / 1024} KiB), heapUsed +${Math.round((after.heapUsed - before.heapUsed) / 1024)} KiB`,
    )

    expect({ buffered: stream.buffered, dropped: stream.dropped }).toEqual({ buffered: LIMIT, dropped: FLOOD - LIMIT })
    expect(growth).toBeLessThan(GROWTH_LIMIT)
    // drop-oldest: what waits is the newest thousand, in order.
    const first = (await stream.next()).value as Message
    expect(first.text().split(':')[0]).toBe(String(FLOOD - LIMIT))
    await stream.return()
  })
})
