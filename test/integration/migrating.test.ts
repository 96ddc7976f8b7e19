import { readFileSync } from 'node:fs'
import { format } from 'node:util'
import * as mqttjs from 'mqtt'
import ts from 'typescript'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import * as ours from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'

/**
 * MIGRATING.md's before/after examples, run: each "before" with MQTT.js 5 and each "after" with
 * this package, both against a fresh aedes broker, and each pair must give the same observable
 * result: the lines it prints, and what the broker saw (connections' request paths,
 * subscriptions, publishes).
 *
 * An example is a fenced block whose info string is `js before:<name>` or `ts after:<name>`. The
 * examples connect to ws://localhost:8888, the demo
 * broker's address, which is replaced by the test broker's.
 */

const DEMO_URL = 'ws://localhost:8888'
const doc = readFileSync(new URL('../../MIGRATING.md', import.meta.url), 'utf8')

interface Example {
  code: string
  language: 'js' | 'ts'
}

function examples(): Map<string, { before?: Example; after?: Example }> {
  const pairs = new Map<string, { before?: Example; after?: Example }>()
  for (const m of doc.matchAll(/^```(js|ts) (before|after):([\w-]+)\n([\s\S]*?)^```$/gm)) {
    const [, language, side, name, code] = m as unknown as [string, 'js' | 'ts', 'before' | 'after', string, string]
    const pair = pairs.get(name) ?? {}
    if (pair[side]) throw new Error(`MIGRATING.md has two ${side}:${name} blocks`)
    pair[side] = { code, language }
    pairs.set(name, pair)
  }
  return pairs
}

/** What one run shows: its printed lines and the broker's view. */
interface Observed {
  printed: string[]
  broker: string[]
}

/** A client either library made: it is done when it emits 'end'. */
interface Ending {
  once(event: 'end', listener: () => void): unknown
}

/** Tracks a client an example made; `stop` ends it at once, should the example leave it running. */
type Track = (client: Ending, stop: () => void) => void

/**
 * Runs one example as a module body: its imports are taken from `modules` (import X from,
 * import { a, b } from, import * as X from), its console is ours, and it is finished when its
 * body has run and every client it made has ended.
 */
async function run(example: Example, brokerUrl: string, makeModules: (track: Track) => Record<string, Record<string, unknown>>): Promise<string[]> {
  const printed: string[] = []
  const ends: Promise<void>[] = []
  const running = new Set<() => void>()
  const modules = makeModules((client, stop) => {
    running.add(stop)
    ends.push(new Promise((resolve) => client.once('end', () => resolve(void running.delete(stop)))))
  })
  let code = ts.transpileModule(example.code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
  code = code.replace(/^import (.+) from '([^']+)';?$/gm, (_, what: string, from: string) => {
    if (!(from in modules)) throw new Error(`an example imports ${from}, which the test does not provide`)
    const source = `__modules[${JSON.stringify(from)}]`
    if (what.startsWith('* as ')) return `const ${what.slice(5)} = ${source}`
    if (what.startsWith('{')) return `const ${what.replace(/ as /g, ': ')} = ${source}`
    return `const ${what} = ${source}.default`
  })
  if (/^import /m.test(code)) throw new Error(`an import the test cannot read:\n${code}`)
  code = code.replaceAll(DEMO_URL, brokerUrl)
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>
  const console = { log: (...args: unknown[]) => printed.push(format(...args)), error: (...args: unknown[]) => printed.push(`error: ${format(...args)}`) }
  try {
    await new AsyncFunction('__modules', 'console', code)(modules, console)
    expect(ends.length, 'the example made no client').toBeGreaterThan(0)
    await bounded(Promise.all(ends), 'every client the example made to end')
    return printed
  } finally {
    for (const stop of running) stop()
  }
}

