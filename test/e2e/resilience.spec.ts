import { expect, test } from '@playwright/test'
import { startAedesBroker } from '../support/aedes-broker.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { startMosquitto } from '../support/mosquitto.js'
import { env, openDemo, publish, receivedQos, recordStatus, uniqueTopic } from './pages.js'

interface Restartable {
  url: string
  restart(): Promise<unknown>
  close(): Promise<void>
}

const restartable: Array<[string, () => Promise<Restartable>]> = [
  ['Mosquitto', () => startMosquitto()],
  [
    'aedes',
    async () => {
      let broker = await startAedesBroker({ port: 0 })
      return {
        url: broker.url,
        restart: async () => {
          broker = await broker.restart()
        },
        close: () => broker.close(),
      }
    },
  ],
]

for (const [name, start] of restartable) {
  test(`the demo goes from reconnecting back to connected across a ${name} restart, and messages flow again`, async ({ context }) => {
    const broker = await start()
    try {
      const topic = uniqueTopic()
      const a = await context.newPage()
      const b = await context.newPage()
      await openDemo(a, topic, { qos: 1, broker: broker.url })
      await openDemo(b, topic, { qos: 1, broker: broker.url })
      await publish(a, 'before the restart', { qos: 1 })
      await expect(b.locator('#messages li')).toHaveCount(1)

      const history = await recordStatus(a)
      await broker.restart()
      // First the page notices the loss (aedes restarts quicker than a status poll), then it is back.
      await expect.poll(async () => (await history()).includes('reconnecting')).toBe(true)
      await expect(a.locator('#status')).toHaveText('connected', { timeout: 20_000 })
      await expect(b.locator('#status')).toHaveText('connected', { timeout: 20_000 })
      const seen = await history()
      expect(seen).toEqual(expect.arrayContaining(['reconnecting', 'connected']))
      expect(seen.indexOf('reconnecting')).toBeLessThan(seen.lastIndexOf('connected'))

      // The restarted broker kept no session: the pages subscribed again by themselves, at the QoS
      // granted before, so a QoS 1 message still arrives at QoS 1.
      await publish(a, 'after the restart', { qos: 1 })
      await expect(b.locator('#messages li')).toHaveCount(2)
      await expect(b.locator('#messages li').last()).toHaveText(/after the restart$/)
      expect(await receivedQos(b)).toEqual([1, 1])
    } finally {
      await broker.close()
    }
  })
}

test('holds back retries while the browser is offline and reconnects when it is online again', async ({ context }) => {
  const page = await context.newPage()
  await openDemo(page, uniqueTopic(), { params: { minDelay: '100' } })
  await page.evaluate(() => {
    const w = window as unknown as { reconnects: number; client: { on(e: string, f: () => void): void } }
    w.reconnects = 0
    w.client.on('reconnect', () => w.reconnects++)
  })
  await context.setOffline(true)
  await expect(page.locator('#status')).toHaveText('reconnecting')
  // Many backoff periods pass; no attempt is made while navigator.onLine is false.
  await page.waitForTimeout(1500)
  expect(await page.evaluate(() => (window as unknown as { reconnects: number }).reconnects)).toBe(0)
  await context.setOffline(false)
  await expect(page.locator('#status')).toHaveText('connected')
  expect(await page.evaluate(() => (window as unknown as { reconnects: number }).reconnects)).toBe(1)
})

for (const [timers, workerAllowed] of [['Worker timers', true], ['plain timers, the control', false]] as const) {
  test(`keepalive with main-thread timers 20 s late, as in a background tab: ${timers}`, async ({ page }) => {
    await page.addInitScript((allowWorker: boolean) => {
      // Every main-thread timer fires 20 s late, as Chrome's throttling of hidden tabs makes them.
      const original = window.setTimeout
      window.setTimeout = ((fn: () => void, ms?: number) => original(fn, (ms ?? 0) + 20_000)) as typeof setTimeout
      if (!allowWorker) (window as unknown as { Worker?: unknown }).Worker = undefined
    }, workerAllowed)
    await openDemo(page, uniqueTopic(), { params: { keepalive: '3' } })
    const history = await recordStatus(page)
    // aedes drops a client silent for 1.5 keepalive periods (4.5 s); the client pings after 3 s
    // idle, so a busy machine has 1.5 s of slack. Without a ping the drop comes before 8 s.
    await page.waitForTimeout(8000)
    if (workerAllowed) {
      expect(await history()).toEqual(['connected'])
      await expect(page.locator('#status')).toHaveText('connected')
    } else {
      expect(await history()).toContain('reconnecting')
    }
  })
}

test('a QoS 1 message accepted before a page reload is delivered after the page comes back', async ({ context }) => {
  const proxy = await startFaultProxy({ port: Number(new URL(env('E2E_BROKER_URL')).port) })
  try {
    const topic = uniqueTopic()
    const watcher = await context.newPage()
    await openDemo(watcher, topic, { qos: 1 })

    const clientId = `reload-${Date.now()}`
    const page = await context.newPage()
    await openDemo(page, topic, { broker: proxy.url, params: { topic, clientId, store: 'indexeddb', autoconnect: '' } })
    proxy.stall(true) // the broker stops answering: no PUBACK will come
    await publish(page, 'survives the reload', { qos: 1 })
    const stored = () =>
      page.evaluate(
        (name) =>
          new Promise<number>((resolve, reject) => {
            const open = indexedDB.open(`ts-mqtt-ws:${name}`)
            open.onerror = () => reject(open.error)
            open.onsuccess = () => {
              const count = open.result.transaction('outgoing').objectStore('outgoing').count()
              count.onsuccess = () => {
                resolve(count.result)
                open.result.close()
              }
            }
          }),
        clientId,
      )
    await expect.poll(stored).toBe(1)

    await page.reload() // autoconnect is in the address: the page connects again by itself
    proxy.dropAll()
    proxy.stall(false)
    await expect(page.locator('#status')).toHaveText('connected')
    await expect(watcher.locator('#messages li')).toHaveText([/survives the reload$/])
    await expect.poll(stored).toBe(0) // acknowledged, so gone from the store
  } finally {
    await proxy.close()
  }
})
