import { fileURLToPath } from 'node:url'
import { build, createServer } from 'vite'
import { startAedesBroker } from '../test/support/aedes-broker.js'

// `npm run demo`: the reference broker on ws://localhost:8888 and the demo page on Vite's dev server.
const brokerPort = Number(process.env.BROKER_PORT ?? 8888)
const log = (line) => console.log(`[broker] ${line}`)

// The script-tag page loads the IIFE build: make it from the current source first.
await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), mode: 'iife', logLevel: 'warn' })

const broker = await startAedesBroker({ port: brokerPort, log })
const vite = await createServer({
  configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
  server: { port: Number(process.env.DEMO_PORT ?? 5173) },
})
await vite.listen()

const pageUrl = vite.resolvedUrls?.local[0] ?? 'http://localhost:5173/'
console.log(`\nBroker: ws://localhost:${broker.port}`)
console.log(`Demo:   ${pageUrl}`)
console.log(`        ${pageUrl}script-tag.html (the IIFE build from a plain <script> tag)`)
console.log('Open the demo in two tabs, press Connect in both, then Publish in one.\n')

const stop = async () => {
  await vite.close()
  await broker.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
