import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.js'
import { accepts, terminate } from './server-process.js'

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto']

function binary() {
  const found = CANDIDATES.find((p) => existsSync(p))
  if (found) return found
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' })
  return which.status === 0 ? which.stdout.trim() : undefined
}

export function mosquittoAvailable() {
  return binary() !== undefined
}

/**
 * Debian's Mosquitto as a second, independent broker, on free loopback ports with its config in a
 * temp folder. 2.0.11 will not start with WebSocket listeners alone, so a loopback TCP listener
 * comes first. Its WebSocket listener binds every interface unless it names 127.0.0.1 and also
 * says `bind_interface lo` and `socket_domain ipv4` (checked with ss: any one missing and it
 * listens on 0.0.0.0), so all three are always set.
 *
 * With `tls`, a third listener takes WebSocket over TLS (wss://) with that certificate and key; the
 * same three lines bind it to loopback.
 *
 * @param {{ extraConfig?: string, log?: boolean, tls?: { certfile: string, keyfile: string, cafile?: string } }} [options]
 */
export async function startMosquitto(options = {}) {
  const bin = binary()
  if (!bin) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)')
  const configDir = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-mosquitto-'))
  const [port, tcpPort] = [await freePort(), await freePort()]
  const tlsPort = options.tls ? await freePort() : undefined
  const config = [
    'per_listener_settings false',
    'persistence false',
    options.log ? 'log_dest stderr' : 'log_dest none',
    'log_type all',
    // Running as root in CI: stay root rather than switch to a 'mosquitto' user that cannot read the temp folder.
    'user root',
    `listener ${tcpPort} 127.0.0.1`,
    `listener ${port} 127.0.0.1`,
    'protocol websockets',
    'bind_interface lo',
    'socket_domain ipv4',
    options.extraConfig ?? '',
    /allow_anonymous/.test(options.extraConfig ?? '') ? '' : 'allow_anonymous true',
    // Last, so that listener settings in extraConfig still go to the plain WebSocket listener.
    ...(options.tls ? tlsListener(tlsPort, options.tls) : []),
    '',
  ].join('\n')
  const configFile = path.join(configDir, 'mosquitto.conf')
  await writeFile(configFile, config)

  let child
  const start = async () => {
    child = await launch(bin, configFile, tcpPort, port, options.log, tlsPort)
  }
  const stop = async () => {
    if (!child) return
    const c = child
    child = undefined
    await terminate(c)
  }
  await start()

  let closed
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    tcpPort,
    tcpUrl: `mqtt://127.0.0.1:${tcpPort}`,
    /** The TLS WebSocket listener, when `tls` was given. */
    wssUrl: tlsPort === undefined ? undefined : `wss://127.0.0.1:${tlsPort}`,
    tlsPort,
    configDir,
    /** Stops and starts the same config on the same ports, for broker-restart tests. */
    restart: async () => {
      await stop()
      await start()
    },
    close: () =>
      (closed ??= (async () => {
        await stop()
        await rm(configDir, { recursive: true, force: true })
      })()),
  }
}

/**
 * @param {number | undefined} port
 * @param {{ certfile: string, keyfile: string, cafile?: string }} tls
 */
function tlsListener(port, tls) {
  return [
    `listener ${port} 127.0.0.1`,
    'protocol websockets',
    'bind_interface lo',
    'socket_domain ipv4',
    `certfile ${tls.certfile}`,
    `keyfile ${tls.keyfile}`,
    ...(tls.cafile ? [`cafile ${tls.cafile}`] : []),
  ]
}

async function launch(bin, configFile, tcpPort, wsPort, log, tlsPort) {
  const child = spawn(bin, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
    if (log) process.stderr.write(chunk)
  })
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`mosquitto exited (code ${code}) before it was ready: ${stderr.trim()}`))),
  )
  exited.catch(() => undefined)
  const deadline = Date.now() + 10_000
  await Promise.race([exited, (async () => {
    while (!(await accepts(tcpPort)) || !(await accepts(wsPort)) || (tlsPort !== undefined && !(await accepts(tlsPort)))) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections within 10 s: ${stderr.trim()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  })()]).catch(async (err) => {
    await terminate(child)
    throw err
  })
  return child
}
