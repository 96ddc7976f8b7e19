import { execFileSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ClientOptions, connect, connectAsync, ConnectionRefusedError, MqttClient, TransportError } from '../../src/index.js'
import { rejection } from '../support/expect-error.js'
import { startFakeBroker } from '../support/fake-broker.js'
import { freePort } from '../support/free-port.js'
import { mosquittoAvailable, startMosquitto } from '../support/mosquitto.js'
import { waitUntil } from '../support/wait.js'

/**
 * Credentials given to the client never come back out of it: not in an event, an error (its
 * message, stack, cause or fields), client.options, a packetsend payload, the console, or what it
 * tells other clients over BroadcastChannel. Each secret is given where a caller would put it
 * (the password, userinfo and a token in the URL, MQTT 5 authenticationData and the onAuth
 * answers) and the client is driven through the failures whose messages are likeliest to quote
 * them. Everything it puts out is gathered and searched for each secret as text, in base64 (an
 * Authorization header), and as bytes inside any Uint8Array or ArrayBuffer.
 */
const SECRETS = {
  password: 'pw-S3CRET-7f1a93',
  urlToken: 'tok-S3CRET-92bd51',
  userinfoPassword: 'ui-S3CRET-c04e27',
  authenticationData: 'auth-S3CRET-5e8810',
  onAuthAnswer: 'answer-S3CRET-0d3b64',
  reauthenticationData: 'reauth-S3CRET-a4419c',
}
const METHOD = 'TEST-CHALLENGE'
const bytes = (s: string) => new TextEncoder().encode(s)

/** Everything gathered: the values themselves, searched once the sessions are over. */
const gathered: Array<{ where: string; value: unknown }> = []
const eventCounts = new Map<string, number>()
const clients = new Set<MqttClient>()
const gather = (where: string, value: unknown) => gathered.push({ where, value })

/** Every string and every byte sequence reachable from `value`, within a bound so a deep graph cannot hang the test. */
function flatten(value: unknown): { texts: string[]; blobs: Uint8Array[] } {
  const texts: string[] = []
  const blobs: Uint8Array[] = []
  const seen = new Set<unknown>()
  const queue: unknown[] = [value]
  for (let visited = 0; queue.length > 0 && visited < 100_000; visited++) {
    const v = queue.shift()
    if (typeof v === 'string') texts.push(v)
    else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') texts.push(String(v))
    else if (typeof v === 'function') texts.push(v.name)
    if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue
    seen.add(v)
    if (v instanceof ArrayBuffer) blobs.push(new Uint8Array(v))
    else if (ArrayBuffer.isView(v)) blobs.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
    if (v instanceof Error) texts.push(String(v), v.message, v.stack ?? '')
    if (typeof v === 'function') continue // a constructor or hook the caller gave: its own code, not our output
    try {
      texts.push(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ?? '')
    } catch {
      // A cycle: the walk below still reaches every field.
    }
    for (const key of Object.getOwnPropertyNames(v)) {
      texts.push(key)
      queue.push((v as Record<string, unknown>)[key])
    }
    if (v instanceof Map || v instanceof Set) for (const entry of v) queue.push(entry)
  }
  return { texts, blobs }
}

function contains(blob: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).includes(Buffer.from(needle))
}

/** Where each secret shows up in `values`, as "secret in where". Empty when nothing leaks. */
function leaks(values: Array<{ where: string; value: unknown }>): string[] {
  const found: string[] = []
  for (const { where, value } of values) {
    const { texts, blobs } = flatten(value)
    for (const [name, secret] of Object.entries(SECRETS)) {
      const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(`alice:${secret}`).toString('base64')]
      const inText = texts.find((t) => forms.some((f) => t.includes(f)))
      if (inText !== undefined) found.push(`${name} in ${where}: ${inText.slice(0, 200)}`)
      else if (blobs.some((b) => contains(b, bytes(secret)))) found.push(`${name} in ${where} (as bytes)`)
    }
  }
  return [...new Set(found)]
}

/** The URL with every secret a caller might put in one. */
const secretUrl = (port: number, rest = '') =>
  `ws://alice:${SECRETS.userinfoPassword}@127.0.0.1:${port}/mqtt?token=${SECRETS.urlToken}${rest}`

const secretOptions = (extra: ClientOptions = {}): ClientOptions => ({
  WebSocket,
  protocolVersion: 5,
  username: 'alice',
  password: SECRETS.password,
  properties: { authenticationMethod: METHOD, authenticationData: bytes(SECRETS.authenticationData) },
  onAuth: () => bytes(SECRETS.onAuthAnswer),
  ...extra,
})

