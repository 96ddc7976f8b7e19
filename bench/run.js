// `npm run bench`: ts-mqtt-ws beside MQTT.js 5.16, paho-mqtt 1.1 and u8-mqtt 0.6.7, measured in
// one run on one machine. Every cell runs each client RUNS times (3 unless BENCH_RUNS says), the
// clients' order reversed on every other round, and reports medians. The brokers run in their own
// processes; each Node measurement runs in a fresh process; each Chromium one in a fresh page.
// Writes bench/results/<time>.json and bench/results/latest.md, nothing else. `npm run bench --
// --docs` also puts a full run's speed tables into docs/benchmarks.md between its bench markers:
// most runs are checks on a shared, noisy machine, and the published figures are chosen on purpose.
import { fork } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from '@playwright/test'
import { measureSizes, sizeTable } from './size.js'
import { renderTables } from './report.js'
import { mainThreadCells, runMainThreadInChromium } from './main-thread.js'
import { serveStatic } from '../test/support/static-server.js'
import { rttCells, startRttProxies } from './rtt-rows.js'
import { multiTabCells, runMultiTabInChromium } from './multi-tab.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
// For profiling one corner: BENCH_ONLY matches cells ("chromium e2e QoS 1"), BENCH_LIBS lists clients,
// BENCH_OPTIONS is JSON handed to ts-mqtt-ws's connect. --docs takes only a full run's tables.
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined
const LIBS = process.env.BENCH_LIBS?.split(',')
const OPTIONS = process.env.BENCH_OPTIONS ? JSON.parse(process.env.BENCH_OPTIONS) : undefined
const FULL = !ONLY && !LIBS && !OPTIONS
const DOCS = process.argv.includes('--docs')
const BENCHMARKS_DOC = 'docs/benchmarks.md'
const started = Date.now()
const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`)

// ---- servers in their own processes ------------------------------------------------------------

function startServer(file, args = []) {
  // BENCH_SERVER_ARGS: Node flags for the servers, e.g. --cpu-prof to profile the broker.
  const execArgv = process.env.BENCH_SERVER_ARGS?.split(' ') ?? []
  const child = fork(path.join(root, file), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)))
    child.once('message', (m) => resolve({ child, port: m.port, url: `ws://127.0.0.1:${m.port}` }))
  })
}

function brokerStats(broker) {
  return new Promise((resolve) => {
    broker.child.once('message', (m) => resolve(m.stats))
    broker.child.send('stats')
  })
}

// The bench page, our build and the other clients' browser builds, nothing else of the repository.
const PAGE_FILES = ['bench/browser/', 'bench/clients/', 'dist/', 'node_modules/mqtt/dist/', 'node_modules/paho-mqtt/', 'node_modules/u8-mqtt/esm/web/']

// ---- one measurement ---------------------------------------------------------------------------

/** Runs bench/node-runner.js for one job; reads the broker's counters around the measured part. */
function runInNode(job, broker) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(root, 'bench/node-runner.js'), [JSON.stringify(job)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    })
    let out = ''
    let before
    let brokerUse
    child.stdout.on('data', (d) => (out += d))
    child.on('message', async (m) => {
      if (broker && m === 'start') before = await brokerStats(broker)
      if (broker && m === 'stop') {
        const after = await brokerStats(broker)
        brokerUse = { cpuMs: after.cpuMs - before.cpuMs, frames: after.frames - before.frames }
      }
      child.send('ok')
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`${job.lib} ${job.scenario} failed (exit ${code})`))
      const result = JSON.parse(out.trim().split('\n').pop())
      resolve(brokerUse ? { ...result, broker: brokerUse } : result)
    })
  })
}