/** Waits for `promise`, failing by name after 10 s rather than by the test's timeout. */
async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited 10 s for ${what}`)), 10_000)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** MQTT.js as the examples import it, each client it makes tracked. */
const mqttModules = (track: Track) => {
  const connect = (...args: Parameters<typeof mqttjs.connect>) => {
    const client = mqttjs.connect(...args)
    track(client, () => client.end(true))
    return client
  }
  return { mqtt: { ...mqttjs, connect, default: { ...mqttjs.default, connect } } }
}

/** This package as the examples import it, each client it makes tracked. */
const ourModules = (track: Track) => {
  const tracked = (client: ours.MqttClient) => {
    track(client, () => void client.end({ force: true }))
    return client
  }
  const connect = (...args: Parameters<typeof ours.connect>) => tracked(ours.connect(...args))
  const connectAsync = (...args: Parameters<typeof ours.connectAsync>) => {
    const made = ours.connectAsync(...args)
    made.then(tracked, () => undefined)
    return made
  }
  return { 'ts-mqtt-ws': { ...ours, connect, connectAsync }, ws: { default: WebSocket } }
}

/** Runs an example against a fresh broker, and records what the broker saw beside what it printed. */
async function observe(example: Example, modules: typeof mqttModules | typeof ourModules): Promise<Observed> {
  const broker = await startAedesBroker({ port: 0 })
  const seen: string[] = []
  broker.aedes.on('client', (client) => {
    const path = (client as unknown as { req?: { url?: string } }).req?.url
    // Each library makes up an id of its own when given none.
    const id = /^(mqttjs|ts-mqtt-ws)_[0-9a-f]+$/.test(client.id) ? '(an id made up)' : client.id
    seen.push(`connection to ${path} as ${id}`)
  })
  broker.aedes.on('subscribe', (subscriptions, client) => {
    if (client) seen.push(...subscriptions.map((s) => `subscribe ${s.topic} at QoS ${s.qos}`))
  })
  broker.aedes.on('publish', (packet, client) => {
    if (client) seen.push(`publish ${packet.topic} ${String(packet.payload)} at QoS ${packet.qos}`)
  })
  try {
    const printed = await run(example, broker.url, modules)
    return { printed, broker: seen }
  } finally {
    await broker.close()
  }
}

/** Whether `connect` takes a URL function yet (another change adds it). */

const pairs = examples()

/** MQTT.js 5's client options (IClientOptions and ISecureClientOptions), read from its type declarations. */
function mqttJsOptions(): string[] {
  const declarations = readFileSync(new URL('../../node_modules/mqtt/build/lib/client.d.ts', import.meta.url), 'utf8')
  return ['ISecureClientOptions', 'IClientOptions'].flatMap((block) => {
    const body = declarations.slice(declarations.indexOf(`export interface ${block}`)).split('\n}')[0] as string
    // Four spaces: the interface's own members, not the fields of `servers`' element type.
    return [...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1] as string)
  })
}

describe('MIGRATING.md', () => {
  it('has a handful of before/after pairs, each with both sides', () => {
    expect(pairs.size).toBeGreaterThanOrEqual(4)
    expect(pairs.size).toBeLessThanOrEqual(6)
    for (const [name, pair] of pairs) {
      expect(pair.before?.language, `${name}: before`).toBe('js')
      expect(pair.after?.language, `${name}: after`).toBe('ts')
    }
  })

  it("names each of MQTT.js 5's client options in its table of options", () => {
    const table = doc.slice(doc.indexOf('## Options'), doc.indexOf('## Methods'))
    const names = mqttJsOptions()
    expect(names).toEqual(expect.arrayContaining(['reconnectPeriod', 'wsOptions', 'rejectUnauthorized']))
    // `my` is MQTT.js's scratch field for its own use, not a setting.
    const missing = names.filter((name) => name !== 'my' && !table.includes(`\`${name}`))
    expect(missing).toEqual([])
  })

  describe.each([...pairs])('the %s example', (_, pair) => {
    it('prints and sends the same with this package as with MQTT.js', async () => {
      const before = await observe(pair.before as Example, mqttModules)
      const after = await observe(pair.after as Example, ourModules)
      expect(before.printed.length, 'the MQTT.js example printed nothing').toBeGreaterThan(0)
      expect(after).toEqual(before)
    })
  })
})
