import { type BrowserContext, expect, type Page, test } from '@playwright/test'
import { startAedesBroker } from '../support/aedes-broker.js'
import { serveStaticPages } from './static-pages.js'

/**
 * One MQTT connection for every tab of an origin (issue 15), through the built SharedWorker.
 * The pages (test/e2e/static/shared-worker-page.js) speak the wire to the worker themselves, so
 * what is under test is the worker, its host and the built file: one connection however many
 * tabs, each tab's messages by its own filters, and a closed page's filters released (the page
 * sends no bye: the worker learns it went from the Web Lock the page held).
 */

let site: Awaited<ReturnType<typeof serveStaticPages>>
test.beforeAll(async () => {
  site = await serveStaticPages()
})
test.afterAll(async () => {
  await site?.close()
})

interface Received {
  topic: string
  payload: string
  subs: number[]
}

interface Answer {
  type: 'result' | 'failure'
  value?: unknown
  error?: { name: string; message: string }
}

type TabWindow = Window & {
  ready: Promise<void>
  received: Received[]
  request(message: object): Promise<Answer>
  send(message: object): void
}

/** A broker of the test's own, and what it saw: client connections, SUBSCRIBEs and UNSUBSCRIBEs by filter. */
async function watchedBroker() {
  const broker = await startAedesBroker({ port: 0 })
  const seen = { clients: [] as string[], subscribed: [] as string[][], unsubscribed: [] as string[][], gone: 0 }
  broker.aedes.on('client', (client) => seen.clients.push(client.id))
  broker.aedes.on('clientDisconnect', () => seen.gone++)
  broker.aedes.on('subscribe', (subs, client) => client && seen.subscribed.push(subs.map((s) => s.topic).sort()))
  broker.aedes.on('unsubscribe', (topics, client) => client && seen.unsubscribed.push([...topics].sort()))
  return { broker, seen }
}

/** Opens a tab on the worker, waits until its hello was taken and the shared client is connected, and subscribes. */
async function openTab(context: BrowserContext, query: URLSearchParams, filters: string[]): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${site.url}test/e2e/static/shared-worker.html?${query}`)
  await page.evaluate(() => (window as unknown as TabWindow).ready)
  await expect(page.locator('#status')).toHaveText('connected')
  const subscriptions = filters.map((topic, sub) => ({ topic, qos: 1, sub }))
  const answer = await request(page, { type: 'subscribe', subscriptions })
  expect(answer).toEqual({ type: 'result', id: expect.any(Number), value: filters.map((topic) => ({ topic, qos: 1 })) })
  return page
}

const request = (page: Page, message: object): Promise<Answer> => page.evaluate((m) => (window as unknown as TabWindow).request(m), message)

const publish = async (page: Page, topic: string, payload: string): Promise<void> => {
  const answer = await request(page, { type: 'publish', topic, payload, options: { qos: 1 } })
  expect(answer.type, JSON.stringify(answer)).toBe('result')
}

const topics = async (page: Page): Promise<string[]> =>
  (await page.evaluate(() => (window as unknown as TabWindow).received)).map((r) => r.topic)

for (const [build, worker] of [
  ['classic script-tag worker', '/dist/ts-mqtt-ws.shared-worker.js'],
  ['ESM worker', '/dist/shared-worker.js'],
] as const) {
  test(`three pages share one connection through the ${build}; closed pages release their filters, the last user's close unsubscribes`, async ({
    browser,
  }) => {
    const { broker, seen } = await watchedBroker()
    const context = await browser.newContext()
    try {
      const key = `shared-${Math.random().toString(16).slice(2, 10)}`
      const base = `e2e/shared/${key}`
      const t = (name: string) => `${base}/${name}`
      const query = new URLSearchParams({ broker: broker.url, key, worker })

      const p1 = await openTab(context, query, [t('one'), t('two'), t('all')])
      const p2 = await openTab(context, query, [t('two'), t('all'), t('wild/+')])
      const p3 = await openTab(context, query, [t('all'), t('three')])

      expect(seen.clients).toEqual([key])
      expect(broker.aedes.connectedClients).toBe(1)
      // Each filter subscribed once, however many tabs asked for it.
      expect(seen.subscribed.flat().sort()).toEqual([t('all'), t('one'), t('three'), t('two'), t('wild/+')])

      for (const name of ['one', 'two', 'three', 'wild/x', 'all']) await publish(p3, t(name), name)
      // 'all' went last: once every tab has it, every message before it has been routed.
      for (const page of [p1, p2, p3]) await expect.poll(() => topics(page)).toContain(t('all'))
      expect(await topics(p1)).toEqual([t('one'), t('two'), t('all')])
      expect(await topics(p2)).toEqual([t('two'), t('wild/x'), t('all')])
      expect(await topics(p3)).toEqual([t('three'), t('all')])
      // One delivery per tab naming each of its subscriptions it matched.
      const p2Received = await p2.evaluate(() => (window as unknown as TabWindow).received)
      expect(p2Received.map((r) => [r.payload, r.subs])).toEqual([
        ['two', [0]],
        ['wild/x', [2]],
        ['all', [1]],
      ])

      // p1 goes without a word: its lock's release tells the worker. Only the filter no other tab uses is unsubscribed.
      await p1.close()
      await expect.poll(() => seen.unsubscribed).toEqual([[t('one')]])

      // p2 goes: 'two' and 'wild/+' had their last user; 'all' still has p3.
      await p2.close()
      await expect.poll(() => seen.unsubscribed).toEqual([[t('one')], [t('two'), t('wild/+')]])

      for (const name of ['one', 'two', 'all']) await publish(p3, t(name), `${name} again`)
      await expect.poll(() => topics(p3)).toEqual([t('three'), t('all'), t('all')])
      expect(seen.clients).toEqual([key])
      expect(seen.gone).toBe(0)

      // The last tab gone, the worker ends the connection (aedes then drops what the connection held, as an unsubscribe of its own).
      await p3.close()
      await expect.poll(() => seen.gone).toBe(1)
      expect(seen.unsubscribed.slice(2)).toEqual([[t('all'), t('three')]])
      expect(seen.clients).toEqual([key])
    } finally {
      await context.close()
      await broker.close()
    }
  })
}

