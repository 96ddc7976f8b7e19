import { fileURLToPath } from 'node:url'
import { createServer } from 'vite'
import { startAedesBroker } from '../harness/aedes-broker.js'

/**
 * Starts the reference broker and the demo's Vite dev server on free ports for the whole run.
 * Their addresses reach the tests through the environment, which the workers inherit.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const broker = await startAedesBroker({ port: 0 })
  const vite = await createServer({
    configFile: fileURLToPath(new URL('../../demo/vite.config.ts', import.meta.url)),
    server: { port: 0, host: '127.0.0.1', strictPort: false },
    logLevel: 'warn',
  })
  await vite.listen()
  const demoUrl = vite.resolvedUrls?.local[0]
  if (!demoUrl) throw new Error('Vite did not report its address')
  process.env.E2E_BROKER_URL = broker.url
  process.env.E2E_DEMO_URL = demoUrl
  return async () => {
    await vite.close()
    await broker.close()
  }
}
