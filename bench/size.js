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

const sizes = (code) => ({ minified: Buffer.byteLength(code), gzip: gzipSync(code, { level: 9 }).length })

async function consumerBundle() {
  // A throwaway app inside the repo, so `events` resolves from node_modules as in a real app.
  const dir = mkdtempSync(path.join(root, '.size-'))
  try {
    const entry = path.join(dir, 'main.js')
    writeFileSync(entry, "import { connect } from 'ts-mqtt-ws'\nwindow.connect = connect\n")
    mkdirSync(path.join(dir, 'out'))
    const result = await build({
      configFile: false,
      logLevel: 'silent',
      root: dir,
      resolve: { alias: { 'ts-mqtt-ws': path.join(dist, 'ts-mqtt-ws.js') } },
      build: { write: false, minify: true, lib: { entry, formats: ['es'], fileName: 'app' } },
    })
    const output = (Array.isArray(result) ? result[0] : result).output
    return output.filter((o) => o.type === 'chunk').map((o) => o.code).join('')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const rows = [
  ['IIFE (dist/ts-mqtt-ws.iife.js)', sizes(readFileSync(path.join(dist, 'ts-mqtt-ws.iife.js')))],
  ["Vite app: import { connect } from 'ts-mqtt-ws'", sizes(await consumerBundle())],
  ["MQTT.js 5.16: import mqtt from 'mqtt' (esbuild, reference)", MQTTJS],
]

const pct = (n, of) => `${((100 * n) / of).toFixed(1)}%`
console.log('| bundle | minified | gzip -9 | gzip vs MQTT.js |')
console.log('|---|---:|---:|---:|')
for (const [name, s] of rows) {
  console.log(`| ${name} | ${s.minified.toLocaleString('en')} B | ${s.gzip.toLocaleString('en')} B | ${pct(s.gzip, MQTTJS.gzip)} |`)
}
const budget = Math.floor(MQTTJS.gzip / 4)
const worst = Math.max(rows[0][1].gzip, rows[1][1].gzip)
console.log(`\nBudget: a quarter of MQTT.js gzip = ${budget.toLocaleString('en')} B; largest of ours: ${worst.toLocaleString('en')} B (${worst <= budget ? 'within' : 'OVER'}).`)