test('a bye releases the tab at once, while its page stays open; the other tab keeps the connection', async ({ browser }) => {
  const { broker, seen } = await watchedBroker()
  const context = await browser.newContext()
  try {
    const key = `shared-${Math.random().toString(16).slice(2, 10)}`
    const t = (name: string) => `e2e/shared/${key}/${name}`
    const query = new URLSearchParams({ broker: broker.url, key })
    const stays = await openTab(context, query, [t('kept')])
    const leaves = await openTab(context, query, [t('kept'), t('own')])

    await leaves.evaluate(() => (window as unknown as TabWindow).send({ type: 'bye' }))
    await expect.poll(() => seen.unsubscribed).toEqual([[t('own')]])
    await publish(stays, t('kept'), 'after bye')
    await expect.poll(() => topics(stays)).toEqual([t('kept')])
    expect(await topics(leaves)).toEqual([])
    // The page that left is a stranger to the host now: what it asks goes unanswered, not to the broker.
    expect(seen.clients).toEqual([key])
    expect(seen.gone).toBe(0)
  } finally {
    await context.close()
    await broker.close()
  }
})

test("a tab whose hello names no lock, closed without a bye, keeps its filters: the lock is what tells the worker", async ({ browser }) => {
  const { broker, seen } = await watchedBroker()
  const context = await browser.newContext()
  try {
    const key = `shared-${Math.random().toString(16).slice(2, 10)}`
    const t = (name: string) => `e2e/shared/${key}/${name}`
    await openTab(context, new URLSearchParams({ broker: broker.url, key }), [t('kept')])
    const silent = await openTab(context, new URLSearchParams({ broker: broker.url, key, lock: 'unnamed' }), [t('own')])
    await silent.close()
    // A tab that names its lock, opened and closed after it, is heard going: the worker has had time to hear the first.
    const named = await openTab(context, new URLSearchParams({ broker: broker.url, key }), [t('named')])
    await named.close()
    await expect.poll(() => seen.unsubscribed).toEqual([[t('named')]])
    expect(seen.clients).toEqual([key])
  } finally {
    await context.close()
    await broker.close()
  }
})
