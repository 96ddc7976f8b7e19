import { execFile } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startAedesBroker } from '../support/aedes-broker.js'
import { installConsumer, sharedTarball } from '../support/consumer.js'
import { installExample } from '../support/examples.js'

const run = promisify(execFile)

// The packed package as Node users get it: an ES module script and a CommonJS script, each in a
// project that installed the tarball, on Node 20 with `ws` passed in.
const script = (importLine: string) => `${importLine}
const [url, topic] = process.argv.slice(2)
const where = MODULE_PATH
const client = await connectAsync(url, { WebSocket })
const got = new Promise((resolve) => client.subscribe(topic, { qos: 1 }, (msg) => resolve(msg.text())))
await new Promise((r) => setTimeout(r, 20))
await client.publish(topic, 'hello from ' + FORMAT, { qos: 1 })
console.log(JSON.stringify({ where, received: await got }))
await client.end()
`

const esm = script(`import { connectAsync } from 'ts-mqtt-ws'
import WebSocket from 'ws'
const MODULE_PATH = import.meta.resolve('ts-mqtt-ws')
const FORMAT = 'esm'`)

const cjs = `(async () => {
${script(`const { connectAsync } = require('ts-mqtt-ws')
const WebSocket = require('ws')
const MODULE_PATH = require.resolve('ts-mqtt-ws')
const FORMAT = 'cjs'`)}
})().catch((err) => { console.error(err); process.exit(1) })
`

let dir: string
let example: string
let broker: Awaited<ReturnType<typeof startAedesBroker>>

beforeAll(async () => {
  const tarball = await sharedTarball(inject('runDir'))
  dir = await installConsumer(tarball, ['ws@^8'])
  example = await installExample('node', tarball)
  await writeFile(path.join(dir, 'consumer.mjs'), esm)
  await writeFile(path.join(dir, 'consumer.cjs'), cjs)
  broker = await startAedesBroker({ port: 0 })
}, 180_000)

afterAll(async () => {
  await broker?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
  if (example) await rm(example, { recursive: true, force: true })
})

describe('the packed package in Node', () => {
  it.each([
    ['an ES module script', 'consumer.mjs', 'esm', /node_modules\/ts-mqtt-ws\/dist\/ts-mqtt-ws\.js$/],
    ['a CommonJS script', 'consumer.cjs', 'cjs', /node_modules\/ts-mqtt-ws\/dist\/ts-mqtt-ws\.cjs$/],
  ])('works from %s', async (_, file, format, resolved) => {
    const { stdout } = await run('node', [file, broker.url, `consumer/${format}`], { cwd: dir, timeout: 20_000 })
    const result = JSON.parse(stdout.trim()) as { where: string; received: string }
    expect(result.received).toBe(`hello from ${format}`)
    expect(result.where).toMatch(resolved)
  })
})

describe('examples/node, installed from the packed tarball', () => {
  it('connects, receives what it publishes, prints a caller error by its class name, and exits', async () => {
    const topic = 'consumer/example'
    const { stdout } = await run('node', ['index.js', broker.url, topic], { cwd: example, timeout: 20_000 })
    const [connected, ...rest] = stdout.trim().split('\n')
    expect(connected).toMatch(new RegExp(`^connected to ${broker.url} as ts-mqtt-ws_[0-9a-f]{8}$`))
    expect(rest).toEqual([
      `received ${topic}: hello from Node`,
      `refused: InvalidTopicError: Invalid topic "${topic}/+": wildcards (+ and #) are not allowed in a topic name`,
    ])
  })
})
