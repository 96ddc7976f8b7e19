// Issue 15's multi-tab row: what one connection for all tabs of an origin saves and what its hop
// costs. N pages of one browser context (bench/browser/multi-tab.html) each start a client and
// subscribe one filter: through connectShared's SharedWorker, through its leader tab, or each
// with connect() of its own; pages that start none are the floor. The leader tab's client keeps
// its session and its messages in IndexedDB, so the latency cell also times connect() in each tab
// with the same: what the leader mode adds beside its store. The bench broker process counts
// the connections it takes; Chromium's DevTools protocol gives each page's JS heap and the
// worker's after a forced GC. With 3 pages, one page publishes QoS 1 messages that another
// receives, the time from the publish() call to the handler timed on the pages' common clock.

/** The page counts of the connections-and-heap cells. */
export const PAGE_COUNTS = [1, 3, 10]
export const MODES = ['worker', 'leader', 'unshared', 'floor']
const LATENCY_MODES = ['worker', 'leader', 'unshared', 'stored']
const COLUMNS = ['worker', 'leader', 'unshared', 'stored', 'floor']
// The timed messages, after a warm-up, one at a time and GAP_MS apart so none waits behind
// another: about 3 s a mode, capped at MAX_MS.
const TIMED = { n: 500, warmUp: 50, gapMs: 4, maxMs: 10_000 }
// After a forced GC a heap comes out the same to a few hundred bytes run after run, and a round of
// the heap cells opens 70 pages: one round. The latency, on a shared machine, takes the median of
// three (bench/run.js's BENCH_RUNS still caps both). BENCH_MULTITAB_RUNS sets both.
const HEAP_ROUNDS = Number(process.env.BENCH_MULTITAB_RUNS ?? 1)
const LATENCY_ROUNDS = Number(process.env.BENCH_MULTITAB_RUNS ?? 3)
// How long one step in a page may take before the measurement is given up as failed.
const STEP_MS = 20_000

export function multiTabCells(broker) {
  const heap = PAGE_COUNTS.map((pages) => ({
    group: 'multiTab',
    where: 'chromium',
    name: `multi-tab, ${pages} ${pages === 1 ? 'page' : 'pages'}, connections and heap`,
    libs: MODES,
    scenario: 'tabsHeap',
    rounds: HEAP_ROUNDS,
    meta: { pages },
    params: { url: broker.url, pages },
  }))
  const latency = {
    group: 'multiTab',
    where: 'chromium',
    name: 'multi-tab, QoS 1 publish to receipt in another tab, 3 pages',
    libs: LATENCY_MODES,
    scenario: 'tabsLatency',
    rounds: LATENCY_ROUNDS,
    meta: { pages: 3 },
    params: { url: broker.url, pages: 3, ...TIMED },
  }
  return [...heap, latency]
}

/** Rejects if the step takes longer than STEP_MS: a client that never connects fails its run, not the bench. */
function within(promise, what) {
  let timer
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${STEP_MS / 1000} s`)), STEP_MS)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs one job (job.lib is the mode) in a fresh browser context, closed after it: its pages, its
 * SharedWorker and its Web Locks go with it. `brokerStats` reads the bench broker's counters.
 */
export async function runMultiTabInChromium(browser, site, job, brokerStats) {
  const { url, pages: count } = job.params
  // Names of this run's own: leader mode keeps its session on the broker (clean: false).
  const run = `${job.lib}-${count}-${Date.now().toString(36)}-${Math.random().toString(16).slice(2, 8)}`
  const context = await browser.newContext()
  try {
    const before = await brokerStats()
    const pages = []
    for (let tab = 0; tab < count; tab++) pages.push(await openTab(context, site, { mode: job.lib, url, clientId: `bench-multitab-${run}`, tab, filter: `bench/multitab/${run}/all` }))
    // The leader mode's tabs attach after a grace period (100 ms); let every late message land.
    await pause(300)
    const after = await brokerStats()
    const connections = after.connections - before.connections
    if (job.scenario === 'tabsHeap') return { connections, ...(await heapOf(browser, context, pages)) }
    return { connections, ...(await timeHop(pages[1], pages[2], `bench/multitab/${run}/timed`, job.params)) }
  } finally {
    await context.close()
  }
}

async function openTab(context, site, start) {
  const page = await context.newPage()
  await page.goto(`${site}bench/browser/multi-tab.html`)
  await within(page.waitForFunction(() => window.benchReady === true), 'loading the page')
  await within(
    page.evaluate((s) => window.startTab(s), start),
    `tab ${start.tab} connecting and subscribing`,
  )
  return page
}

/** The pages' JS heaps and the SharedWorker's, if there is one, each after a forced GC. */
async function heapOf(browser, context, pages) {
  let pageBytes = 0
  for (const page of pages) {
    const cdp = await context.newCDPSession(page)
    pageBytes += await usedHeap((method, params) => cdp.send(method, params))
    await cdp.detach()
  }
  const workerBytes = await workerHeap(browser, pages[0], context)
  const tabs = pages.length
  return { pages: tabs, pageBytes, workerBytes, perTabBytes: (pageBytes + workerBytes) / tabs }
}

async function usedHeap(send) {
  // Twice: what the first collection frees can leave more for the second (weak references).
  await send('HeapProfiler.collectGarbage', {})
  await send('HeapProfiler.collectGarbage', {})
  const { usedSize } = await send('Runtime.getHeapUsage', {})
  return usedSize
}

/**
 * The heap of this context's SharedWorker, 0 where there is none. Playwright does not show shared
 * workers, so the browser's own DevTools session finds it and speaks to it through
 * Target.sendMessageToTarget (not flattened: a Playwright session sends no sessionId of its own).
 */
async function workerHeap(browser, page, context) {
  const cdp = await browser.newBrowserCDPSession()
  try {
    const pageCdp = await context.newCDPSession(page)
    const { targetInfo } = await pageCdp.send('Target.getTargetInfo')
    await pageCdp.detach()
    const { targetInfos } = await cdp.send('Target.getTargets')
    const workers = targetInfos.filter((t) => t.type === 'shared_worker' && t.browserContextId === targetInfo.browserContextId)
    if (workers.length > 1) throw new Error(`${workers.length} shared workers in one context, where the bench expects one`)
    if (workers.length === 0) return 0
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: workers[0].targetId, flatten: false })
    const answers = new Map()
    let last = 0
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      if (event.sessionId !== sessionId) return
      const message = JSON.parse(event.message)
      answers.get(message.id)?.(message)
    })
    const send = (method, params) =>
      within(
        new Promise((resolve, reject) => {
          const id = ++last
          answers.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)))
          cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject)
        }),
        `the worker's ${method}`,
      )
    return await usedHeap(send)
  } finally {
    await cdp.detach()
  }
}

