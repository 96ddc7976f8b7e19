import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connect, connectAsync, type MqttClient } from '../../src/index.js'
import { freePort } from '../support/free-port.js'
import { waitUntil } from '../support/wait.js'

const CLI = fileURLToPath(new URL('../support/broker-cli.js', import.meta.url))

type Cli = { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> }

const running: Cli[] = []
const clients: MqttClient[] = []
const holders: net.Server[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
  for (const cli of running.splice(0)) cli.child.kill('SIGKILL')
  await Promise.all(holders.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

/** `npm run broker` as a child process; TCP on a port the OS picks unless the env says otherwise. */
function runCli(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, BROKER_TCP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => (stdout += chunk))
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const cli = { child, stdout: () => stdout, stderr: () => stderr, exited }
  running.push(cli)
  return cli
}

/** Its exit code, or a failure by name if it is still running after 10 s. */
async function exitCode(cli: Cli): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the broker CLI did not exit within 10 s; stderr: ${cli.stderr()}`)), 10_000)
  })
  try {
    return await Promise.race([cli.exited, stuck])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves once the CLI has printed its last start-up line (where it persists to). */
async function started(cli: Cli): Promise<void> {
  await waitUntil(() => cli.stdout().includes('Sessions and retained messages:') || cli.child.exitCode !== null, 10_000)
  if (cli.child.exitCode !== null) throw new Error(`the broker CLI exited (${cli.child.exitCode}): ${cli.stderr()}`)
}

/** Holds a loopback port, as a second `npm run broker` or the demo would. */
async function holdPort(): Promise<number> {
  const server = net.createServer()
  holders.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as net.AddressInfo).port
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at /m)

describe('npm run broker, given what it cannot use', () => {
  it('says the WebSocket port is in use, what may hold it and what to set, and exits 1 without a stack trace', async () => {
    const port = await holdPort()
    const cli = runCli([], { BROKER_PORT: String(port) })
    expect(await exitCode(cli)).toBe(1)
    expect(cli.stderr()).toBe(`port ${port} is in use: is npm run demo already running? set BROKER_PORT (or --port) to another port\n`)
  })

  it('serves WebSocket only, with a warning, when the TCP port is in use', async () => {
    const tcpPort = await holdPort()
    const port = await freePort()
    const cli = runCli(['--port', String(port)], { BROKER_TCP_PORT: String(tcpPort) })
    await started(cli)
    expect(cli.stderr()).toContain(`TCP port ${tcpPort} is in use`)
    expect(cli.stdout()).toContain(`MQTT over WebSocket: ws://localhost:${port}`)
    expect(cli.stdout()).not.toContain('MQTT over TCP')
    const client = await connectAsync(`ws://127.0.0.1:${port}`, { WebSocket, reconnect: false })
    clients.push(client)
    expect(client.connected).toBe(true)
  })

  it('names an unknown flag, points to --help and exits 1 without a stack trace', async () => {
    const cli = runCli(['--persits', 'x'])
    expect(await exitCode(cli)).toBe(1)
    expect(cli.stderr()).toBe("Unknown option '--persits'\nnpm run broker -- --help lists the options\n")
    expect(cli.stdout()).toBe('')
  })

  it('refuses a port that is not a number, naming where it came from', async () => {
    const cli = runCli([], { BROKER_PORT: 'eighty' })
    expect(await exitCode(cli)).toBe(1)
    expect(cli.stderr()).toContain("BROKER_PORT must be a port number from 0 to 65535, not 'eighty'")
  })

  it('lists its options on --help and exits 0', async () => {
    const cli = runCli(['--help'])
    expect(await exitCode(cli)).toBe(0)
    for (const flag of ['--port N', '--persist DIR', '--redis URL', '--help']) expect(cli.stdout()).toContain(flag)
  })

  it('says it cannot reach Redis, and exits 1 rather than retrying', async () => {
    const redisPort = await freePort()
    const cli = runCli(['--port', String(await freePort()), '--redis', `redis://127.0.0.1:${redisPort}`])
    expect(await exitCode(cli)).toBe(1)
    expect(cli.stderr()).toBe(`cannot reach Redis at redis://127.0.0.1:${redisPort}: is redis-server running?\n`)
  })
})

describe('npm run broker -- --persist DIR', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'ts-mqtt-ws-cli-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('says where it persists, refuses the folder to a second broker, and resumes a clean: false session after a restart', async () => {
    const folder = path.join(dir, 'data')
    const port = await freePort()
    const url = `ws://127.0.0.1:${port}`
    const first = runCli(['--persist', folder, '--port', String(port)])
    await started(first)
    expect(first.stdout()).toContain(`Sessions and retained messages: LevelDB in ${folder}`)

    const second = runCli(['--persist', folder, '--port', String(await freePort())])
    expect(await exitCode(second)).toBe(1)
    expect(second.stderr()).toContain(`cannot open ${folder}: another broker has it open`)
    noStackTrace(second.stderr())

    const away = await connectAsync(url, { WebSocket, clientId: 'cli-keeper', clean: false, reconnect: false })
    await away.subscribe('cli/queue', { qos: 1 })
    await away.end()
    const pub = await connectAsync(url, { WebSocket, reconnect: false })
    await pub.publish('cli/queue', 'queued while away', { qos: 1 })
    await pub.end()

    first.child.kill('SIGINT')
    expect(await exitCode(first)).toBe(0)
    const again = runCli(['--persist', folder, '--port', String(port)])
    await started(again)

    const back = connect(url, { WebSocket, clientId: 'cli-keeper', clean: false, reconnect: false })
    clients.push(back)
    const texts: string[] = []
    back.on('message', (_topic, payload) => texts.push(new TextDecoder().decode(payload)))
    await new Promise<void>((resolve) => back.once('connect', () => resolve()))
    expect(back.connack?.sessionPresent).toBe(true)
    await waitUntil(() => texts.length > 0)
    expect(texts).toEqual(['queued while away'])
  })
})
