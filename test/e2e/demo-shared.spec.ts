import { expect, test } from '@playwright/test'
import { startAedesBroker } from '../support/aedes-broker.js'
import { env, openDemo, publish, receivedTexts, uniqueTopic, watchErrors } from './pages.js'

/**
 * The demo's "Share across tabs" switch (issue 15): tabs that turn it on connect with
 * connectShared under the same client id, so the broker sees one connection for all of them. The
 * production build is run too, as it is there that the bundler must have emitted the worker.
 */
for (const [mode, build, urlVar] of [
  ['worker', 'dev server', 'E2E_DEMO_URL'],
  ['worker', 'production build', 'E2E_DEMO_PREVIEW_URL'],
  ['leader', 'dev server', 'E2E_DEMO_URL'],
] as const) {
  test(`two tabs sharing through the ${mode === 'worker' ? 'worker' : 'leader tab'} make one broker connection, and a publish in one reaches the other (${build})`, async ({
    context,
  }) => {
    const broker = await startAedesBroker({ port: 0 })
    const ids: string[] = []
    broker.aedes.on('client', (client) => ids.push(client.id))
    try {
      const topic = uniqueTopic()
      const [a, b] = [await context.newPage(), await context.newPage()]
      const errors = [a, b].map(watchErrors)
      for (const page of [a, b]) await openDemo(page, topic, { base: env(urlVar), broker: broker.url, params: { shared: mode } })
      for (const page of [a, b]) {
        await expect(page.locator('#connection-kind')).toHaveText(`shared by tabs (${mode === 'worker' ? 'worker' : 'leader tab'})`)
        await expect(page.locator('#shown-client-id')).toHaveText('demo-shared')
        // The leader-tab mode resumes the session from tab to tab: the form shows clean session off.
        expect(await page.locator('#clean').isChecked()).toBe(mode === 'worker')
      }

      await publish(a, 'from tab A', { qos: 1 })
      await expect(b.locator('#messages li')).toHaveCount(1)
      expect(await receivedTexts(b)).toEqual(['from tab A'])
      await expect(a.locator('#messages li .payload')).toHaveText(['from tab A'])
      // Both tabs subscribed and published after connecting: a second connection would be here by now.
      expect(ids).toEqual(['demo-shared'])
      expect(broker.aedes.connectedClients).toBe(1)
      expect(errors.flat()).toEqual([])
    } finally {
      await broker.close()
    }
  })
}
