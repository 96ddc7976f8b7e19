import { expect, test } from '@playwright/test'
import { env, openDemo, publish, receivedTexts, uniqueTopic, watchErrors } from './pages.js'

test('the demo works as a production build (vite build + vite preview)', async ({ context }) => {
  const topic = uniqueTopic()
  const base = env('E2E_DEMO_PREVIEW_URL')
  const a = await context.newPage()
  const b = await context.newPage()
  const errors = [a, b].map(watchErrors)
  await openDemo(a, topic, { base, qos: 1 })
  await openDemo(b, topic, { base, qos: 1 })
  await publish(a, 'from the production build', { qos: 1 })
  await expect(b.locator('#messages li')).toHaveCount(1)
  expect(await receivedTexts(b)).toEqual(['from the production build'])
  // The production bundle came from Vite's build, not the dev server's modules.
  expect(await a.evaluate(() => [...document.scripts].some((s) => /\/assets\/.+\.js$/.test(s.src)))).toBe(true)
  expect(errors.flat()).toEqual([])
})

for (const [server, urlVar] of [['dev server', 'E2E_DEMO_URL'], ['production build', 'E2E_DEMO_PREVIEW_URL']] as const) {
  test(`the script-tag page publishes and receives (${server})`, async ({ page }) => {
    const errors = watchErrors(page)
    const topic = uniqueTopic()
    await page.goto(`${env(urlVar)}script-tag.html?broker=${encodeURIComponent(env('E2E_BROKER_URL'))}`)
    expect(await page.evaluate(() => typeof (window as { TsMqttWs?: { connect?: unknown } }).TsMqttWs?.connect)).toBe('function')
    await page.fill('#topic', topic)
    await page.click('#connect')
    await expect(page.locator('#status')).toHaveText('connected')
    await expect(page.locator('#status')).toHaveAttribute('data-subscribed', 'yes')
    await page.click('#publish')
    await expect(page.locator('#messages li')).toHaveText([`${topic}: Hello from a script tag`])
    expect(errors).toEqual([])
  })
}

for (const [name, urlVar, title] of [
  ['a Vite app with a default config', 'E2E_VITE_CONSUMER_URL', 'the vite app'],
  ['a plain HTML page with the IIFE', 'E2E_IIFE_CONSUMER_URL', 'the plain page'],
] as const) {
  test(`the packed package works in ${name}`, async ({ page }) => {
    const errors = watchErrors(page)
    const query = new URLSearchParams({ broker: env('E2E_BROKER_URL'), topic: uniqueTopic() })
    await page.goto(`${env(urlVar)}?${query}`)
    await expect(page.locator('#status')).toHaveText('connected')
    await expect(page.locator('#received')).toHaveText(`hello from ${title}`)
    expect(errors).toEqual([])
  })
}
