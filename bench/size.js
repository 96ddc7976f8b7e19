// `npm run size`: bytes of the script-tag build, and of what a Vite app ships for
// `import { connect } from 'ts-mqtt-ws'`, minified and gzipped, beside MQTT.js.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = path.join(root, 'dist')

// MQTT.js 5.16, an esbuild browser bundle of `import mqtt from 'mqtt'` (the reference figures).
const MQTTJS = { minified: 345_860, gzip: 106_056 }

/** What each of our bundles may weigh gzipped: a quarter of MQTT.js's. The tests hold us to it. */
export const SIZE_BUDGET = Math.floor(MQTTJS.gzip / 4)

const sizes = (code) => ({ minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length })

async function consumerBundle(name = 'connect') {
  // A throwaway app inside the repo, so `events` resolves from node_modules as in a real app.
  const dir = mkdtempSync(path.join(root, '.size-'))
  try {
    const entry = path.join(dir, 'main.js')
    writeFileSync(entry, `import { ${name} } from 'ts-mqtt-ws'\nwindow.${name} = ${name}\n`)
    mkdirSync(path.join(dir, 'out'))
    const result = await build({
      configFile: false,
      logLevel: 'silent',
      root: dir,
      resolve: { alias: { 'ts-mqtt-ws': path.join(dist, 'ts-mqtt-ws.js') } },
      // An app build, as `vite build` makes for a page: library mode would keep the whitespace of
      // an ES bundle (it leaves minifying that to the app), which is not what a user ships.
      build: { write: false, minify: true, modulePreload: false, rollupOptions: { input: entry } },
    })
    const output = (Array.isArray(result) ? result[0] : result).output
    // A shared worker is a chunk of its own: the page's bundle, and apart, what the worker file weighs.
    const chunks = output.filter((o) => o.type === 'chunk' || /worker.*\.js$/.test(o.fileName))
    const page = chunks.filter((o) => !/worker/.test(o.fileName)).map((o) => o.code).join('')
    const worker = chunks.filter((o) => /worker/.test(o.fileName)).map((o) => o.code ?? o.source).join('')
    return { page, worker }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const file = (relative) => readFileSync(path.join(root, relative))

/** Our two figures, and the other clients' published browser builds, minified and gzipped. */
export async function measureSizes() {
  return [
    { name: 'ts-mqtt-ws IIFE (dist/ts-mqtt-ws.iife.js)', ours: true, ...sizes(file('dist/ts-mqtt-ws.iife.js')) },
    { name: "ts-mqtt-ws in a Vite app: import { connect } from 'ts-mqtt-ws'", ours: true, ...sizes((await consumerBundle()).page) },
    ...(await sharingRows()),
    { name: "MQTT.js 5.16: import mqtt from 'mqtt' (esbuild, the issue's reference)", ...MQTTJS },
    { name: 'paho-mqtt 1.1: paho-mqtt-min.js', ...sizes(file('node_modules/paho-mqtt/paho-mqtt-min.js')) },
    { name: 'u8-mqtt 0.6.7: esm/web/v4.min.js (3.1.1 only)', ...sizes(file('node_modules/u8-mqtt/esm/web/v4.min.js')) },
    { name: 'u8-mqtt 0.6.7: esm/web/index.min.js (3.1.1 and 5)', ...sizes(file('node_modules/u8-mqtt/esm/web/index.min.js')) },
  ]
}

/**
 * What sharing a connection between tabs weighs (connectShared, issue 15): the page's part and the
 * worker file, apart. Not held to the budget: an app that shares loads them instead of the plain client.
 */
async function sharingRows() {
  const { page, worker } = await consumerBundle('connectShared')
  return [
    { name: 'sharing, script tag: dist/ts-mqtt-ws.shared.iife.js', ...sizes(file('dist/ts-mqtt-ws.shared.iife.js')) },
    { name: 'sharing, its worker file: dist/ts-mqtt-ws.shared-worker.js', ...sizes(file('dist/ts-mqtt-ws.shared-worker.js')) },
    { name: "sharing, in a Vite app: import { connectShared }, the page's bundle", ...sizes(page) },
    { name: 'sharing, in a Vite app: the worker Vite emits', ...sizes(worker) },
  ]
}

const pct = (n, of) => `${((100 * n) / of).toFixed(1)}%`

export function sizeTable(rows) {
  const lines = ['| bundle | minified | gzip -9 | gzip vs MQTT.js |', '|---|---:|---:|---:|']
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.minified.toLocaleString('en')} B | ${r.gzip.toLocaleString('en')} B | ${pct(r.gzip, MQTTJS.gzip)} |`)
  }
  const budget = SIZE_BUDGET
  const worst = Math.max(...rows.filter((r) => r.ours).map((r) => r.gzip))
  lines.push('', `Budget: a quarter of MQTT.js gzip = ${budget.toLocaleString('en')} B; largest of ours: ${worst.toLocaleString('en')} B (${worst <= budget ? 'within' : 'OVER'}).`)
  return lines.join('\n')
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(sizeTable(await measureSizes()))
}
