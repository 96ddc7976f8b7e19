import { expect, test } from '@playwright/test'
import { startMosquitto } from '../support/mosquitto.js'
import { env, watchErrors } from './pages.js'

/**
 * MQTT 5 in Chromium, where there is no Node Buffer: binary properties given as plain
 * Uint8Arrays, and request/response, against a Mosquitto of the test's own.
 */
test('request/response and Uint8Array correlation data work in Chromium over MQTT 5', async ({ page }) => {
  const broker = await startMosquitto()
  try {
    const errors = watchErrors(page)
    // The script-tag page, for the TsMqttWs global its IIFE build gives.
    await page.goto(`${env('E2E_DEMO_URL')}script-tag.html`)
    const outcome = await page.evaluate(async (url) => {
      type Client = {
        subscribe(f: string, o: object, h: (m: { properties?: { correlationData?: Uint8Array } }) => void): Promise<unknown>
        publish(t: string, p: string, o: object): Promise<unknown>
        respond(f: string, r: (m: { text(): string }) => string): Promise<unknown>
        request(t: string, p: string, o: object): Promise<{ text(): string }>
        end(): Promise<void>
      }
      const lib = (window as unknown as { TsMqttWs: { connectAsync(u: string, o: object): Promise<Client> } }).TsMqttWs
      const server = await lib.connectAsync(url, { protocolVersion: 5 })
      const caller = await lib.connectAsync(url, { protocolVersion: 5 })
      await server.respond('e2e/v5/svc', (m) => `pong ${m.text()}`)
      const reply = await caller.request('e2e/v5/svc', 'ping', { timeout: 5000 })
      let seenBytes: (bytes: number[]) => void = () => undefined
      const seen = new Promise<number[]>((resolve) => (seenBytes = resolve))
      // Subscribed (SUBACK in) before the publish, so the message cannot go by unseen.
      await server.subscribe('e2e/v5/corr', { qos: 1 }, (m) => seenBytes([...(m.properties?.correlationData ?? [])]))
      await caller.publish('e2e/v5/corr', 'x', { qos: 1, properties: { correlationData: new Uint8Array([1, 2, 255]), responseTopic: 'e2e/v5/r' } })
      const correlation = await seen
      await Promise.all([server.end(), caller.end()])
      return { reply: reply.text(), correlation }
    }, broker.url)
    expect(outcome).toEqual({ reply: 'pong ping', correlation: [1, 2, 255] })
    expect(errors).toEqual([])
  } finally {
    await broker.close()
  }
})
