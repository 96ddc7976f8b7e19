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

// examples/vite-vanilla (a Vite production build) and examples/plain-html (the IIFE from a script
// tag), installed from the packed tarball: both minified, where a class name read at run time
// would come out as `C` or `f`, so the typed error must still say which class it is.
for (const [name, urlVar] of [
  ['examples/vite-vanilla as a Vite production build', 'E2E_VITE_CONSUMER_URL'],
  ['examples/plain-html with the IIFE', 'E2E_IIFE_CONSUMER_URL'],
] as const) {
  test(`${name} publishes, receives, and names a caller error's class`, async ({ page }) => {
    const errors = watchErrors(page)
    const topic = uniqueTopic()
    const query = new URLSearchParams({ broker: env('E2E_BROKER_URL'), topic })
    await page.goto(`${env(urlVar)}?${query}`)
    await page.click('#connect')
    await expect(page.locator('#status')).toHaveText('connected')
    await expect(page.locator('#publish')).toBeEnabled()
    await page.fill('#message', `hello from ${name}`)
    await page.click('#publish')
    await expect(page.locator('#messages li')).toHaveText([`${topic}: hello from ${name}`])

    await page.fill('#topic', 'a/+')
    await page.click('#publish')
    await expect(page.locator('#error')).toHaveText(
      'InvalidTopicError: Invalid topic "a/+": wildcards (+ and #) are not allowed in a topic name',
    )
    await expect(page.locator('#messages li')).toHaveCount(1)
    expect(errors).toEqual([])
  })
}

test('the examples are minified builds, where no class keeps its name, and hold the error names as strings', async ({ page }) => {
  // Guards the test above: were the builds not minified, it would pass without err.name's literals.
  await page.goto(env('E2E_VITE_CONSUMER_URL'))
  const viteBundle = await page.evaluate(() => [...document.scripts].map((s) => s.src).find((src) => /\/assets\/.+\.js$/.test(src)))
  expect(viteBundle).toBeDefined()
  const iife = await (await page.request.get(`${env('E2E_IIFE_CONSUMER_URL')}ts-mqtt-ws.iife.js`)).text()
  for (const code of [await (await page.request.get(viteBundle as string)).text(), iife]) {
    // Booleans, so a failure does not print a whole bundle.
    expect(/class InvalidTopicError\b/.test(code), 'the class keeps its name in the build').toBe(false)
    expect(/["'`]InvalidTopicError["'`]/.test(code), 'the build holds the name as a string').toBe(true)
  }
})
