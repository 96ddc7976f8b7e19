// Issue 14's end-to-end rows at a round-trip time: the selfPublish scenario (publish to a topic the
// same client subscribes to; a message counts once it is back) at QoS 1 and 2, through a delay
// proxy (test/support/delay-proxy.js) that adds 0, 20 or 100 ms of round trip, to aedes and to
// Mosquitto, each broker in a process of its own. Also the raw WebSocket echo rows: one frame out
// and one back per message, no MQTT, the floor under every client's QoS 0 figure.
import { startDelayProxy } from '../test/support/delay-proxy.js'

export const RTTS = [0, 20, 100]
const CLIENTS = ['ours', 'mqttjs', 'paho']
// selfPublish keeps at most this many messages published and not yet back (scenarios.js).
const ON_THE_WAY = 1_000
// ts-mqtt-ws's default maxInflight (src/input/options.ts): the most its adaptive send window
// grows to, for the window-bound column.
const OURS_WINDOW = 1_000
// The same count at every round trip, long enough that a client's steady rate, not the first
// round trips, sets its figure (a window that starts small pays for its ramp in a short cell), and
// a cap on each measurement so a slow client costs seconds, not minutes: a capped run reports the
// messages it did send. The cap stops publish() calls only; what a client has queued behind its
// window still drains after it.
const MESSAGES = { 1: 5_000, 2: 2_000 }
const MAX_MS = 6_000
// One round of these per bench run unless BENCH_RTT_RUNS says more: 72 measurements a round,
// about 6-8 minutes on 2 shared cores.
const ROUNDS = Number(process.env.BENCH_RTT_RUNS ?? 1)

/** One delay proxy per broker and round-trip time, in this process (they only forward bytes). */
export async function startRttProxies(brokers) {
  const proxies = {}
  for (const [name, broker] of Object.entries(brokers))
    for (const rttMs of RTTS) proxies[`${name}@${rttMs}`] = await startDelayProxy({ target: broker.url, rttMs })
  return { proxies, close: () => Promise.all(Object.values(proxies).map((p) => p.close())) }
}

export function rttCells(proxies, echo) {
  const cells = []
  for (const where of ['node', 'chromium']) {
    // Chromium passes each frame through its network process: some 3-5k a second, 10x below Node.
    const frames = where === 'node' ? 20_000 : 10_000
    cells.push({ group: 'wsEcho', where, name: 'raw WebSocket echo, 64 B frames', libs: ['ws'], scenario: 'wsEcho', params: { url: echo.url, n: frames } })
    for (const broker of ['aedes', 'mosquitto'])
      for (const qos of [1, 2])
        for (const rttMs of RTTS)
          cells.push({
            group: 'e2eRtt',
            where,
            name: `${broker} QoS ${qos} at ${rttMs} ms`,
            libs: CLIENTS,
            scenario: 'selfPublish',
            rounds: ROUNDS,
            meta: { broker, qos, rttMs },
            params: { url: proxies[`${broker}@${rttMs}`].url, n: MESSAGES[qos], qos, maxMs: MAX_MS },
          })
  }
  return cells
}

const rate = (v) => (v === undefined || !Number.isFinite(v) ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v >= 1_000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0))
const share = (a, b) => (a === undefined || b === undefined || !b ? '–' : `${((a / b) * 100).toFixed(0)}%`)

/**
 * What the round trip and the broker allow a cell: its n messages at the broker's rate here, taken
 * as the best rate any client reached against the same broker, in the same place, at the same QoS,
 * at any round trip (a longer one only ever lowers what a broker can do, so the best is the
 * truest), or at what the bench's own pacing lets through at this round trip (ON_THE_WAY per round
 * trip) if less; plus the qos round trips no client can save, which the last message takes to be
 * acknowledged (and, at QoS 1, to come back).
 */
export function allowed(results, r) {
  const same = results.filter((o) => o.group === 'e2eRtt' && o.where === r.where && o.meta.broker === r.meta.broker && o.meta.qos === r.meta.qos)
  const brokerRate = Math.max(0, ...same.flatMap((o) => Object.values(o.median).map((m) => m.rate ?? 0)))
  const paced = r.meta.rttMs > 0 ? (ON_THE_WAY * 1000) / r.meta.rttMs : Infinity
  const limit = Math.min(brokerRate || Infinity, paced)
  if (!Number.isFinite(limit)) return undefined
  const n = r.params.n
  return n / (n / limit + (r.meta.qos * r.meta.rttMs) / 1000)
}

/** A publisher with a window of w messages in flight: each holds its slot qos round trips. */
const windowBound = (w, qos, rttMs) => (rttMs > 0 ? (w * 1000) / (qos * rttMs) : undefined)

export function rttTable(results) {
  const rows = results.filter((r) => r.group === 'e2eRtt' || r.group === 'wsEcho')
  if (rows.length === 0) return ''
  const names = { ours: 'ts-mqtt-ws', mqttjs: 'MQTT.js 5.16', paho: 'paho-mqtt 1.1' }
  const lines = [
    `| end to end at a round-trip time, msg/s | ${CLIENTS.map((l) => names[l]).join(' | ')} | allowed | ours vs MQTT.js | ours vs allowed | a window of ${OURS_WINDOW} allows |`,
    `|---|${CLIENTS.map(() => '---:').join('|')}|---:|---:|---:|---:|`,
  ]
  const where = { node: 'Node', chromium: 'Chromium' }
  for (const r of rows) {
    if (r.group === 'wsEcho') {
      lines.push(`| ${where[r.where]}, ${r.name} (no MQTT) | ${rate(r.median.ws?.rate)} frames/s | | | | | | |`)
      continue
    }
    const m = (lib) => r.median[lib]?.rate
    const ok = allowed(results, r)
    const capped = CLIENTS.some((l) => r.median[l]?.n !== undefined && r.median[l].n < r.params.n)
    lines.push(
      `| ${where[r.where]}, ${r.name}${capped ? ' *' : ''} | ${CLIENTS.map((l) => rate(m(l))).join(' | ')} | ${rate(ok)} | ${share(m('ours'), m('mqttjs'))} | ${share(m('ours'), ok)} | ${rate(windowBound(OURS_WINDOW, r.meta.qos, r.meta.rttMs))} |`,
    )
  }
  lines.push(
    '',
    `\\* at least one client reached the ${MAX_MS / 1000} s cap of this cell before its ${'n'} messages; its figure is over the messages it sent.`,
  )
  return lines.join('\n')
}
