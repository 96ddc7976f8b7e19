import { expect, type Page, test } from '@playwright/test'
import { env, uniqueTopic, watchErrors } from './pages.js'

/**
 * Two tabs of one app with one fixed client id, against the demo broker (aedes, 3.1.1, which
 * never says why it drops the older connection). Each reconnect would knock the other tab off;
 * the tabs tell each other over BroadcastChannel instead, and the older one stops.
 */
interface TabClient {
  state: string
  on(event: 'error', h: (e: { code: string; message: string }) => void): void
  on(event: 'close' | 'reconnect', h: () => void): void
  subscribe(f: string, o: object, h: (m: { text(): string }) => void): Promise<unknown>
  publish(t: string, p: string, o: object): Promise<unknown>
}
type Tab = Window & { tabClient: TabClient; errors: string[]; closes: number; tries: number; got: string[] }

async function openTab(page: Page, clientId: string): Promise<void> {
  await page.goto(`${env('E2E_DEMO_URL')}script-tag.html`)
  await page.evaluate(
    async ({ url, clientId }) => {
      const tab = window as unknown as Tab
      const lib = (window as unknown as { TsMqttWs: { connectAsync(u: string, o: object): Promise<TabClient> } }).TsMqttWs
      tab.errors = []
      tab.closes = 0
      tab.tries = 0
      tab.got = []
      // No jitter: the older tab's first retry comes at 200 ms, long after the newer one's claim, however loaded the machine.
      tab.tabClient = await lib.connectAsync(url, { clientId, reconnect: { minDelay: 200, maxDelay: 200, jitter: false } })
      tab.tabClient.on('error', (e) => tab.errors.push(`${e.code}: ${e.message}`))
      tab.tabClient.on('close', () => tab.closes++)
      tab.tabClient.on('reconnect', () => tab.tries++)
    },
    { url: env('E2E_BROKER_URL'), clientId },
  )
}

const tabState = (page: Page) =>
  page.evaluate(() => {
    const tab = window as unknown as Tab
    return { state: tab.tabClient.state, errors: tab.errors, closes: tab.closes, tries: tab.tries }
  })

test('two tabs with one client id: the newer keeps the session, the older stops and says why, and they do not knock each other off', async ({ context }) => {
  const clientId = `tabs-${Date.now()}`
  const older = await context.newPage()
  const newer = await context.newPage()
  const pageErrors = [...watchErrors(older), ...watchErrors(newer)]
  await openTab(older, clientId)
  await openTab(newer, clientId)

  await expect.poll(async () => (await tabState(older)).state).toBe('disconnected')
  // Five retries' worth at 200 ms, had the tabs fought over the session.
  await newer.waitForTimeout(1_000)
  const [o, n] = [await tabState(older), await tabState(newer)]
  expect(o.errors.some((e) => e.startsWith('SESSION_TAKEN_OVER: Another client in this browser'))).toBe(true)
  expect(o.tries).toBe(0)
  expect(n).toEqual({ state: 'connected', errors: [], closes: 0, tries: 0 })

  const topic = uniqueTopic('echo')
  const echoed = await newer.evaluate(async (topic) => {
    const tab = window as unknown as Tab
    const got = new Promise<string>((resolve) => tab.tabClient.subscribe(topic, { qos: 1 }, (m) => resolve(m.text())))
    await new Promise((r) => setTimeout(r, 0))
    await tab.tabClient.publish(topic, 'still here', { qos: 1 })
    return got
  }, topic)
  expect(echoed).toBe('still here')
  expect(pageErrors).toEqual([])
})
