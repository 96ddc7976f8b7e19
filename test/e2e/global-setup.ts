import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, createServer, preview } from 'vite'
import { startAedesBroker } from '../support/aedes-broker.js'
import { installConsumer, packTarball } from '../support/consumer.js'
import { serveStatic } from '../support/static-server.js'

const demoConfig = fileURLToPath(new URL('../../demo/vite.config.ts', import.meta.url))
const local = { host: '127.0.0.1', port: 0 }

/**
 * Everything the browser tests visit, started once: the broker; the demo from Vite's dev server
 * and as a production build under `vite preview`; and the packed package installed into two
 * throwaway consumers, a Vite app with a default config and a plain page with the IIFE.
 * Addresses reach the tests through the environment, which the workers inherit.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const closers: Array<() => Promise<unknown>> = []
  const tarball = await packTarball() // builds dist/, which the script-tag page needs too

  const broker = await startAedesBroker({ port: 0 })
  closers.push(() => broker.close())

  const dev = await createServer({ configFile: demoConfig, server: local, logLevel: 'warn' })
  await dev.listen()
  closers.push(() => dev.close())

  await build({ configFile: demoConfig, logLevel: 'warn' })
  const demoPreview = await preview({ configFile: demoConfig, preview: local, logLevel: 'warn' })
  closers.push(() => demoPreview.close())

  const consumer = await installConsumer(tarball, [], { type: 'module' })
  const viteApp = await buildViteConsumer(consumer)
  closers.push(() => viteApp.close())
  const plainPage = await servePlainConsumer(consumer)
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

const consumerScript = (connect: string) => `
const params = new URLSearchParams(location.search)
const client = ${connect}(params.get('broker'))
const topic = params.get('topic')
client.on('connect', () => { document.getElementById('status').textContent = client.state })
client.subscribe(topic, { qos: 1 }, (msg) => {
  document.getElementById('received').textContent = msg.text()
}).then(() => client.publish(topic, 'hello from ' + document.title, { qos: 1 }))
  .catch((err) => { document.getElementById('received').textContent = 'error: ' + err.message })
`

const consumerPage = (title: string, head: string, body = '') => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title><link rel="icon" href="data:,">${head}</head>
<body><p id="status">starting</p><p id="received"></p>${body}</body></html>
`

/** A Vite app that imports the package with a default config: no polyfill plugin, no define. */
async function buildViteConsumer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = path.join(dir, 'vite-app')
  await mkdir(app)
  await writeFile(path.join(app, 'vite.config.js'), 'export default {}\n')
  await writeFile(path.join(app, 'main.js'), `import { connect } from 'ts-mqtt-ws'\n${consumerScript('connect')}`)
  await writeFile(path.join(app, 'index.html'), consumerPage('the vite app', '<script type="module" src="./main.js"></script>'))
  await build({ root: app, configFile: path.join(app, 'vite.config.js'), logLevel: 'warn' })
  const server = await preview({ root: app, configFile: path.join(app, 'vite.config.js'), preview: local, logLevel: 'warn' })
  return { url: server.resolvedUrls?.local[0] as string, close: () => server.close() }
}

/** A plain HTML page that loads the IIFE from the installed package with a script tag. */
async function servePlainConsumer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const site = path.join(dir, 'plain-page')
  await mkdir(site)
  await copyFile(path.join(dir, 'node_modules/ts-mqtt-ws/dist/ts-mqtt-ws.iife.js'), path.join(site, 'ts-mqtt-ws.iife.js'))
  await writeFile(
    path.join(site, 'index.html'),
    consumerPage('the plain page', '<script src="./ts-mqtt-ws.iife.js"></script>', `<script>${consumerScript('TsMqttWs.connect')}</script>`),
  )
  return serveStatic(site)
}
