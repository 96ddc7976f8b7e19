import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { build, createServer, preview } from 'vite'
import { startAedesBroker } from '../support/aedes-broker.js'
import { packTarball } from '../support/consumer.js'
import { installExample } from '../support/examples.js'
import { serveStatic } from '../support/static-server.js'

const demoConfig = fileURLToPath(new URL('../../demo/vite.config.ts', import.meta.url))
const local = { host: '127.0.0.1', port: 0 }
const run = promisify(execFile)

/**
 * Everything the browser tests visit, started once: the broker; the demo from Vite's dev server
 * and as a production build under `vite preview`; and the packed package installed into copies of
 * two of examples/: vite-vanilla, built by `vite build` and served by `vite preview`, and
 * plain-html, the IIFE copied in by its own `npm run copy` and served as static files.
 * Addresses reach the tests through the environment, which the workers inherit.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const closers: Array<() => Promise<unknown>> = []
  const tarball = await packTarball() // builds dist/, which the script-tag page needs too

  const broker = await startAedesBroker({ port: 0 })
  closers.push(() => broker.close())

  // No file watching: an edit (or a build writing dist/) during a run must not reload a page mid-test.
  const dev = await createServer({ configFile: demoConfig, server: { ...local, watch: null }, logLevel: 'warn' })
  await dev.listen()
  closers.push(() => dev.close())

  await build({ configFile: demoConfig, logLevel: 'warn' })
  const demoPreview = await preview({ configFile: demoConfig, preview: local, logLevel: 'warn' })
  closers.push(() => demoPreview.close())

  const viteApp = await buildViteExample(await installExample('vite-vanilla', tarball))
  closers.push(() => viteApp.close())
  const plainPage = await servePlainExample(await installExample('plain-html', tarball))
  closers.push(() => plainPage.close())

  Object.assign(process.env, {
    E2E_BROKER_URL: broker.url,
    E2E_DEMO_URL: dev.resolvedUrls?.local[0],
    E2E_DEMO_PREVIEW_URL: demoPreview.resolvedUrls?.local[0],
    E2E_VITE_CONSUMER_URL: viteApp.url,
    E2E_IIFE_CONSUMER_URL: plainPage.url,
  })
  return async () => {
    for (const close of closers.reverse()) await close()
  }
}

/** examples/vite-vanilla as a production build: its own (absent) config, so Vite's defaults. */
async function buildViteExample(app: string): Promise<{ url: string; close(): Promise<void> }> {
  await build({ root: app, configFile: false, logLevel: 'warn' })
  const server = await preview({ root: app, configFile: false, preview: local, logLevel: 'warn' })
  return { url: server.resolvedUrls?.local[0] as string, close: () => server.close() }
}

/** examples/plain-html with the IIFE put next to the page the way its README says. */
async function servePlainExample(site: string): Promise<{ url: string; close(): Promise<void> }> {
  await run('npm', ['run', '--silent', 'copy'], { cwd: site })
  return serveStatic(site)
}
