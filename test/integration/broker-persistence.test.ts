import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connect, connectAsync, type MqttClient } from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import { freePort } from '../support/free-port.js'
import { redisAvailable, startRedis } from '../support/redis.js'
import { waitUntil } from '../support/wait.js'

type Broker = Awaited<ReturnType<typeof startAedesBroker>>
type Persistence = NonNullable<Parameters<typeof startAedesBroker>[0]>['persistence']

const clients: MqttClient[] = []
const brokers: Broker[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
  await Promise.all(brokers.splice(0).map((b) => b.close()))
})

async function startBroker(persistence: Persistence | undefined): Promise<Broker> {
  const broker = await startAedesBroker({ port: 0, persistence })
  brokers.push(broker)
  return broker
}

async function restart(broker: Broker): Promise<Broker> {
  brokers.splice(brokers.indexOf(broker), 1)
  const next: Broker = await broker.restart()
  brokers.push(next)
  return next
}

async function publisher(url: string): Promise<MqttClient> {
  const client = await connectAsync(url, { WebSocket, reconnect: false })
  clients.push(client)
  return client
}

type Seen = { topic: string; text: string; retain: boolean }

/** Connects and records every message from the first packet on, so nothing the broker sends at once is missed. */
async function resume(url: string, clientId: string): Promise<{ client: MqttClient; seen: Seen[] }> {
  const client = connect(url, { WebSocket, clientId, clean: false, reconnect: false })
  clients.push(client)
  const seen: Seen[] = []
  client.on('message', (topic, payload, packet) => seen.push({ topic, text: new TextDecoder().decode(payload), retain: packet.retain }))
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', reject)
  })
  return { client, seen }
}

/**
 * What arrived on `topic`, once `expected` messages have (or 5 s passed) and then a marker sent
 * after them has too. aedes streams a resumed session's queue beside live traffic, so the marker
 * alone does not prove the queue done; waiting for the expected count first, then the marker,
 * gives a repeat in that queue the time to show up.
 */
async function arrived(pub: MqttClient, topic: string, seen: Seen[], expected: number): Promise<string[]> {
  const onTopic = () => seen.filter((m) => m.topic === topic)
  // On timeout go on: the caller's assertion then shows what did arrive.
  await waitUntil(() => onTopic().length >= expected).catch(() => undefined)
  const marker = `marker-${randomUUID()}`
  await pub.publish(topic, marker, { qos: 1 })
  await waitUntil(() => seen.some((m) => m.text === marker))
  return onTopic()
    .map((m) => m.text)
    .filter((text) => text !== marker)
}

/**
 * The whole story: a clean: false subscriber leaves, messages are queued for it before and after a
 * broker restart, then it comes back. Returns what it found, for each persistence to judge.
 */
async function restartWhileAway(persistence: Persistence | undefined) {
  const remembers = persistence !== undefined
  const id = randomUUID().slice(0, 8)
  const queue = `persist/${id}/queue`
  const kept = `persist/${id}/kept`
  const clientId = `keeper-${id}`
  let broker = await startBroker(persistence)

  const first = await resume(broker.url, clientId)
  const freshSession = first.client.connack?.sessionPresent
  await first.client.subscribe(queue, { qos: 1 })
  await first.client.end()

  const before = await publisher(broker.url)
  await before.publish(kept, 'retained before the restart', { qos: 1, retain: true })
  await before.publish(queue, 'before-1', { qos: 1 })
  await before.publish(queue, 'before-2', { qos: 1 })
  await before.end()

  broker = await restart(broker)

  const after = await publisher(broker.url)
  await after.publish(queue, 'after-1', { qos: 1 })
  await after.publish(queue, 'after-2', { qos: 1 })

  const back = await resume(broker.url, clientId)
  const sessionPresent = back.client.connack?.sessionPresent
  // Without a session the queue topic is no longer subscribed: subscribing again lets the marker through.
  if (!sessionPresent) await back.client.subscribe(queue, { qos: 1 })
  const queued = await arrived(after, queue, back.seen, remembers ? 4 : 0)

  await back.client.subscribe(kept, { qos: 1 })
  const retained = await arrived(after, kept, back.seen, remembers ? 1 : 0)
  return { freshSession, sessionPresent, queued, retained, retainFlags: back.seen.filter((m) => m.topic === kept).map((m) => m.retain) }
}

/** What a broker that remembers must show after the restart. */
function expectResumed(found: Awaited<ReturnType<typeof restartWhileAway>>): void {
  expect(found.freshSession).toBe(false)
  expect(found.sessionPresent).toBe(true)
  expect([...found.queued].sort()).toEqual(['after-1', 'after-2', 'before-1', 'before-2'])
  expect(found.retained).toEqual(['retained before the restart'])
  expect(found.retainFlags[0]).toBe(true)
}

describe('the broker harness in memory (the default)', () => {
  it('forgets sessions, queued and retained messages when it restarts', async () => {
    const found = await restartWhileAway(undefined)
    expect(found.sessionPresent).toBe(false)
    expect(found.queued).toEqual([])
    expect(found.retained).toEqual([])
  })
})

describe('the broker harness with LevelDB persistence', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ts-mqtt-ws-level-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('resumes a clean: false session across a restart: session present, queued QoS 1 messages and retained messages delivered', async () => {
    expectResumed(await restartWhileAway({ level: path.join(dir, 'resume') }))
  })

  it('refuses a folder another running broker holds, with a message that says so, and frees it when closed', async () => {
    const folder = path.join(dir, 'locked')
    const holder = await startBroker({ level: folder })
    await expect(startAedesBroker({ port: 0, persistence: { level: folder } })).rejects.toThrow(/another broker has it open/)
    await holder.close()
    const next = await startBroker({ level: folder })
    expect(next.storage).toBe(`LevelDB in ${folder}`)
  })
})

const hasRedis = redisAvailable()
const noRedis = 'skipped: redis-server is not installed (apt-get install -y redis-server)'
const redisTitle = `the broker harness with Redis persistence${hasRedis ? '' : ` (${noRedis})`}`
// The default reporter counts skipped tests without naming them, so the reason is printed as well.
if (!hasRedis) console.warn(`Redis persistence tests ${noRedis}`)

describe.skipIf(!hasRedis)(redisTitle, () => {
  let redis: Awaited<ReturnType<typeof startRedis>>
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis?.close()
  })

  it('resumes a clean: false session across a restart: session present, queued QoS 1 messages and retained messages delivered', async () => {
    expectResumed(await restartWhileAway({ redis: redis.url }))
  })
})

describe('the broker harness given a Redis URL nobody answers at', () => {
  it('fails to start rather than waits, and keeps a password out of the message', async () => {
    const port = await freePort()
    const started = startAedesBroker({ port: 0, persistence: { redis: `redis://:hunter2@127.0.0.1:${port}` } })
    const err = await started.then(
      (broker) => (brokers.push(broker), new Error('it started')),
      (e: Error) => e,
    )
    expect(err.message).toBe(`cannot reach Redis at redis://127.0.0.1:${port}: is redis-server running?`)
  })
})
