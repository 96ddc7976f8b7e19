import { type Page, expect, test } from '@playwright/test'

export const env = (name: string): string => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: is test/e2e/global-setup.ts running?`)
  return value
}

/** A topic of this test's own, so tests never see each other's messages. */
export const uniqueTopic = (name = 't'): string => `e2e/${test.info().testId}/${name}`

/** Fails the test on any uncaught error in the page. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  return errors
}

export interface DemoOptions {
  base?: string
  /** The broker to connect to; default the aedes broker global-setup starts */
  broker?: string
  /** More settings in the address, e.g. { keepalive: '1' } */
  params?: Record<string, string>
  qos?: 0 | 1 | 2
  will?: { topic: string; payload: string }
}

/** Opens the demo pointed at the test broker, connects, and waits until the topic is subscribed. */
export async function openDemo(page: Page, topic: string, options: DemoOptions = {}): Promise<void> {
  const base = options.base ?? env('E2E_DEMO_URL')
  const query = new URLSearchParams({ broker: options.broker ?? env('E2E_BROKER_URL'), ...options.params })
  await page.goto(`${base}?${query}`)
  if (options.params && 'autoconnect' in options.params) {
    // The page connects by itself, to the topic in its address.
    if (options.params.topic !== topic) throw new Error('autoconnect needs params.topic')
  } else {
    await page.fill('#topic', topic)
    await page.selectOption('#qos', String(options.qos ?? 0))
    if (options.will) {
      await openDetails(page, '#will-topic')
      await page.fill('#will-topic', options.will.topic)
      await page.fill('#will-payload', options.will.payload)
    }
    await page.click('#connect')
  }
  await expect(page.locator('#status')).toHaveText('connected')
  await expect(page.locator(`#subscriptions li[data-filter="${topic}"]`)).toHaveAttribute('data-state', 'active')
}

/** Opens the folded <details> section that holds this field, so it can be filled in. */
export async function openDetails(page: Page, field: string): Promise<void> {
  await page.locator(field).evaluate((el) => {
    const details = el.closest('details')
    if (details) details.open = true
  })
}

export async function publish(page: Page, text: string, options: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
  if (options.qos !== undefined) await page.selectOption('#qos', String(options.qos))
  if (options.retain !== undefined) await page.setChecked('#retain', options.retain)
  await page.fill('#message', text)
  await page.click('#publish')
}

/** The payloads of the received list, as text, in order. */
export async function receivedTexts(page: Page): Promise<string[]> {
  return page.locator('#messages li .payload').allTextContents()
}

/** The QoS each received message was delivered at, in order. */
export async function receivedQos(page: Page): Promise<number[]> {
  return (await page.locator('#messages li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset.qos))).map(Number)
}

/** Records every text the status element shows, so short-lived states are not missed. */
export async function recordStatus(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const status = document.getElementById('status') as HTMLElement
    const seen: string[] = [status.textContent ?? '']
    ;(window as unknown as { statusHistory: string[] }).statusHistory = seen
    new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true })
  })
  return () => page.evaluate(() => (window as unknown as { statusHistory: string[] }).statusHistory)
}