describe('credentials never leak', () => {
  const prototype = MqttClient.prototype as unknown as { emit: (this: MqttClient, event: string, ...args: unknown[]) => boolean }
  const console_ = console as unknown as Record<string, (...args: unknown[]) => void>
  const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const
  const originals = new Map<string, (...args: unknown[]) => void>()
  let channel: BroadcastChannel

  beforeAll(() => {
    // Every event of every client, whoever made it (connectAsync makes its own).
    const emit = Object.getPrototypeOf(MqttClient.prototype).emit as typeof prototype.emit
    Object.defineProperty(MqttClient.prototype, 'emit', {
      configurable: true,
      writable: true,
      value: function (this: MqttClient, event: string, ...args: unknown[]) {
        clients.add(this)
        eventCounts.set(event, (eventCounts.get(event) ?? 0) + 1)
        gather(`event ${event}`, args)
        return emit.call(this, event, ...args)
      },
    })
    // The client builds packet events only for a listener: every client gets one as it opens.
    const open = MqttClient.prototype.open
    Object.defineProperty(MqttClient.prototype, 'open', {
      configurable: true,
      writable: true,
      value: function (this: MqttClient) {
        if (!clients.has(this)) this.on('packetsend', () => undefined).on('packetreceive', () => undefined)
        clients.add(this)
        return open.call(this)
      },
    })
    for (const name of consoleMethods) {
      originals.set(name, console_[name] as (...args: unknown[]) => void)
      console_[name] = (...args: unknown[]) => gather(`console.${name}`, args)
    }
    // What a client tells the other clients of this process (or browser) about its session.
    channel = new BroadcastChannel('ts-mqtt-ws/sessions')
    channel.onmessage = (event: MessageEvent) => gather('BroadcastChannel', event.data)
  })

  afterAll(async () => {
    await Promise.all([...clients].map((c) => c.end({ force: true })))
    delete (MqttClient.prototype as unknown as Partial<typeof prototype>).emit
    delete (MqttClient.prototype as Partial<MqttClient>).open
    for (const [name, original] of originals) console_[name] = original
    channel?.close()
  })

  it('finds a secret where one is, as text and as bytes (the search itself works)', () => {
    expect(leaks([{ where: 'a planted error', value: new Error('x', { cause: { url: secretUrl(1) } }) }])).toEqual([
      expect.stringContaining('urlToken in a planted error'),
      expect.stringContaining('userinfoPassword in a planted error'),
    ])
    expect(leaks([{ where: 'planted bytes', value: { p: bytes(`..${SECRETS.password}..`).buffer } }])).toEqual(['password in planted bytes (as bytes)'])
  })

  it('keeps them out of everything it puts out, across an AUTH exchange, re-authentication, a dropped connection and a refused CONNACK', async () => {
    // First connection: a challenge, then accepted; the second is refused as bad credentials.
    const broker = await startFakeBroker({
      protocolVersion: 5,
      script: (conn) => (packet) => {
        const second = broker.connections.indexOf(conn) > 0
        const auth = (reasonCode: number, data?: string) =>
          conn.send({ cmd: 'auth', reasonCode, properties: { authenticationMethod: METHOD, ...(data ? { authenticationData: Buffer.from(data) } : {}) } })
        if (packet.cmd === 'connect' && second) conn.send({ cmd: 'connack', reasonCode: 0x86, sessionPresent: false, properties: { reasonString: 'bad user name or password' } })
        else if (packet.cmd === 'connect') auth(0x18, 'challenge')
        else if (packet.cmd === 'auth' && packet.reasonCode === 0x18) conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { authenticationMethod: METHOD } })
        else if (packet.cmd === 'auth' && packet.reasonCode === 0x19) auth(0)
        else if (packet.cmd === 'subscribe') conn.send({ cmd: 'suback', messageId: packet.messageId, granted: [1] })
        else if (packet.cmd === 'publish') {
          conn.send({ cmd: 'puback', messageId: packet.messageId, reasonCode: 0 })
          conn.send({ ...packet, messageId: 7, dup: false })
        }
      },
    })
    try {
      const c = await connectAsync(secretUrl(broker.port), secretOptions({ reconnect: { minDelay: 10, maxDelay: 10 } }))
      const got = new Promise((resolve) => void c.subscribe('leak/test', { qos: 1 }, resolve))
      await c.publish('leak/test', 'hello', { qos: 1 })
      await got
      await c.reauthenticate(bytes(SECRETS.reauthenticationData))
      // The secrets did reach the broker, so their absence below means something.
      const first = broker.connections[0]
      const connectPacket = first?.packets.find((p) => p.cmd === 'connect') as { password?: Buffer; properties?: { authenticationData?: Buffer } }
      expect([String(connectPacket.password), String(connectPacket.properties?.authenticationData)]).toEqual([SECRETS.password, SECRETS.authenticationData])
      expect(first?.path).toContain(SECRETS.urlToken)

      const closed = new Promise<void>((resolve) => c.once('close', resolve))
      first?.socket.terminate() // a dropped connection: the client reconnects, and is refused
      await closed
      await waitUntil(() => c.state === 'disconnected' || c.state === 'closed')
      gather('client.options', c.options)
      gather('client.connack', c.connack)
      await c.end({ force: true })
    } finally {
      await broker.close()
    }
  })

  it('keeps them out when a url function and a credentials hook give them, through an answer refused and a hook that throws', async () => {
    const broker = await startFakeBroker({
      protocolVersion: 5,
      script: (conn) => (packet) => {
        if (packet.cmd === 'connect') conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false })
      },
    })
    try {
      let calls = 0
      const c = connect(async () => secretUrl(broker.port), {
        WebSocket,
        protocolVersion: 5,
        reconnect: { minDelay: 5, maxDelay: 5 },
        credentials: () => {
          calls++
          // A user name the client cannot send, beside the password: the error says which, and shows neither.
          if (calls === 2) return { username: 42 as unknown as string, password: SECRETS.password }
          if (calls === 3) throw new Error('token service down')
          return { username: 'alice', password: SECRETS.password }
        },
      })
      await waitUntil(() => c.connected)
      expect(broker.connections[0]?.path).toContain(SECRETS.urlToken)
      broker.connections[0]?.socket.terminate()
      await waitUntil(() => calls >= 4 && c.connected)
      expect(String((broker.connections[1]?.packets.find((p) => p.cmd === 'connect') as { password?: Buffer }).password)).toBe(SECRETS.password)
      gather('client.options', c.options)
      await c.end({ force: true })
    } finally {
      await broker.close()
    }
  })

  it('keeps them out of what a refused Mosquitto CONNACK (bad password) gives back, on MQTT 5 and 3.1.1', async ({ skip }) => {
    if (!mosquittoAvailable()) return skip()
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ts-mqtt-ws-passwords-'))
    const passwords = path.join(dir, 'passwords')
    execFileSync('mosquitto_passwd', ['-b', '-c', passwords, 'alice', 'the-right-one'])
    const broker = await startMosquitto({ extraConfig: `allow_anonymous false\npassword_file ${passwords}` })
    try {
      for (const protocolVersion of [5, 4] as const) {
        const options: ClientOptions = { WebSocket, protocolVersion, username: 'alice', password: SECRETS.password, reconnect: false }
        const error = await rejection(connectAsync(secretUrl(broker.port), options), ConnectionRefusedError)
        gather(`Mosquitto refusal (MQTT ${protocolVersion})`, error)
      }
    } finally {
      await broker.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('keeps them out of a transport error to a closed port, over several reconnect attempts', async () => {
    const port = await freePort()
    gather('connectAsync to a closed port: rejection', await rejection(connectAsync(secretUrl(port), secretOptions({ reconnect: false })), TransportError))
    const c = connect(secretUrl(port), secretOptions({ reconnect: { minDelay: 5, maxDelay: 5, maxAttempts: 2 } }))
    await waitUntil(() => c.state === 'disconnected' || c.state === 'closed')
    gather('client.options', c.options)
    await c.end({ force: true })
    expect(eventCounts.get('error') ?? 0).toBeGreaterThanOrEqual(3)
  })

  it('keeps them out of the error when the WebSocket cannot even be made (ws refuses a URL with a fragment)', async () => {
    const error = await rejection(connectAsync(secretUrl(1883, '#part'), secretOptions({ reconnect: false })), TransportError)
    gather('a WebSocket that throws: rejection', error)
    // What is left of the address still says which broker it was.
    expect(error.message).toMatch(/^Cannot open WebSocket to ws:\/\/127\.0\.0\.1:1883\/mqtt\?…: /)
  })

  it('leaves nothing behind in all it gathered', () => {
    expect(gathered.length).toBeGreaterThan(20)
    // The packets that carried the secrets to the broker were among them.
    const sent = gathered.filter((g) => g.where === 'event packetsend').map((g) => (g.value as [{ cmd: string }])[0].cmd)
    expect(new Set(sent)).toEqual(new Set(['connect', 'auth', 'subscribe', 'publish', 'puback', 'disconnect']))
    expect(leaks(gathered)).toEqual([])
    if (process.env.LEAK_FIGURES) process.stdout.write(`${gathered.length} values gathered; events ${JSON.stringify(Object.fromEntries(eventCounts))}\n`)
  })
})
