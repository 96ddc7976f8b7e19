import { parseArgs } from 'node:util'
import { startAedesBroker } from './aedes-broker.js'

// `npm run broker`: the reference broker on ws://localhost:8888 (and mqtt://localhost:1883), logging
// activity. Every failure to start is one line on stderr and exit code 1: no stack trace.

const HELP = `Usage: npm run broker -- [options]

The reference MQTT broker (aedes) over WebSocket, with plain MQTT over TCP beside it.

Options:
  --port N        WebSocket port (default 8888, or BROKER_PORT)
  --tcp-port N    MQTT over TCP port (default 1883, or BROKER_TCP_PORT)
  --persist DIR   keep sessions, queued and retained messages in a LevelDB folder
  --redis URL     keep them in Redis instead, e.g. redis://127.0.0.1:6379
  --help          show this

Without --persist or --redis everything is in memory, and a restart forgets it.
BROKER_HOST sets the address to listen on (default 127.0.0.1).`

/** A start that cannot go on: its message is all the user sees. */
class StartError extends Error {}

function main() {
  let settings
  try {
    settings = readSettings(process.argv.slice(2), process.env)
  } catch (err) {
    return fail(err instanceof StartError ? `${err.message}\nnpm run broker -- --help lists the options` : err)
  }
  if (settings.help) return console.log(HELP)
  start(settings).catch((err) => fail(explain(err, settings)))
}

function readSettings(argv, env) {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        'tcp-port': { type: 'string' },
        persist: { type: 'string' },
        redis: { type: 'string' },
        help: { type: 'boolean' },
      },
    })
  } catch (err) {
    throw new StartError(err.message)
  }
  const { values } = parsed
  if (values.persist !== undefined && values.redis !== undefined) throw new StartError('choose one of --persist DIR and --redis URL')
  return {
    help: values.help === true,
    port: portNumber(values.port ?? env.BROKER_PORT ?? '8888', values.port === undefined ? 'BROKER_PORT' : '--port'),
    tcpPort: portNumber(values['tcp-port'] ?? env.BROKER_TCP_PORT ?? '1883', values['tcp-port'] === undefined ? 'BROKER_TCP_PORT' : '--tcp-port'),
    host: env.BROKER_HOST ?? '127.0.0.1',
    persistence: values.persist !== undefined ? { level: values.persist } : values.redis !== undefined ? { redis: values.redis } : undefined,
  }
}

function portNumber(text, name) {
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65535) throw new StartError(`${name} must be a port number from 0 to 65535, not '${text}'`)
  return port
}

async function start({ port, tcpPort, host, persistence }) {
  const log = (line) => console.log(`[broker ${new Date().toISOString().slice(11, 19)}] ${line}`)
  let broker
  try {
    broker = await startAedesBroker({ port, host, tcpPort, log, persistence })
  } catch (err) {
    if (err.code !== 'EADDRINUSE' || err.port !== tcpPort || tcpPort === port) throw err
    // The WebSocket port is what the demo and the tests use; TCP is a convenience for other tools,
    // and 1883 is often a system Mosquitto's, so a taken TCP port only narrows what is served.
    console.warn(`TCP port ${tcpPort} is in use (by a system mosquitto?): serving MQTT over WebSocket only; set BROKER_TCP_PORT or --tcp-port for TCP too`)
    broker = await startAedesBroker({ port, host, log, persistence })
  }
  console.log(`MQTT over WebSocket: ws://localhost:${broker.port}`)
  if (broker.tcpPort) console.log(`MQTT over TCP:       mqtt://localhost:${broker.tcpPort}`)
  console.log(`Sessions and retained messages: ${broker.storage}`)

  const stop = async () => {
    await broker.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** The one line a failed start prints. Each known cause says what to do about it. */
function explain(err, { port, tcpPort }) {
  if (err.code === 'EADDRINUSE' && err.port === port) {
    return `port ${port} is in use: is npm run demo already running? set BROKER_PORT (or --port) to another port`
  }
  if (err.code === 'EADDRINUSE' && err.port === tcpPort) return `TCP port ${tcpPort} is in use too: set BROKER_TCP_PORT (or --tcp-port)`
  if (err.code === 'EACCES') return `port ${err.port} needs privileges this user lacks: choose a port above 1023`
  if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${err.address}: no such address here (BROKER_HOST)`
  // The persistence messages (Redis unreachable, folder locked) already say what went wrong.
  return err.message
}

function fail(message) {
  console.error(message instanceof Error ? `broker failed to start: ${message.message}` : message)
  // Whatever a half-made start left open (a Redis socket, a timer) must not keep the process up.
  process.exit(1)
}

main()
