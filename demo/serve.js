import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { build, createServer } from 'vite'

// `npm run demo`: the reference broker in a process of its own (test/support/broker-cli.js, as
// `npm run broker` runs it) and the demo page on Vite's dev server. Ctrl-C stops both; a broker
// that stops or cannot start stops the demo too, saying why.
//
//   npm run demo                      the broker and the page
//   npm run demo -- --no-broker       the page only, for a broker run apart (`npm run broker` in a
//                                     second terminal, which can then be stopped and restarted)
//   npm run demo -- --persist DIR     any other option goes to the broker (see npm run broker -- --help)

const args = process.argv.slice(2)
const withBroker = !args.includes('--no-broker')
const brokerArgs = args.filter((a) => a !== '--no-broker')
const brokerPort = Number(optionValue(brokerArgs, '--port') ?? process.env.BROKER_PORT ?? 8888)
const brokerCli = fileURLToPath(new URL('../test/support/broker-cli.js', import.meta.url))

let stopping = false
let vite
let broker

/** The value of `--name N` or `--name=N` among the arguments. */
function optionValue(list, name) {
  const at = list.findIndex((a) => a === name || a.startsWith(`${name}=`))
  if (at < 0) return undefined
  return list[at].includes('=') ? list[at].slice(name.length + 1) : list[at + 1]
}

/** Each line of the broker's output, marked as the broker's unless it marks itself. */
function relay(stream, out) {
  createInterface({ input: stream }).on('line', (line) => out.write(line.startsWith('[broker') ? `${line}\n` : `[broker] ${line}\n`))
}

/** Starts the broker process; resolves once it listens, rejects with its exit code if it stops first. */
function startBroker() {
  const child = spawn(process.execPath, [brokerCli, ...brokerArgs], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env })
  relay(child.stdout, process.stdout)
  relay(child.stderr, process.stderr)
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => line.startsWith('MQTT over WebSocket:') && resolve())
    child.once('exit', (code, signal) => reject(Object.assign(new Error('the broker stopped'), { code, signal })))
  })
  return { child, ready }
}

async function stop(code) {
  if (stopping) return
  stopping = true
  await vite?.close()
  if (broker && broker.child.exitCode === null && broker.child.signalCode === null) {
    const gone = new Promise((resolve) => broker.child.once('exit', resolve))
    broker.child.kill('SIGTERM')
    await gone
  }
  process.exit(code)
}
process.once('SIGINT', () => void stop(0))
process.once('SIGTERM', () => void stop(0))

broker = withBroker ? startBroker() : undefined
if (broker) {
  try {
    await broker.ready
  } catch {
    // The broker printed its reason (a port in use, say) on the lines above.
    console.error('\nThe demo needs its broker and stops. To use a broker that is already running: npm run demo -- --no-broker')
    await stop(1)
  }
  broker.child.once('exit', (code, signal) => {
    // Ctrl-C reaches the broker too; its own stop may come before ours.
    setImmediate(() => brokerGone(code, signal))
  })
}

function brokerGone(code, signal) {
  if (stopping) return
  console.error(`\nThe broker stopped (${signal ?? `exit code ${code}`}), so the demo stops too.`)
  console.error('To stop and restart the broker while the page runs, use npm run demo -- --no-broker and npm run broker in a second terminal.')
  void stop(1)
}

// The script-tag page loads the IIFE build: make it from the current source first.
await build({ configFile: fileURLToPath(new URL('../vite.config.ts', import.meta.url)), mode: 'iife', logLevel: 'warn' })
vite = await createServer({
  configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
  server: { port: Number(process.env.DEMO_PORT ?? 5173) },
})
await vite.listen()

// The page's own default is port 8888; another port reaches it through the address.
const query = brokerPort === 8888 ? '' : `?broker=${encodeURIComponent(`ws://localhost:${brokerPort}`)}`
const pageUrl = vite.resolvedUrls?.local[0] ?? 'http://localhost:5173/'
console.log(`\nBroker: ws://localhost:${brokerPort}${withBroker ? '' : ' (not started here: run npm run broker in another terminal)'}`)
console.log(`Demo:   ${pageUrl}${query}`)
console.log(`        ${pageUrl}script-tag.html${query} (the IIFE build from a plain <script> tag)`)
console.log('Open the demo in two tabs, press Connect in both, then Publish in one. Ctrl-C stops everything.\n')
