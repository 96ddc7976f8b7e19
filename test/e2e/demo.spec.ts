import { type Page, expect, test } from '@playwright/test'
import { startFaultProxy } from '../support/fault-proxy.js'
import { env, openDemo, publish, receivedQos, receivedTexts, recordStatus, uniqueTopic, watchErrors } from './pages.js'

/** Adds a subscription row on the demo page and waits until the broker granted it. */
async function watch(page: Page, filter: string, qos: 0 | 1 | 2 = 0) {
  await page.fill('#filter', filter)
  await page.selectOption('#filter-qos', String(qos))
  await page.click('#subscribe')
  const row = page.locator(`#subscriptions li[data-filter="${filter}"]`)
  await expect(row).toHaveAttribute('data-state', 'active')
  return row
}

test('two tabs exchange messages at QoS 0, 1 and 2', async ({ context }) => {
  const topic = uniqueTopic()
  const a = await context.newPage()
  const b = await context.newPage()
  const errors = [...[a, b].map(watchErrors)]
  // Subscribed at QoS 2, so each message is delivered at the QoS it was published with.
  await openDemo(a, topic, { qos: 2 })
  await openDemo(b, topic, { qos: 2 })

  for (const qos of [0, 1, 2] as const) await publish(a, `A at QoS ${qos}`, { qos })
  await expect(b.locator('#messages li')).toHaveCount(3)
  expect(await receivedTexts(b)).toEqual(['A at QoS 0', 'A at QoS 1', 'A at QoS 2'])
  expect(await receivedQos(b)).toEqual([0, 1, 2])

  for (const qos of [2, 1, 0] as const) await publish(b, `B at QoS ${qos}`, { qos })
  await expect(a.locator('#messages li')).toHaveCount(6)
  expect((await receivedTexts(a)).slice(3)).toEqual(['B at QoS 2', 'B at QoS 1', 'B at QoS 0'])
  expect((await receivedQos(a)).slice(3)).toEqual([2, 1, 0])
  await expect(a.locator('#messages li').first()).toHaveText(/^\[\d\d:\d\d:\d\d\] A at QoS 0$/)
  expect(errors.flat()).toEqual([])
})

test('a retained message reaches a tab that subscribes later', async ({ context }) => {
  const topic = uniqueTopic()
  const a = await context.newPage()
  await openDemo(a, topic, { qos: 1 })
  await publish(a, 'kept for later', { qos: 1, retain: true })
  await expect(a.locator('#messages li')).toHaveCount(1)

  const late = await context.newPage()
  await openDemo(late, topic)
  await expect(late.locator('#messages li')).toHaveCount(1)
  expect(await receivedTexts(late)).toEqual(['kept for later'])
  await publish(a, '', { retain: true }) // clear it
})

test('closing a tab without end() delivers its will to the other tab', async ({ context }) => {
  const topic = uniqueTopic()
  const willTopic = uniqueTopic('will')
  const watcher = await context.newPage()
  await openDemo(watcher, topic)
  const willRow = await watch(watcher, willTopic, 1)

  const leaving = await context.newPage()
  await openDemo(leaving, topic, { will: { topic: willTopic, payload: 'the other tab is gone' } })
  await leaving.close()
  await expect(willRow.locator('.count')).toHaveText('1')
  await expect(willRow.locator('.last')).toHaveText(`last: ${willTopic} = the other tab is gone`)
})

test('a graceful disconnect does not deliver the will', async ({ context }) => {
  const topic = uniqueTopic()
  const willTopic = uniqueTopic('will')
  const watcher = await context.newPage()
  await openDemo(watcher, topic)
  const willRow = await watch(watcher, willTopic)

  const leaving = await context.newPage()
  await openDemo(leaving, topic, { will: { topic: willTopic, payload: 'should not arrive' } })
  await leaving.click('#disconnect')
  await expect(leaving.locator('#status')).toHaveText('closed')
  // A message on the watched topic, sent after, arrives alone.
  await publish(watcher, 'after the disconnect')
  await expect(watcher.locator('#messages li')).toHaveCount(1)
  await expect(willRow.locator('.count')).toHaveText('0')
})

test('each subscription handler sees only the messages its filter matches', async ({ context }) => {
  const base = uniqueTopic()
  const page = await context.newPage()
  await openDemo(page, `${base}/room/temp`)
  for (const filter of [`${base}/+/temp`, `${base}/other/#`]) await watch(page, filter)
  await publish(page, '21.5')
  await expect(page.locator(`#subscriptions li[data-filter="${base}/+/temp"] .count`)).toHaveText('1')
  await expect(page.locator(`#subscriptions li[data-filter="${base}/room/temp"] .count`)).toHaveText('1')
  await expect(page.locator(`#subscriptions li[data-filter="${base}/other/#"] .count`)).toHaveText('0')
})

test('a bad topic shows the error on the page and sends nothing', async ({ context }) => {
  // The page publishes through a proxy that decodes every packet it forwards: the witness of what
  // reached the wire is not the client's own account of it.
  const proxy = await startFaultProxy({ port: Number(new URL(env('E2E_BROKER_URL')).port), witness: true })
  try {
    const topic = uniqueTopic()
    const a = await context.newPage()
    const b = await context.newPage()
    await openDemo(a, topic, { broker: proxy.url })
    // The other tab listens below the topic, where a leaked wildcard PUBLISH would land if a broker
    // passed it on (aedes drops the connection that sent it instead).
    await openDemo(b, `${topic}/#`)
    const history = await recordStatus(a)

    await a.fill('#topic', `${topic}/+`)
    await publish(a, 'must not be sent')
    await expect(a.locator('#error')).toBeVisible()
    await expect(a.locator('#error')).toContainText('InvalidTopicError')

    // A marker sent after it arrives alone, and it is the only PUBLISH the wire carried.
    await a.fill('#topic', `${topic}/marker`)
    await publish(a, 'marker')
    await expect(b.locator('#messages li')).toHaveCount(1)
    expect(await receivedTexts(b)).toEqual(['marker'])
    await expect(a.locator('#error')).toBeHidden()
    const published = (proxy.witness?.log ?? []).flatMap((e) => (e.dir === 'toBroker' && e.packet.cmd === 'publish' ? [e.packet.topic] : []))
    expect(published).toEqual([`${topic}/marker`])
    expect(proxy.witness?.errors).toEqual([])
    // The connection that would have carried a wildcard PUBLISH never dropped.
    expect(await history()).toEqual(['connected'])
    expect(proxy.accepted).toBe(1)
  } finally {
    await proxy.close()
  }
})