async function runInChromium(browser, site, job) {
  const page = await browser.newPage()
  try {
    await page.goto(`${site}bench/browser/index.html`)
    await page.waitForFunction(() => window.benchReady === true)
    // BENCH_PROFILE=dir writes a .cpuprofile of each Chromium run, for DevTools or a script.
    const cdp = process.env.BENCH_PROFILE ? await page.context().newCDPSession(page) : undefined
    if (cdp) await cdp.send('Profiler.enable').then(() => cdp.send('Profiler.start'))
    const result = await page.evaluate(([lib, name, params]) => window.runScenario(lib, name, params), [job.lib, job.scenario, job.params])
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop')
      mkdirSync(process.env.BENCH_PROFILE, { recursive: true })
      writeFileSync(path.join(process.env.BENCH_PROFILE, `${job.lib}-${job.scenario}-${job.params.qos ?? ''}-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    }
    return result
  } finally {
    await page.close()
  }
}

// ---- what is measured --------------------------------------------------------------------------

const ALL = ['ours', 'mqttjs', 'paho', 'u8']
const E2E = ['ours', 'mqttjs', 'paho'] // u8-mqtt has no QoS 2

function cells({ broker, fake, fake5 }) {
  const e2e = (where) =>
    [
      [0, 20_000],
      [1, 5_000],
      [2, 1_000],
    ].map(([qos, n]) => ({ group: 'e2e', where, name: `QoS ${qos}`, libs: E2E, scenario: 'selfPublish', params: { url: broker.url, n, qos } }))
  const rtt = (where) => ({ group: 'rtt', where, name: 'QoS 1 round trip', libs: E2E, scenario: 'roundTrips', params: { url: broker.url, n: 500 } })
  const ceiling = (where, scale) => [
    { group: 'ceiling', where, name: 'receive QoS 0 (256 packets per frame)', libs: ALL, scenario: 'floodReceive', params: { url: fake.url, n: 200_000 * scale, qos: 0, per: 256 } },
    { group: 'ceiling', where, name: 'receive QoS 1 (client PUBACKs each)', libs: ALL, scenario: 'floodReceive', params: { url: fake.url, n: 50_000 * scale, qos: 1, per: 256 } },
    { group: 'ceiling', where, name: 'send QoS 0', libs: ALL, scenario: 'sinkSend', params: { url: fake.url, n: 50_000 * scale } },
  ]
  // What topic aliases save on the wire: the same sends over MQTT 5, aliases on, then off.
  const aliases = [
    ['topic aliases on', { ours: { protocolVersion: 5 }, mqttjs: { protocolVersion: 5, autoAssignTopicAlias: true } }],
    ['topic aliases off', { ours: { protocolVersion: 5, topicAliases: false }, mqttjs: { protocolVersion: 5 } }],
  ].map(([how, optionsByLib]) => ({
    group: 'ceiling',
    where: 'node',
    name: `send QoS 0, MQTT 5, ${how}`,
    libs: ['ours', 'mqttjs'],
    scenario: 'sinkSend',
    // A topic as long as real ones are: what an alias saves grows with it.
    params: { url: fake5.url, n: 50_000, optionsByLib, topic: 'site/berlin/building-7/floor-3/sensor-42/temperature' },
  }))
  const memory = [
    { group: 'memory', where: 'node', name: 'heap per subscription with a handler (10,000)', libs: ['ours', 'mqttjs'], scenario: 'subscriptionsHeap', params: { url: fake.url, n: 10_000 } },
    // Port 9 (discard) is closed on loopback: the clients stay offline and queue.
    { group: 'memory', where: 'node', name: 'heap per queued offline QoS 1 message (10,000)', libs: ['ours', 'mqttjs'], scenario: 'offlineQueueHeap', params: { url: 'ws://127.0.0.1:9', n: 10_000 } },
  ]
  return [...e2e('node'), rtt('node'), ...ceiling('node', 1), ...aliases, ...memory, ...e2e('chromium'), rtt('chromium'), ...ceiling('chromium', 0.5), ...mainThreadCells(fake, ALL)]
}

const median = (values) => {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Medians of every number in the runs' results, field by field (nested one level). */
function medianOf(results) {
  const ok = results.filter((r) => !r.error)
  if (ok.length === 0) return { error: results[0]?.error }
  const out = {}
  for (const key of Object.keys(ok[0])) {
    if (typeof ok[0][key] === 'object' && ok[0][key] !== null) {
      out[key] = {}
      for (const sub of Object.keys(ok[0][key])) out[key][sub] = median(ok.map((r) => r[key]?.[sub]))
    } else out[key] = median(ok.map((r) => r[key]))
  }
  out.runs = ok.length
  return out
}

async function main() {
  const [broker, fake, fake5, statics, mosquitto, echo] = await Promise.all([
    startServer('bench/servers/broker.js'),
    startServer('bench/servers/fake-server.js'),
    startServer('bench/servers/fake-server.js', ['--v5']),
    serveStatic(root, { only: PAGE_FILES }),
    startServer('bench/servers/mosquitto.js'),
    startServer('bench/servers/echo-server.js'),
  ])
  const rtt = await startRttProxies({ aedes: broker, mosquitto })
  const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined)
  const browser = await chromium.launch({
    ...(executablePath ? { executablePath } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  })
  const all = [...cells({ broker, fake, fake5 }), ...rttCells(rtt.proxies, echo), ...multiTabCells(broker)]
    .filter((c) => !ONLY || ONLY.test(`${c.where} ${c.group} ${c.name}`))
    .map((c) => ({ ...c, libs: c.libs.filter((l) => !LIBS || LIBS.includes(l)) }))
  const raw = all.map(() => ({}))
  try {
    for (let round = 0; round < RUNS; round++) {
      for (const [i, cell] of all.entries()) {
        // A cell may ask for fewer rounds: the round-trip rows (rtt-rows.js) would take too long.
        if (round >= (cell.rounds ?? RUNS)) continue
        const order = round % 2 ? [...cell.libs].reverse() : cell.libs
        for (const lib of order) {
          // A cell may give each client options of its own (optionsByLib), in its own words.
          const { optionsByLib, ...params } = cell.params
          if (optionsByLib) params.options = optionsByLib[lib]
          const job = { lib, scenario: cell.scenario, params: lib === 'ours' && OPTIONS ? { ...params, options: OPTIONS } : params }
          let result
          try {
            if (cell.group === 'mainThread') result = await runMainThreadInChromium(browser, statics.url, job)
            else if (cell.group === 'multiTab') result = await runMultiTabInChromium(browser, statics.url, job, () => brokerStats(broker))
            else result = cell.where === 'node' ? await runInNode(job, cell.group === 'e2e' || cell.group === 'rtt' ? broker : undefined) : await runInChromium(browser, statics.url, job)
          } catch (err) {
            result = { error: String(err?.message ?? err) }
          }
          ;(raw[i][lib] ??= []).push(result)
        }
        log(`round ${round + 1}/${RUNS}: ${cell.where} ${cell.group} ${cell.name}`)
      }
    }
  } finally {
    await browser.close()
    // Disconnecting lets the servers exit on their own (and write a --cpu-prof profile).
    broker.child.disconnect()
    fake.child.disconnect()
    fake5.child.disconnect()
    mosquitto.child.disconnect()
    echo.child.disconnect()
    await rtt.close()
    statics.close()
  }

  const results = all.map((cell, i) => ({
    group: cell.group,
    where: cell.where,
    name: cell.name,
    scenario: cell.scenario,
    meta: cell.meta,
    params: { ...cell.params, url: undefined },
    median: Object.fromEntries(Object.entries(raw[i]).map(([lib, runs]) => [lib, medianOf(runs)])),
    raw: raw[i],
  }))
  const sizes = await measureSizes()
  const report = {
    date: new Date().toISOString(),
    machine: { node: process.version, chromium: browser.version(), cpus: os.cpus().length, model: os.cpus()[0]?.model },
    runs: RUNS,
    minutes: (Date.now() - started) / 60_000,
    results,
    sizes,
  }
  const speed = renderTables(report)
  const markdown = `${speed}\n\n### Size\n\n${sizeTable(sizes)}\n`
  const dir = path.join(root, 'bench/results')
  mkdirSync(dir, { recursive: true })
  const stamp = report.date.replace(/[:.]/g, '-')
  writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(path.join(dir, 'latest.md'), markdown)
  console.log(`\n${markdown}`)
  log(`wrote bench/results/${stamp}.json and bench/results/latest.md`)
  // The page's Size section has the size table already (npm run size).
  if (DOCS && !FULL) log(`left ${BENCHMARKS_DOC} alone: --docs takes a full run, without BENCH_ONLY, BENCH_LIBS or BENCH_OPTIONS`)
  else if (DOCS && updateBenchmarksDoc(speed)) log(`wrote the speed tables into ${BENCHMARKS_DOC}`)
  else if (DOCS) log(`left ${BENCHMARKS_DOC} alone: it has no <!-- bench:begin --> ... <!-- bench:end --> markers`)
}

/** Replaces what stands between the benchmarks page's markers with the new tables; false if it has none. */
function updateBenchmarksDoc(markdown) {
  const page = path.join(root, BENCHMARKS_DOC)
  const text = readFileSync(page, 'utf8')
  const begin = '<!-- bench:begin -->'
  const end = '<!-- bench:end -->'
  const a = text.indexOf(begin)
  const b = text.indexOf(end)
  if (a < 0 || b < a) return false
  writeFileSync(page, `${text.slice(0, a + begin.length)}\n${markdown}\n${text.slice(b)}`)
  return true
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
