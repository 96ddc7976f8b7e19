// Issue 14's main-thread row: how much of a page's main thread each client takes to receive
// messages, the time in which a dashboard cannot draw. The fake server floods the client (as the
// ceiling's receive cells do, so the broker's cost is not in it), and Chromium's own counters are
// read through the DevTools protocol just before and just after the measured part:
// Performance.getMetrics' ScriptDuration (JavaScript run by tasks) and TaskDuration (all the
// main thread's tasks: script, the WebSocket's event dispatch, garbage collection). These are
// exact sums, where a sampling profile would only estimate them.

/**
 * The cells: 20,000 messages at QoS 0 and at QoS 1, each first one packet to a WebSocket frame, as
 * brokers send them (the browser's own cost of each frame's event is then in every figure), then
 * 256 to a frame, which leaves mostly the client's own work.
 */
export function mainThreadCells(fake, libs) {
  return [1, 256].flatMap((per) =>
    [0, 1].map((qos) => ({
      group: 'mainThread',
      where: 'chromium',
      name: `receive QoS ${qos}, ${per === 1 ? '1 packet' : `${per} packets`} per frame`,
      // The floor (bench/clients/adapters.js) is no client: what the browser and any client's least work cost.
      libs: [...libs, 'floor'],
      scenario: 'receiveMainThread',
      params: { url: fake.url, n: 20_000, qos, per },
    })),
  )
}

import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const METRICS = ['ScriptDuration', 'TaskDuration', 'DevToolsCommandDuration']

/**
 * Runs one job in a fresh page with the page's probe wired to Chromium's counters. The page asks
 * for a reading through benchThreadTime(); the counters are in seconds, the reading in ms. The
 * probe's own two readings are DevTools commands run on the main thread, so their time
 * (DevToolsCommandDuration) is taken out of the task time.
 */
export async function runMainThreadInChromium(browser, site, job) {
  const page = await browser.newPage()
  try {
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    await page.exposeFunction('benchThreadTime', async () => {
      const { metrics } = await cdp.send('Performance.getMetrics')
      const value = (name) => (metrics.find((m) => m.name === name)?.value ?? NaN) * 1000
      const [script, task, devtools] = METRICS.map(value)
      return { scriptMs: script, taskMs: task - devtools }
    })
    await page.goto(`${site}bench/browser/index.html`)
    await page.waitForFunction(() => window.benchReady === true)
    // BENCH_PROFILE=dir: a .cpuprofile of each run too, to see where the time goes (it adds its own).
    const profiling = process.env.BENCH_PROFILE
    if (profiling) await cdp.send('Profiler.enable').then(() => cdp.send('Profiler.setSamplingInterval', { interval: 100 })).then(() => cdp.send('Profiler.start'))
    const result = await page.evaluate(([lib, name, params]) => window.runScenario(lib, name, params), [job.lib, job.scenario, job.params])
    if (profiling) {
      const { profile } = await cdp.send('Profiler.stop')
      mkdirSync(profiling, { recursive: true })
      writeFileSync(path.join(profiling, `${job.lib}-main-thread-${job.params.qos}-${job.params.per}-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    }
    return result
  } finally {
    await page.close()
  }
}

const NAMES = { ours: 'ts-mqtt-ws', mqttjs: 'MQTT.js 5.16', paho: 'paho-mqtt 1.1', u8: 'u8-mqtt 0.6.7', floor: 'no client (floor)' }
const ms = (v) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1))

/**
 * The table: script and task ms per 1,000 messages, and ours ÷ MQTT.js (lower is better; the
 * target is 0.5 or less), whole and above the floor: with one packet to a frame most of every
 * client's figure is the browser's own cost of the frame, the same for all.
 */
export function mainThreadTable(results) {
  const rows = results.filter((r) => r.group === 'mainThread')
  if (rows.length === 0) return ''
  const libs = ['ours', 'mqttjs', 'paho', 'u8', 'floor']
  const lines = [
    `| Chromium main thread, ms per 1,000 received messages (fake server) | ${libs.map((l) => NAMES[l]).join(' | ')} | ours ÷ MQTT.js (target ≤ 0.50) | the same, above the floor |`,
    `|---|${libs.map(() => '---:').join('|')}|---:|---:|`,
  ]
  for (const r of rows) {
    for (const [what, key] of [
      ['scripting (ScriptDuration)', 'scriptMsPer1k'],
      ['all tasks (TaskDuration)', 'taskMsPer1k'],
    ]) {
      const values = libs.map((l) => r.median[l]?.[key])
      const [ours, theirs] = values
      const least = values[libs.indexOf('floor')]
      const share = (a, b) => (a === undefined || b === undefined || !(b > 0) ? '–' : (a / b).toFixed(2))
      const above = least === undefined ? '–' : share(ours - least, theirs - least)
      lines.push(`| ${r.name}, ${what} | ${values.map(ms).join(' | ')} | ${share(ours, theirs)} | ${above} |`)
    }
  }
  return lines.join('\n')
}
