import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { freePort } from './free-port.js'
import { accepts, terminate } from './server-process.js'

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server']

function binary() {
  const found = CANDIDATES.find((p) => existsSync(p))
  if (found) return found
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' })
  return which.status === 0 ? which.stdout.trim() : undefined
}

/** Whether a redis-server binary is here to start (Debian's package, or one on PATH). */
export function redisAvailable() {
  return binary() !== undefined
}

/**
 * A throwaway redis-server on a free loopback port, its working folder a temp folder, saving
 * nothing to disk: the broker's Redis persistence tests run against it.
 *
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startRedis() {
  const bin = binary()
  if (!bin) throw new Error('redis-server is not installed (apt-get install -y redis-server)')
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-redis-'))
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (chunk) => (output += chunk))
  child.stderr.on('data', (chunk) => (output += chunk))
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  child.once('exit', () => process.off('exit', killOnExit))

  let closed
  const close = () =>
    (closed ??= (async () => {
      await terminate(child)
      await rm(dir, { recursive: true, force: true })
    })())
  try {
    await ready(child, port, () => output)
  } catch (err) {
    await close()
    throw err
  }
  return { url: `redis://127.0.0.1:${port}`, port, close }
}

/** Resolves once the port accepts connections; rejects if the server exits first or takes over 10 s. */
async function ready(child, port, output) {
  const exited = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`redis-server exited (code ${code}) before it was ready: ${output().trim()}`))),
  )
  exited.catch(() => undefined)
  const deadline = Date.now() + 10_000
  const polled = (async () => {
    while (!(await accepts(port))) {
      if (child.exitCode !== null) return
      if (Date.now() > deadline) throw new Error(`redis-server did not accept connections within 10 s: ${output().trim()}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  })()
  await Promise.race([exited, polled])
}