/**
 * Times n QoS 1 messages from one tab to another, from the publish() call to the receiving
 * handler, after a warm-up that is left out. The receiving tab was opened after the first, so in
 * the leader mode both tabs reach the connection through the leader: the hop both ways.
 */
async function timeHop(publisher, receiver, topic, { n, warmUp, gapMs, maxMs }) {
  await within(
    receiver.evaluate((t) => window.receiveTimed(t), topic),
    'subscribing the timed topic',
  )
  const send = async (count) => {
    const sent = await within(
      publisher.evaluate((a) => window.publishTimed(a), { topic, n: count, gapMs, maxMs }),
      'publishing',
    )
    await within(
      receiver.waitForFunction((k) => window.receivedCount() >= k, sent, { polling: 50 }),
      'receiving',
    )
    return receiver.evaluate(() => window.receivedDelays())
  }
  await send(warmUp)
  const samples = (await send(n)).sort((a, b) => a - b)
  const at = (p) => samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))]
  return { n, samples: samples.length, p50: at(50), p99: at(99) }
}

const NAMES = {
  worker: 'connectShared, SharedWorker',
  leader: "connectShared, shared: 'leader'",
  unshared: 'connect() in each tab',
  stored: 'connect() in each tab, IndexedDB store',
  floor: 'bench page alone (floor)',
}
const kib = (v) => (v === undefined ? '–' : `${(v / 1024).toFixed(0)} KiB`)
const count = (v) => (v === undefined ? '–' : v.toFixed(0))
const ms = (v) => (v === undefined ? '–' : v < 10 ? v.toFixed(2) : v.toFixed(1))
const added = (v, base) => (v === undefined || base === undefined ? '–' : `${v >= base ? '+' : '−'}${ms(Math.abs(v - base))}`)

/** One table: per page count, the broker's connections and the heap per tab; then the hop's latency. */
export function multiTabTable(results) {
  const rows = results.filter((r) => r.group === 'multiTab')
  if (rows.length === 0) return ''
  const lines = [`| multi-tab, Chromium, one browser context | ${COLUMNS.map((m) => NAMES[m]).join(' | ')} |`, `|---|${COLUMNS.map(() => '---:').join('|')}|`]
  const cells = (value) => COLUMNS.map((m) => value(m)).join(' | ')
  for (const r of rows) {
    const m = (mode) => r.median[mode]
    const pages = `${r.meta.pages} ${r.meta.pages === 1 ? 'page' : 'pages'}`
    if (r.scenario === 'tabsHeap') {
      lines.push(`| ${pages}: broker connections | ${cells((mode) => count(m(mode)?.connections))} |`)
      lines.push(`| ${pages}: JS heap per tab (pages and worker ÷ ${r.meta.pages}) | ${cells((mode) => kib(m(mode)?.perTabBytes))} |`)
      lines.push(`| ${pages}: of which the SharedWorker's heap, whole | ${cells((mode) => (mode === 'worker' ? kib(m(mode)?.workerBytes) : '–'))} |`)
      continue
    }
    // Each mode against connect() in each tab; the leader's also against the same with its store.
    const versus = (base, modes, key) => cells((mode) => (modes.includes(mode) ? added(m(mode)?.[key], m(base)?.[key]) : '–'))
    for (const key of ['p50', 'p99']) {
      lines.push(`| ${pages}: QoS 1 publish() to the other tab's handler, ${key}, ms | ${cells((mode) => ms(m(mode)?.[key]))} |`)
      lines.push(`| ${pages}: ${key} added vs connect() in each tab, ms | ${versus('unshared', ['worker', 'leader', 'stored'], key)} |`)
      lines.push(`| ${pages}: ${key} added vs connect() in each tab with an IndexedDB store, ms | ${versus('stored', ['leader'], key)} |`)
    }
  }
  lines.push(
    '',
    "Each mode in a fresh browser context; broker connections are those the bench broker took while its tabs opened. Heap: Runtime.getHeapUsage's used size (the same as Performance.getMetrics' JSHeapUsedSize) of each page and of the SharedWorker, after forced collections; the floor is the bench page loading no client, and the leader mode's connection lives in its first tab's heap. Latency: QoS 1, one message at a time (each publish() awaited, at least 4 ms apart), after a warm-up; the publishing tab is the second opened and the receiving one the third (in the leader mode both reach the connection through the first, whose client keeps its session and messages in IndexedDB, hence the column with a store), timed on performance.timeOrigin + performance.now(), one clock for all tabs.",
  )
  return lines.join('\n')
}
