import WebSocket from 'ws'
import { afterAll, describe, expect, it } from 'vitest'
import { type ClientOptions, connectAsync, type MqttClient, SessionTakenOverError } from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import type { Broker } from '../support/brokers.js'
import { startMosquitto } from '../support/mosquitto.js'
import { waitUntil } from '../support/wait.js'

/**
 * Two clients with one client id on one broker take the session from each other in turn. A broker
 * may say so (MQTT 5 DISCONNECT 0x8E), but neither of these does over WebSocket: aedes speaks
 * 3.1.1, and Mosquitto 2.0.11 closes the socket before its 0x8E is written. Clients of one
 * browser, or of one Node process as here, tell each other instead (BroadcastChannel).
 */
const brokers: Array<[string, () => Promise<Broker>, ClientOptions]> = [
  ['aedes (3.1.1)', () => startAedesBroker({ port: 0 }), {}],
  ['Mosquitto, MQTT 3.1.1', () => startMosquitto(), {}],
  ['Mosquitto, MQTT 5', () => startMosquitto(), { protocolVersion: 5 }],
]

const opened: MqttClient[] = []
const started: Broker[] = []
afterAll(async () => {
  await Promise.all(opened.map((c) => c.end({ force: true })))
  await Promise.all(started.map((b) => b.close()))
})

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe.each(brokers)('two of our clients with one client id, on %s', (_name, start, options) => {
  it('the newer keeps the session; the older stops with SessionTakenOverError rather than take it back, and nobody loops', async () => {
    const broker = await start()
    started.push(broker)
    // A short backoff: had the older one fought for the session, it would have been back within 200 ms, again and again.
    const same: ClientOptions = { WebSocket, clientId: `takeover-${process.pid}`, reconnect: { minDelay: 200, maxDelay: 200 }, ...options }
    const older = await connectAsync(broker.url, same)
    opened.push(older)
    const errors: Error[] = []
    older.on('error', (e) => errors.push(e))
    let olderTries = 0
    older.on('reconnect', () => olderTries++)

    const newer = await connectAsync(broker.url, same)
    opened.push(newer)
    let newerCloses = 0
    newer.on('close', () => newerCloses++)

    await waitUntil(() => older.state === 'disconnected')
    expect(errors.some((e) => e instanceof SessionTakenOverError)).toBe(true)
    await pause(1_000)
    expect(olderTries).toBe(0)
    expect(newerCloses).toBe(0)
    expect(newer.state).toBe('connected')
    // The survivor works: a message to itself comes back.
    const got: string[] = []
    await newer.subscribe('takeover/echo', { qos: 1 }, (m) => got.push(m.text()))
    await newer.publish('takeover/echo', 'still here', { qos: 1 })
    await waitUntil(() => got.length > 0)
    expect(got).toEqual(['still here'])
  })
})
