import { expect, test } from '@playwright/test'
import { env, uniqueTopic } from './pages.js'
import { serveStaticPages, staticPage } from './static-pages.js'

/**
 * Both builds of the client under a strict Content-Security-Policy: no inline script, no eval, no
 * blob: Worker (default-src 'self' leaves worker-src to 'self'). The pages are external
 * same-origin scripts. The client's Worker timers are refused, so it must go on with plain
 * timers: no uncaught error, and keepalive pings still go out and come back.
 */
const POLICY = "default-src 'self'; connect-src ws: wss:"

let site: Awaited<ReturnType<typeof serveStaticPages>>
test.beforeAll(async () => {
  site = await serveStaticPages({ 'Content-Security-Policy': POLICY })
})
test.afterAll(async () => {
  await site?.close()
})

interface Violation {
  directive: string
  blocked: string
  disposition: string
}

for (const build of ['iife', 'esm'] as const) {
  test(`the ${build.toUpperCase()} build connects, round-trips a QoS 1 message and keeps alive under a strict CSP`, async ({ page }) => {
    const pageErrors: string[] = []
    const consoleErrors: string[] = []
    page.on('pageerror', (err) => pageErrors.push(err.message))
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())))
    const missing: string[] = []
    page.on('response', (r) => void (r.status() >= 400 && missing.push(new URL(r.url()).pathname)))
    const topic = uniqueTopic(build)
    const response = await page.goto(staticPage(site.url, build, { broker: env('E2E_BROKER_URL'), topic, keepalive: '1' }))
    expect(response?.headers()['content-security-policy']).toBe(POLICY)

    await expect(page.locator('#received')).toHaveText(`hello from the ${build.toUpperCase()} build (QoS 1)`)
    expect(await page.locator('#error').textContent()).toBe('')
    // keepalive 1 s: three PINGRESPs answer three PINGREQs, and the connection is still up.
    await expect(page.locator('#pings')).toHaveText(/^([3-9]|\d\d+)$/, { timeout: 15_000 })
    await expect(page.locator('#status')).toHaveText('connected')
    const session = await page.evaluate(() => (window as unknown as { session: { pingreq: number; pingresp: number } }).session)
    expect(session.pingreq).toBeGreaterThanOrEqual(3)

    const violations = await page.evaluate(() => (window as unknown as { cspViolations: Violation[] }).cspViolations)
    test.info().annotations.push({ type: 'CSP violations', description: JSON.stringify(violations) })
    // The one thing refused is the Worker the timers would have run in; no eval, no inline code.
    for (const v of violations) expect([v.directive, v.blocked]).toEqual(['worker-src', 'blob'])
    expect(pageErrors).toEqual([])
    // Every file the page asked for was there (a favicon aside, which the pages do not name).
    expect(missing.filter((p) => p !== '/favicon.ico')).toEqual([])
    test.info().annotations.push({ type: 'console errors', description: JSON.stringify(consoleErrors) })
  })
}
