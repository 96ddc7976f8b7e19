// One measurement in a fresh Node process: `node --expose-gc bench/node-runner.js '<job json>'`.
// bench/run.js spawns one per run, so no client inherits another's heap or JIT state, and the
// CPU time read here is this client's alone. A warm-up pass at a tenth of the size goes first.
// Prints one line of JSON.
import WebSocket from 'ws'
import mqtt from 'mqtt'
import Paho from 'paho-mqtt'
import u8 from 'u8-mqtt/esm/node/v4.js'
import * as tsMqttWs from '../dist/ts-mqtt-ws.js'
import { createAdapter } from './clients/adapters.js'
import { scenarios } from './clients/scenarios.js'

// Paho and u8-mqtt look for a global WebSocket, which Node 20 does not have.
globalThis.WebSocket ??= WebSocket
const libs = { tsMqttWs, mqtt, Paho, u8 }

/** Asks bench/run.js to read the broker's counters, and waits until it has. */
function tellParent(what) {
  if (!process.send) return Promise.resolve()
  return new Promise((resolve) => {
    process.once('message', resolve)
    process.send(what)
  })
}

function cpuProbe() {
  let start
  const probe = {
    cpuMs: 0,
    start: async () => {
      await tellParent('start')
      start = process.cpuUsage()
    },
    stop: async () => {
      const used = process.cpuUsage(start)
      probe.cpuMs = (used.user + used.system) / 1000
      await tellParent('stop')
    },
  }
  return probe
}

const gc = () => {
  for (let i = 0; i < 4; i++) globalThis.gc?.()
}
const heap = () => {
  gc()
  return process.memoryUsage().heapUsed
}

/**
 * Heap held by 10,000 subscriptions, each with its own handler, once all are granted. A first
 * client subscribes a tenth as many and ends, so the code both paths run is compiled before the
 * measurement: compiled code is not what a subscription costs.
 */
async function subscriptionsHeap(lib, url, n, warm = true) {
  if (warm) await subscriptionsHeap(lib, url, Math.ceil(n / 10), false)
  const adapter = createAdapter(lib, libs, WebSocket)
  await adapter.connect(`${url}/sink/0`)
  const hits = new Uint32Array(n)
  const before = heap()
  const granted = []
  for (let i = 0; i < n; i++) granted.push(adapter.subscribe(`bench/sub/${i}`, 0, () => hits[i]++))
  await Promise.all(granted)
  const bytes = heap() - before
  await adapter.end()
  return { n, bytes, perItem: bytes / n }
}

/**
 * Heap held by 10,000 QoS 1 messages published while no broker can be reached. The bench adds
 * nothing per message of its own: our Promises wait in one array and are settled after the
 * measurement (a .catch on each would add a promise and a reaction per message, the bench's
 * and not the client's), and MQTT.js gets one shared callback rather than a fresh one per call,
 * and one Buffer for every message, as ours gets one Uint8Array. A first client queues a tenth as
 * many and ends, as in subscriptionsHeap.
 */
async function offlineQueueHeap(lib, deadUrl, n, warm = true) {
  if (warm) await offlineQueueHeap(lib, deadUrl, Math.ceil(n / 10), false)
  const payload = new Uint8Array(64).fill(0x61)
  const ignore = () => undefined
  const pending = []
  let client
  let publish
  let stop
  if (lib === 'ours') {
    client = tsMqttWs.connect(deadUrl, { WebSocket, reconnect: { minDelay: 60_000, maxDelay: 60_000 } })
    client.on('error', ignore)
    publish = (i) => pending.push(client.publish(`bench/queue/${i % 10}`, payload, { qos: 1 }))
    stop = async () => {
      const settled = Promise.allSettled(pending)
      await client.end({ force: true })
      await settled
    }
  } else {
    client = mqtt.connect(deadUrl, { reconnectPeriod: 60_000, protocolVersion: 4 })
    client.on('error', ignore)
    const bytes = Buffer.from(payload)
    publish = (i) => client.publish(`bench/queue/${i % 10}`, bytes, { qos: 1 }, ignore)
    stop = () => new Promise((resolve) => client.end(true, {}, resolve))
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  const before = heap()
  for (let i = 0; i < n; i++) publish(i)
  // Let the work each publish started settle first: what is measured is what waiting costs.
  await new Promise((resolve) => setTimeout(resolve, 100))
  const bytes = heap() - before
  await stop()
  return { n, bytes, perItem: bytes / n }
}

async function main() {
  const job = JSON.parse(process.argv[2])
  if (job.scenario === 'subscriptionsHeap') return subscriptionsHeap(job.lib, job.params.url, job.params.n)
  if (job.scenario === 'offlineQueueHeap') return offlineQueueHeap(job.lib, job.params.url, job.params.n)
  const scenario = scenarios[job.scenario]
  const warm = { ...job.params, n: Math.max(1, Math.floor(job.params.n / 10)) }
  await scenario(createAdapter(job.lib, libs, WebSocket), warm)
  gc()
  const probe = cpuProbe()
  const result = await scenario(createAdapter(job.lib, libs, WebSocket), job.params, probe)
  return { ...result, cpuMs: probe.cpuMs, cpuMsPer1k: (probe.cpuMs * 1000) / result.n }
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  },
)
