import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import mqtt from 'mqtt'
import { generate, type Packet } from 'mqtt-packet'
import Paho from 'paho-mqtt'
import u8 from 'u8-mqtt/esm/node/v4.js'
import WebSocket, { WebSocketServer } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdapter } from '../../bench/clients/adapters.js'
import { floodReceive, receiveMainThread, roundTrips, selfPublish, sinkSend, wsEcho } from '../../bench/clients/scenarios.js'
import { multiTabCells, multiTabTable } from '../../bench/multi-tab.js'
import * as tsMqttWs from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import { startDelayProxy } from '../support/delay-proxy.js'
import { mosquittoAvailable } from '../support/mosquitto.js'
import { waitUntil } from '../support/wait.js'

/**
 * `npm run bench` at a tiny size: every client's adapter against the fake server and aedes, so a
 * change that breaks the benchmark shows here. Counts only; the bench itself does the timing.
 */
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket // Paho and u8-mqtt look for it
const libs = { tsMqttWs, mqtt, Paho, u8 }
const adapter = (lib: string) => createAdapter(lib as 'ours', libs, WebSocket)

let fake: ChildProcess
let fakeUrl = ''
let broker: Awaited<ReturnType<typeof startAedesBroker>>

beforeAll(async () => {
  fake = fork(fileURLToPath(new URL('../../bench/servers/fake-server.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const port = await new Promise<number>((resolve) => fake.once('message', (m: { port: number }) => resolve(m.port)))
  fakeUrl = `ws://127.0.0.1:${port}`
  broker = await startAedesBroker({ port: 0 })
})
afterAll(async () => {
  fake.disconnect()
  await broker.close()
})

describe.each(['ours', 'mqttjs', 'paho', 'u8'])('the bench adapter for %s', (lib) => {
  it('receives a QoS 0 flood of 256 packets to a frame, every packet once and intact', async () => {
    const result = await floodReceive(adapter(lib), { url: fakeUrl, n: 3000, qos: 0, per: 256 })
    expect(result).toMatchObject({ received: 3000, intact: 3000 })
  })

  it('acknowledges every packet of a QoS 1 flood, as the fake server counts', async () => {
    const result = await floodReceive(adapter(lib), { url: fakeUrl, n: 2000, qos: 1, per: 256 })
    expect(result).toMatchObject({ received: 2000, intact: 2000, server: { pubacks: 2000 } })
  })

  it('sends QoS 0 publishes that the counting server receives, every one', async () => {
    const result = await sinkSend(adapter(lib), { url: fakeUrl, n: 2500 })
    expect(result.server).toMatchObject({ publishes: 2500 })
  })
})

describe('the floor adapter (no client: the least any client must do to receive)', () => {
  it('receives QoS 0 and QoS 1 floods, one and 256 packets to a frame, every packet once and intact, and PUBACKs each', async () => {
    for (const per of [1, 256]) {
      const zero = await floodReceive(adapter('floor'), { url: fakeUrl, n: 1000, qos: 0, per })
      expect(zero).toMatchObject({ received: 1000, intact: 1000 })
      const one = await floodReceive(adapter('floor'), { url: fakeUrl, n: 1000, qos: 1, per })
      expect(one).toMatchObject({ received: 1000, intact: 1000, server: { pubacks: 1000 } })
    }
  })
})

// In Chromium the probe reads the main thread's counters (bench/main-thread.js); here this
// process's CPU time stands in for them, so the scenario's shape is what is checked.
function cpuTimeProbe() {
  let from = process.cpuUsage()
  const probe = {
    used: undefined as { scriptMs: number; taskMs: number } | undefined,
    start: async () => {
      from = process.cpuUsage()
    },
    stop: async () => {
      const { user, system } = process.cpuUsage(from)
      probe.used = { scriptMs: user / 1000, taskMs: (user + system) / 1000 }
    },
  }
  return probe
}

describe.each(['ours', 'mqttjs'])('the main-thread bench for %s', (lib) => {
  it.each([
    [0, 1],
    [1, 1],
    [1, 256],
  ])('receives every QoS %i message (%i to a frame) and gives the probed time per 1,000 received', async (qos, per) => {
    const result = await receiveMainThread(adapter(lib), { url: fakeUrl, n: 300, qos, per }, cpuTimeProbe())
    expect(result).toMatchObject({ received: 300, intact: 300 })
    expect(result.scriptMsPer1k).toBeGreaterThan(0)
    expect(result.taskMsPer1k).toBeGreaterThanOrEqual(result.scriptMsPer1k)
  })
})

describe.each(['ours', 'mqttjs', 'paho'])('the end-to-end bench through aedes, for %s', (lib) => {
  // 800: aedes takes at most 1,000 unreleased QoS 2 messages from a client, and only ours windows.
  it.each([0, 1, 2])('gets back every message it publishes to itself at QoS %i', async (qos) => {
    const result = await selfPublish(adapter(lib), { url: broker.url, n: 800, qos })
    expect(result).toMatchObject({ received: 800, intact: 800 })
  })

  it('times QoS 1 round trips one at a time, each one a message that came back', async () => {
    const result = await roundTrips(adapter(lib), { url: broker.url, n: 20 })
    expect(result).toMatchObject({ samples: 20, back: 20 })
    expect(result.p50).toBeGreaterThan(0)
  })
})

describe('the bench broker process', () => {
  it('counts the WebSocket frames and bytes clients send it, and reports them with its CPU time over IPC', async () => {
    const child = fork(fileURLToPath(new URL('../../bench/servers/broker.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    type Stats = { cpuMs: number; frames: number; bytes: number; connections: number; connected: number }
    const stats = () =>
      new Promise<Stats>((resolve) => {
        child.once('message', (m: { stats: Stats }) => resolve(m.stats))
        child.send('stats')
      })
    try {
      const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
      const before = await stats()
      const socket = new WebSocket(`ws://127.0.0.1:${port}`, 'mqtt')
      let answers = 0
      socket.on('message', () => answers++)
      await new Promise((resolve) => socket.once('open', resolve))
      const connect = generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'bench-stats', clean: true, keepalive: 0 } as Packet)
      const ping = generate({ cmd: 'pingreq' })
      socket.send(connect)
      socket.send(ping)
      await waitUntil(() => answers === 2) // CONNACK and PINGRESP: the broker has read both frames
      const after = await stats()
      socket.close()
      expect({ frames: after.frames - before.frames, bytes: after.bytes - before.bytes }).toEqual({ frames: 2, bytes: connect.length + ping.length })
      // The multi-tab row's count: the connection it accepted, still open.
      expect({ connections: after.connections - before.connections, connected: after.connected }).toEqual({ connections: 1, connected: 1 })
      expect(after.cpuMs).toBeGreaterThan(0)
    } finally {
      child.disconnect()
    }
  })
})

describe('the delay proxy', () => {
  let echo: WebSocketServer
  let echoUrl = ''
  beforeAll(async () => {
    echo = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    echo.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })))
    await new Promise((resolve) => echo.once('listening', resolve))
    echoUrl = `ws://127.0.0.1:${(echo.address() as { port: number }).port}`
  })
  afterAll(() => new Promise((resolve) => echo.close(resolve)))

  /** Sends n numbered frames through the proxy; answers the order they came back in and when the first did. */
  async function echoThrough(url: string, n: number, size = 8) {
    const socket = new WebSocket(url)
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    const order: number[] = []
    socket.on('message', (data: Buffer) => order.push(data.readUInt32BE(0)))
    const t0 = performance.now()
    let firstMs = 0
    socket.once('message', () => (firstMs = performance.now() - t0))
    for (let i = 0; i < n; i++) {
      const frame = Buffer.alloc(size, 1)
      frame.writeUInt32BE(i, 0)
      socket.send(frame)
    }
    await waitUntil(() => order.length === n, 10_000)
    socket.close()
    return { order, firstMs }
  }
  const inOrder = (n: number) => Array.from({ length: n }, (_, i) => i)

  it('adds at least the round-trip time it is given to a WebSocket echo, and keeps every frame in order', async () => {
    const proxy = await startDelayProxy({ target: echoUrl, rttMs: 60 })
    try {
      const { order, firstMs } = await echoThrough(proxy.url, 300)
      expect(order).toEqual(inOrder(300))
      // A minimum only (timers may run late, never much early): 60 ms each way in two halves.
      expect(firstMs).toBeGreaterThanOrEqual(55)
      expect(proxy.forwarded.toBroker).toBeGreaterThan(0)
      expect(proxy.forwarded.toClient).toBeGreaterThan(0)
    } finally {
      await proxy.close()
    }
  })

  it('passes frames straight through at 0 ms, in order', async () => {
    const proxy = await startDelayProxy({ target: echoUrl, rttMs: 0 })
    try {
      expect((await echoThrough(proxy.url, 300)).order).toEqual(inOrder(300))
    } finally {
      await proxy.close()
    }
  })

  it('holds the sender back rather than queue past its bound, and still delivers every byte in order', async () => {
    // 200 frames of 16 KiB against a 32 KiB bound: the queue must fill and drain many times.
    const proxy = await startDelayProxy({ target: echoUrl, rttMs: 10, maxQueuedBytes: 32 * 1024 })
    try {
      expect((await echoThrough(proxy.url, 200, 16 * 1024)).order).toEqual(inOrder(200))
    } finally {
      await proxy.close()
    }
  })

  it('carries the end-to-end bench to aedes and back, every message intact, for ours and MQTT.js', async () => {
    const proxy = await startDelayProxy({ target: broker.url, rttMs: 20 })
    try {
      for (const lib of ['ours', 'mqttjs']) {
        const result = await selfPublish(adapter(lib), { url: proxy.url, n: 200, qos: 2 })
        expect(result).toMatchObject({ received: 200, intact: 200 })
      }
    } finally {
      await proxy.close()
    }
  })

  it('stops a capped end-to-end run at its time cap and counts only what was sent, all of it back', async () => {
    const proxy = await startDelayProxy({ target: broker.url, rttMs: 100 })
    try {
      // 100,000 QoS 1 messages cannot go in 300 ms on a 100 ms link with at most 1,000 on their way.
      const result = await selfPublish(adapter('mqttjs'), { url: proxy.url, n: 100_000, qos: 1, maxMs: 300 })
      expect(result.n).toBeGreaterThan(0)
      expect(result.n).toBeLessThan(100_000)
      expect(result).toMatchObject({ received: result.n, intact: result.n })
    } finally {
      await proxy.close()
    }
  })

  it('refuses a negative round-trip time', async () => {
    await expect(startDelayProxy({ target: echoUrl, rttMs: -1 })).rejects.toThrow(/rttMs/)
  })
})

