// Turns bench/run.js's medians into the Markdown tables docs/benchmarks.md shows.
import { mainThreadTable } from './main-thread.js'
import { rttTable } from './rtt-rows.js'
import { multiTabTable } from './multi-tab.js'

const NAMES = { ours: 'ts-mqtt-ws', mqttjs: 'MQTT.js 5.16', paho: 'paho-mqtt 1.1', u8: 'u8-mqtt 0.6.7' }
const WHERE = { node: 'Node', chromium: 'Chromium' }

const rate = (v) => (v === undefined ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : `${(v / 1000).toFixed(1)}k`)
const ms = (v) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1))
const num = (v, digits = 2) => (v === undefined ? '–' : v.toFixed(digits))
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}×`)
const bytes = (v) => (v === undefined ? '–' : `${v.toFixed(0)} B`)

function row(label, libs, value, compare) {
  const values = libs.map(value)
  return `| ${label} | ${values.map((v, i) => compare.format(v, libs[i])).join(' | ')} | ${compare.extra(values, libs)} |`
}

/** ours ÷ MQTT.js, where higher is better (or MQTT.js ÷ ours where lower is). */
const versusMqttJs = (format, lowerIsBetter = false) => ({
  format: (v) => format(v),
  extra: (values, libs) => {
    const ours = values[libs.indexOf('ours')]
    const theirs = values[libs.indexOf('mqttjs')]
    return lowerIsBetter ? ratio(theirs, ours) : ratio(ours, theirs)
  },
})

function e2eTable(results) {
  const libs = ['ours', 'mqttjs', 'paho']
  const lines = [
    `| end to end through aedes | ${libs.map((l) => NAMES[l]).join(' | ')} | ours vs MQTT.js |`,
    `|---|${libs.map(() => '---:').join('|')}|---:|`,
  ]
  for (const r of results.filter((r) => r.group === 'e2e' || r.group === 'rtt')) {
    const m = (lib) => r.median[lib]
    const where = WHERE[r.where]
    if (r.group === 'rtt') {
      lines.push(row(`${where}, ${r.name} p50, ms`, libs, (l) => m(l)?.p50, versusMqttJs(ms, true)))
      lines.push(row(`${where}, ${r.name} p99, ms`, libs, (l) => m(l)?.p99, versusMqttJs(ms, true)))
      continue
    }
    lines.push(row(`${where}, ${r.name}, msg/s`, libs, (l) => m(l)?.rate, versusMqttJs(rate)))
    if (r.where !== 'node') continue
    const per1k = (v, n) => (v === undefined ? undefined : (v * 1000) / n)
    lines.push(row(`${where}, ${r.name}, client CPU ms per 1,000`, libs, (l) => m(l)?.cpuMsPer1k, versusMqttJs(ms, true)))
    lines.push(row(`${where}, ${r.name}, broker CPU ms per 1,000`, libs, (l) => per1k(m(l)?.broker?.cpuMs, r.params.n), versusMqttJs(ms, true)))
    lines.push(row(`${where}, ${r.name}, WebSocket frames from the client per message`, libs, (l) => (m(l)?.broker?.frames ?? NaN) / r.params.n, versusMqttJs((v) => num(v, 3), true)))
  }
  return lines.join('\n')
}

function ceilingTable(results) {
  const libs = ['ours', 'mqttjs', 'paho', 'u8']
  const lines = [
    `| the client's own ceiling (fake server) | ${libs.map((l) => NAMES[l]).join(' | ')} | ours vs MQTT.js | ours vs the best other |`,
    `|---|${libs.map(() => '---:').join('|')}|---:|---:|`,
  ]
  for (const r of results.filter((r) => r.group === 'ceiling')) {
    const m = (lib) => r.median[lib]
    const rates = libs.map((l) => m(l)?.rate)
    const best = Math.max(...rates.slice(1).filter((v) => v !== undefined))
    lines.push(`| ${WHERE[r.where]} ${r.name}, msg/s | ${rates.map(rate).join(' | ')} | ${ratio(rates[0], rates[1])} | ${ratio(rates[0], best)} |`)
    if (r.where === 'node') {
      lines.push(`| ${WHERE[r.where]} ${r.name}, client CPU ms per 1,000 | ${libs.map((l) => ms(m(l)?.cpuMsPer1k)).join(' | ')} | | |`)
    }
    const server = (l) => m(l)?.server
    if (r.scenario === 'floodReceive' && r.params.qos === 1) {
      lines.push(`| ${WHERE[r.where]} ${r.name}, WebSocket frames per PUBACK | ${libs.map((l) => num(server(l) && server(l).frames / server(l).pubacks, 3)).join(' | ')} | | |`)
    }
    if (r.scenario === 'sinkSend') {
      lines.push(`| ${WHERE[r.where]} ${r.name}, WebSocket frames per PUBLISH | ${libs.map((l) => num(server(l) && server(l).frames / server(l).publishes, 3)).join(' | ')} | | |`)
      lines.push(`| ${WHERE[r.where]} ${r.name}, bytes sent per PUBLISH | ${libs.map((l) => num(server(l) && server(l).bytes / server(l).publishes, 1)).join(' | ')} | | |`)
    }
  }
  return lines.join('\n')
}

function memoryTable(results) {
  const libs = ['ours', 'mqttjs']
  const lines = [`| memory, Node heap | ${libs.map((l) => NAMES[l]).join(' | ')} | ours vs MQTT.js |`, '|---|---:|---:|---:|']
  for (const r of results.filter((r) => r.group === 'memory')) {
    lines.push(row(r.name, libs, (l) => r.median[l]?.perItem, versusMqttJs(bytes, true)))
  }
  return lines.join('\n')
}

function failures(results) {
  const lines = []
  for (const r of results) {
    for (const [lib, runs] of Object.entries(r.raw)) {
      const failed = runs.filter((x) => x.error)
      if (failed.length) lines.push(`- ${WHERE[r.where]} ${r.name}, ${NAMES[lib] ?? lib}: ${failed.length} of ${runs.length} runs failed (${failed[0].error})`)
    }
  }
  return lines.length ? `\n\nRuns that failed (left out of the medians):\n${lines.join('\n')}` : ''
}

export function renderTables(report) {
  const { machine } = report
  return [
    `Measured ${report.date.slice(0, 10)} by \`npm run bench\` on ${machine.cpus} cores (${machine.model}), Node ${machine.node}, Chromium ${machine.chromium}; medians of ${report.runs} runs, clients in alternating order; 64-byte payloads. Ratios are the figures to read: the machine is shared. "vs" ratios are better when above 1×.`,
    '',
    e2eTable(report.results),
    '',
    ceilingTable(report.results),
    '',
    memoryTable(report.results),
    '',
    mainThreadTable(report.results),
    '',
    rttTable(report.results),
    '',
    multiTabTable(report.results),
  ].join('\n') + failures(report.results)
}
