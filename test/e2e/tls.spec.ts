import { expect, test } from '@playwright/test'
import { mosquittoAvailable, startMosquitto } from '../support/mosquitto.js'
import { makeTestCerts, type TestCerts } from '../support/test-certs.js'
import { uniqueTopic } from './pages.js'
import { serveStaticPages, staticPage } from './static-pages.js'

/**
 * wss:// from a page to a Mosquitto whose certificate a private CA signed. A page cannot hand the
 * browser a CA, so the test trusts the certificate the way Chromium allows for one run: a browser
 * of its own, launched with --ignore-certificate-errors-spki-list naming the server key's SPKI
 * hash. The browser every other test uses does not trust it, and the page gets a clear error.
 */
let certs: TestCerts
let broker: Awaited<ReturnType<typeof startMosquitto>>
let site: Awaited<ReturnType<typeof serveStaticPages>>

test.beforeAll(async () => {
  test.skip(!mosquittoAvailable(), 'mosquitto is not installed')
  certs = makeTestCerts()
  broker = await startMosquitto({ tls: { certfile: certs.certFile, keyfile: certs.keyFile } })
  site = await serveStaticPages()
})
test.afterAll(async () => {
  await site?.close()
  await broker?.close()
  certs?.remove()
})

test('a page connects over wss:// to a broker whose certificate the browser was told to trust, and round-trips a QoS 1 message', async ({ playwright }) => {
  // The project's own launch options (system or Playwright's Chromium, its flags), plus the trust.
  const launchOptions = test.info().project.use.launchOptions ?? {}
  const browser = await playwright.chromium.launch({
    ...launchOptions,
    args: [...(launchOptions.args ?? []), `--ignore-certificate-errors-spki-list=${certs.spkiSha256}`],
  })
  try {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(staticPage(site.url, 'iife', { broker: broker.wssUrl as string, topic: uniqueTopic() }))
    await expect(page.locator('#received')).toHaveText('hello from the IIFE build (QoS 1)')
    expect(await page.locator('#error').textContent()).toBe('')
    expect(errors).toEqual([])
  } finally {
    await browser.close()
  }
})

test('a page whose browser does not trust the certificate gets a TransportError, and connectAsync rejects', async ({ page }) => {
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(staticPage(site.url, 'iife', { broker: broker.wssUrl as string, topic: uniqueTopic() }))
  // A browser tells a page nothing about why a WebSocket failed (the certificate error is only in
  // its console), so the error can say no more than that the socket failed.
  await expect(page.locator('#error')).toHaveText(/^TransportError TRANSPORT_ERROR: WebSocket /)
  expect(await page.locator('#received').textContent()).toBe('')
  expect(errors).toEqual([])
})