describe('the raw WebSocket echo row', () => {
  it('gets every 64-byte frame back intact from the bench echo server process', async () => {
    const child = fork(fileURLToPath(new URL('../../bench/servers/echo-server.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    try {
      const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
      const result = await wsEcho(createAdapter('ws', libs, WebSocket), { url: `ws://127.0.0.1:${port}`, n: 3000 })
      expect(result).toMatchObject({ n: 3000, received: 3000, intact: 3000 })
    } finally {
      child.disconnect()
    }
  })
})

describe.runIf(mosquittoAvailable())('the bench Mosquitto process', () => {
  it('starts Mosquitto in its own process, carries the end-to-end bench through it, and stops it on disconnect', async () => {
    const child = fork(fileURLToPath(new URL('../../bench/servers/mosquitto.js', import.meta.url)), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)))
      const result = await selfPublish(adapter('ours'), { url: `ws://127.0.0.1:${port}`, n: 1500, qos: 2 })
      expect(result).toMatchObject({ received: 1500, intact: 1500 })
    } finally {
      child.disconnect()
    }
    await exited
  })
})

describe('the multi-tab row (its measurements run in Chromium only: here its cells and its table)', () => {
  it("answers BENCH_ONLY 'multi-tab' with its four cells, and no other row's filter takes them", () => {
    const cells = multiTabCells({ url: 'ws://127.0.0.1:1' })
    const named = cells.map((c) => `${c.where} ${c.group} ${c.name}`)
    expect(named.filter((n) => /multi-tab/.test(n))).toHaveLength(4)
    expect(named.filter((n) => /chromium e2e|mainThread|e2eRtt/.test(n))).toEqual([])
    expect(cells.map((c) => c.meta.pages)).toEqual([1, 3, 10, 3])
  })

  it('shows connections, heap per tab and the latency the hop adds against connect() in each tab', () => {
    const heap = (connections: number, pageBytes: number, workerBytes = 0) => ({ connections, pageBytes, workerBytes, perTabBytes: (pageBytes + workerBytes) / 3 })
    const results = [
      { group: 'multiTab', scenario: 'tabsHeap', meta: { pages: 3 }, median: { worker: heap(1, 3 * 1024 * 1024, 600 * 1024), unshared: heap(3, 3 * 1100 * 1024), floor: heap(0, 3 * 900 * 1024) } },
      { group: 'multiTab', scenario: 'tabsLatency', meta: { pages: 3 }, median: { worker: { p50: 2.5, p99: 9 }, leader: { p50: 4, p99: 12 }, unshared: { p50: 2, p99: 8 }, stored: { p50: 3, p99: 10 } } },
    ]
    const table = multiTabTable(results)
    expect(table).toContain('| 3 pages: broker connections | 1 | – | 3 | – | 0 |')
    expect(table).toContain('| 3 pages: JS heap per tab (pages and worker ÷ 3) | 1224 KiB | – | 1100 KiB | – | 900 KiB |')
    expect(table).toContain('| 3 pages: of which the SharedWorker\'s heap, whole | 600 KiB | – | – | – | – |')
    expect(table).toContain('| 3 pages: p50 added vs connect() in each tab, ms | +0.50 | +2.00 | – | +1.00 | – |')
    expect(table).toContain('| 3 pages: p99 added vs connect() in each tab with an IndexedDB store, ms | – | +2.00 | – | – | – |')
    expect(multiTabTable([])).toBe('')
  })
})
