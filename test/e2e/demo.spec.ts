import { type BrowserContext, type Page, expect, test } from '@playwright/test'

const brokerUrl = () => process.env.E2E_BROKER_URL as string
const demoUrl = () => process.env.E2E_DEMO_URL as string

/** Opens the demo pointed at the test broker, connects, and waits until the topic is subscribed. */
async function openConnected(page: Page, topic: string): Promise<void> {
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(`${demoUrl()}?broker=${encodeURIComponent(brokerUrl())}`)
  await page.fill('#topic', topic)
  await page.click('#connect')
  await expect(page.locator('#status')).toHaveText('connected')
  await expect(page.locator('#subscription')).toHaveText(`subscribed to ${topic} (QoS 0)`)
  expect(errors).toEqual([])
}

/** Two tabs of the demo, both connected and subscribed to a topic of this test's own. */
async function twoConnectedPages(context: BrowserContext): Promise<{ topic: string; a: Page; b: Page }> {
  const topic = `e2e/${test.info().testId}`
  const a = await context.newPage()
  const b = await context.newPage()
  await openConnected(a, topic)
  await openConnected(b, topic)
  return { topic, a, b }
}

async function publish(page: Page, text: string): Promise<void> {
  await page.fill('#message', text)
  await page.click('#publish')
}

test('two demo pages exchange messages through the broker', async ({ context }) => {
  const { a, b } = await twoConnectedPages(context)

  await publish(a, 'hello from A')
  await expect(b.locator('#messages li')).toHaveText([/^\[\d\d:\d\d:\d\d\] hello from A$/])
  await expect(a.locator('#messages li')).toHaveText([/hello from A$/])

  await publish(b, 'hello from B')
  await expect(a.locator('#messages li')).toHaveText([/hello from A$/, /hello from B$/])
  await expect(b.locator('#messages li')).toHaveText([/hello from A$/, /hello from B$/])
})

test('a bad topic shows the error on the page and sends nothing', async ({ context }) => {
  const { topic, a, b } = await twoConnectedPages(context)

  await a.fill('#topic', 'a/+')
  await publish(a, 'must not be sent')
  await expect(a.locator('#error')).toBeVisible()
  await expect(a.locator('#error')).toContainText('InvalidTopicError')

  // A marker sent after it arrives alone: the bad publish never reached the broker.
  await a.fill('#topic', topic)
  await publish(a, 'marker')
  await expect(b.locator('#messages li')).toHaveText([/marker$/])
  await expect(a.locator('#error')).toBeHidden()
})
