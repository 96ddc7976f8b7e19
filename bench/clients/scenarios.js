// What is measured, written once for Node and Chromium. Each scenario connects its own client,
// times only the part it names between probe.start() and probe.stop() (where Node reads CPU
// time, its own and the broker's) and ends the client. Counts come back with the time, so a
// short run is visible as such: every count is what a callback or the server counted, never the
// n that was asked for.

const PAYLOAD = new Uint8Array(64).fill(0x61)
const intact = (payload) => payload.length === PAYLOAD.length && payload.every((byte) => byte === 0x61)
let runs = 0
const uniqueTopic = (what) => `bench/${what}/${Date.now().toString(36)}-${runs++}`

const noProbe = { async start() {}, async stop() {} }

// Publishes go out in bursts of this many, each burst awaited as its library reports it done, as
// a careful application would pace them: a single loop of 50,000 calls sends MQTT.js into a
// pile-up of drain listeners that says nothing about how fast it is.
const BURST = 1_000

async function publishInBursts(adapter, topic, n, qos) {
  for (let i = 0; i < n; ) {
    const burst = []
    for (const end = Math.min(n, i + BURST); i < end; i++) burst.push(adapter.publish(topic, PAYLOAD, qos))
    await Promise.all(burst)
  }
}

/** Counts messages (and those whose payload arrived intact); `done` resolves at the n-th. */
function counter(adapter, n) {
  let count = 0
  let whole = 0
  let resolve
  const done = new Promise((r) => (resolve = r))
  const hit = (message) => {
    if (intact(adapter.payloadOf(message))) whole++
    if (++count === n) resolve()
  }
  return { done, hit, counts: () => ({ received: count, intact: whole }) }
}

/** The payload of the next message, each time wait() is called. */
function nextMessage(adapter) {
  let resolve
  const once = (message) => resolve?.(adapter.payloadOf(message))
  return { once, wait: () => new Promise((r) => (resolve = r)) }
}

// End to end, at most this many messages are on their way at once (published, not yet back), so
// the figure is the rate the broker sustains rather than how far a client can overfill it: aedes
// queues what it cannot forward yet in an array it shifts from, so each message costs more the
// deeper the queue. A client publishing 20,000 QoS 0 messages in bursts of 1,000 as fast as it
// could write them once left 19,718 of them in that queue, at twice the broker CPU per message.
const ON_THE_WAY = 1_000

/**
 * A client subscribed to a topic publishes n messages to itself through the broker. With maxMs it
 * stops publishing once that long has passed (for slow links), and the counts say how many went.
 */
export async function selfPublish(adapter, { url, n: asked, qos, options = undefined, maxMs = Infinity }, probe = noProbe) {
  await adapter.connect(url, options)
  const topic = uniqueTopic('self')
  let received = 0
  let whole = 0
  let wake
  const onMessage = (message) => {
    received++
    if (intact(adapter.payloadOf(message))) whole++
    wake?.()
  }
  const until = (test) =>
    test() ? undefined : new Promise((resolve) => (wake = () => test() && ((wake = undefined), resolve())))
  await adapter.subscribe(topic, qos, onMessage)
  await probe.start()
  const t0 = performance.now()
  const sent = []
  for (let i = 0; i < asked && performance.now() - t0 < maxMs; i++) {
    await until(() => i - received < ON_THE_WAY)
    sent.push(adapter.publish(topic, PAYLOAD, qos))
  }
  const n = sent.length
  await until(() => received >= n)
  await Promise.all(sent)
  const ms = performance.now() - t0
  await probe.stop()
  await adapter.end()
  return { n, ms, rate: (n * 1000) / ms, received, intact: whole }
}

/**
 * No MQTT: n 64-byte frames to a WebSocket echo server and back, at most ON_THE_WAY out at once,
 * as selfPublish paces messages. One frame each way per message is what every client's QoS 0
 * round trip needs at the least. The adapter is createAdapter('ws'): only its WebSocket is used.
 */
export async function wsEcho(adapter, { url, n }) {
  const socket = new adapter.WebSocket(url)
  socket.binaryType = 'arraybuffer'
  await new Promise((resolve, reject) => {
    socket.onopen = resolve
    socket.onerror = () => reject(new Error(`cannot open ${url}`))
  })
  let received = 0
  let whole = 0
  let wake
  socket.onmessage = (event) => {
    received++
    if (intact(new Uint8Array(event.data))) whole++
    wake?.()
  }
  const until = (test) =>
    test() ? undefined : new Promise((resolve) => (wake = () => test() && ((wake = undefined), resolve())))
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    await until(() => i - received < ON_THE_WAY)
    socket.send(PAYLOAD)
  }
  await until(() => received >= n)
  const ms = performance.now() - t0
  socket.close()
  return { n, ms, rate: (n * 1000) / ms, received, intact: whole }
}

/** QoS 1 round trips, one at a time: publish, then wait for the PUBACK and for the message back. */
export async function roundTrips(adapter, { url, n, options = undefined }, probe = noProbe) {
  await adapter.connect(url, options)
  const topic = uniqueTopic('rtt')
  const back = nextMessage(adapter)
  let backCount = 0
  await adapter.subscribe(topic, 1, (message) => {
    if (intact(adapter.payloadOf(message))) backCount++
    back.once(message)
  })
  const samples = []
  await probe.start()
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await Promise.all([adapter.publish(topic, PAYLOAD, 1), back.wait()])
    samples.push(performance.now() - t0)
  }
  await probe.stop()
  await adapter.end()
  samples.sort((a, b) => a - b)
  const at = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]
  return { n, p50: at(50), p99: at(99), samples: samples.length, back: backCount }
}

/** The fake server floods n PUBLISH packets; at QoS 1 the run ends when it has every PUBACK. */
export async function floodReceive(adapter, { url, n, qos, per = 256, options = undefined }, probe = noProbe) {
  await adapter.connect(`${url}/flood/${n}/${qos}/${per}`, options)
  const done = nextMessage(adapter)
  const serverDone = done.wait()
  await adapter.subscribe('bench/done', 0, done.once)
  const received = counter(adapter, n)
  await probe.start()
  const t0 = performance.now()
  await adapter.subscribe('bench/flood', qos, received.hit)
  await received.done
  const ms = performance.now() - t0
  // The server's counts come after the flood on the same connection (at QoS 1 after the last
  // PUBACK), so by then every flood message has been handed to the client, and any extra too.
  const server = JSON.parse(new TextDecoder().decode(await serverDone))
  await probe.stop()
  await adapter.end()
  return { n, ms, rate: (n * 1000) / ms, server, ...received.counts() }
}

/** n QoS 0 publishes to a server that only counts; the run ends when it has counted them all. */
export async function sinkSend(adapter, { url, n, options = undefined, topic = 'bench/sink' }, probe = noProbe) {
  await adapter.connect(`${url}/sink/${n}`, options)
  const done = nextMessage(adapter)
  const serverDone = done.wait()
  await adapter.subscribe('bench/done', 0, done.once)
  await probe.start()
  const t0 = performance.now()
  const [answer] = await Promise.all([serverDone, publishInBursts(adapter, topic, n, 0)])
  const server = JSON.parse(new TextDecoder().decode(answer))
  const ms = performance.now() - t0
  await probe.stop()
  await adapter.end()
  return { n, ms, rate: (n * 1000) / ms, server }
}

/**
 * floodReceive, with what the probe says the client's thread spent on it, per 1,000 messages
 * received. The probe's stop() leaves its reading in probe.used ({ scriptMs, taskMs }): in
 * Chromium those are the main thread's counters (bench/main-thread.js).
 */
export async function receiveMainThread(adapter, params, probe = noProbe) {
  const result = await floodReceive(adapter, params, probe)
  const per1k = (value) => (value * 1000) / result.received
  return { ...result, scriptMsPer1k: per1k(probe.used?.scriptMs), taskMsPer1k: per1k(probe.used?.taskMs) }
}

export const scenarios = { selfPublish, roundTrips, floodReceive, sinkSend, receiveMainThread, wsEcho }
