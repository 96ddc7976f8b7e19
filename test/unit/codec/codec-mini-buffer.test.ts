import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import * as native from 'mqtt-packet'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MiniBufferConstructor } from '../../../src/codec/shims/mini-buffer.js'
import { codecAliases, codecShims } from '../../../vite.config.js'

/**
 * mqtt-packet as the browser bundles run it (on MiniBuffer, bl's BufferList, no debug), built
 * here and checked against mqtt-packet on Node's Buffer: the same bytes out, the same packets in.
 */
type Codec = { generate: typeof native.generate; parser: typeof native.parser; Buffer?: MiniBufferConstructor }

const root = fileURLToPath(new URL('../../..', import.meta.url))
let dir: string
let mini: Codec

beforeAll(async () => {
  dir = mkdtempSync(path.join(root, '.codec-test-'))
  const entry = path.join(dir, 'entry.js')
  // The bundle's own MiniBuffer goes out with the codec: mqtt-packet asks `instanceof Buffer` of that class.
  const fixture = fileURLToPath(new URL('./fixtures/mini-buffer-only.ts', import.meta.url))
  writeFileSync(entry, `export { generate, parser } from 'mqtt-packet'\nexport { Buffer } from ${JSON.stringify(fixture)}\n`)
  const result = await build({
    configFile: false,
    logLevel: 'silent',
    root: dir,
    plugins: [codecShims({ buffer: fixture })],
    resolve: { alias: codecAliases },
    build: { write: false, minify: false, lib: { entry, formats: ['es'], fileName: 'codec' } },
  })
  const output = (Array.isArray(result) ? result[0] : result) as { output: Array<{ type: string; code?: string }> }
  const file = path.join(dir, 'codec.mjs')
  writeFileSync(file, output.output.find((o) => o.type === 'chunk')?.code as string)
  mini = (await import(pathToFileURL(file).href)) as Codec
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

const bin = (...bytes: number[]) => Buffer.from(bytes)
const packets: Array<[string, 4 | 5, Record<string, unknown>]> = [
  ['connect with will and credentials', 4, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'cïd', clean: true, keepalive: 30, username: 'ü', password: bin(0, 1, 2), will: { topic: 'w/ü', payload: bin(9, 8), qos: 1, retain: true } }],
  ['connect 5 with properties', 5, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c5', clean: false, keepalive: 60, properties: { sessionExpiryInterval: 3600, receiveMaximum: 100, maximumPacketSize: 65536, topicAliasMaximum: 10, requestProblemInformation: true, userProperties: { a: 'b', multi: ['1', '2'] }, authenticationMethod: 'm', authenticationData: bin(7) }, will: { topic: 'w', payload: bin(), qos: 0, retain: false, properties: { willDelayInterval: 5, contentType: 'text/plain', correlationData: bin(1, 2) } } }],
  ['connack', 4, { cmd: 'connack', returnCode: 0, sessionPresent: true }],
  ['connack 5 with properties', 5, { cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { receiveMaximum: 20, maximumQoS: 1, assignedClientIdentifier: 'given', topicAliasMaximum: 5, serverKeepAlive: 30, userProperties: { k: 'v' } } }],
  ['publish qos 0, utf-8 topic', 4, { cmd: 'publish', topic: 'a/ü/温度/🌡', payload: Buffer.from('héllo'), qos: 0, retain: true, dup: false }],
  ['publish qos 2, every byte', 4, { cmd: 'publish', topic: 't', payload: Buffer.from(Array.from({ length: 256 }, (_, i) => i)), qos: 2, messageId: 65535, retain: false, dup: true }],
  ['publish 70 KiB', 4, { cmd: 'publish', topic: 'big', payload: Buffer.alloc(70_000, 0xab), qos: 1, messageId: 1, retain: false, dup: false }],
  ['publish 5 with properties', 5, { cmd: 'publish', topic: 't', payload: bin(1), qos: 1, messageId: 7, retain: false, dup: false, properties: { payloadFormatIndicator: true, messageExpiryInterval: 60, topicAlias: 3, responseTopic: 'r', correlationData: bin(4, 5), userProperties: { x: 'y' }, subscriptionIdentifier: 268435455, contentType: 'application/json' } }],
  ['puback', 4, { cmd: 'puback', messageId: 42 }],
  ['pubrec 5 with reason', 5, { cmd: 'pubrec', messageId: 3, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } }],
  ['pubrel', 4, { cmd: 'pubrel', messageId: 3 }],
  ['pubcomp', 4, { cmd: 'pubcomp', messageId: 3 }],
  ['subscribe', 4, { cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: '#', qos: 2 }] }],
  ['subscribe 5 with options', 5, { cmd: 'subscribe', messageId: 9, subscriptions: [{ topic: 'a/#', qos: 1, nl: true, rap: true, rh: 2 }], properties: { subscriptionIdentifier: 12, userProperties: { s: 't' } } }],
  ['suback', 4, { cmd: 'suback', messageId: 9, granted: [0, 1, 2, 128] }],
  ['unsubscribe', 4, { cmd: 'unsubscribe', messageId: 10, unsubscriptions: ['a/+', 'b'] }],
  ['unsuback', 4, { cmd: 'unsuback', messageId: 10 }],
  ['unsuback 5', 5, { cmd: 'unsuback', messageId: 10, granted: [0, 17] }],
  ['pingreq', 4, { cmd: 'pingreq' }],
  ['pingresp', 4, { cmd: 'pingresp' }],
  ['disconnect', 4, { cmd: 'disconnect' }],
  ['disconnect 5 with reason', 5, { cmd: 'disconnect', reasonCode: 0x8b, properties: { reasonString: 'bye', serverReference: 'other' } }],
  ['auth 5', 5, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'scram', authenticationData: bin(1, 2, 3) } }],
]

/** The packet with every Node Buffer turned into a MiniBuffer, as our encoder hands it over in browsers. */
function toMini(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return (mini.Buffer as MiniBufferConstructor).from([...value])
  if (Array.isArray(value)) return value.map(toMini)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toMini(v)]))
  return value
}

/** Comparable form: bytes as plain arrays, whichever Buffer made them. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] }
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  return value
}

function parseWith(codec: Codec, bytes: Uint8Array, protocolVersion: 4 | 5, wrap: (b: Uint8Array) => Uint8Array): unknown[] {
  const out: unknown[] = []
  const p = codec.parser({ protocolVersion })
  p.on('packet', (packet: unknown) => out.push(packet))
  p.on('error', (err: Error) => out.push({ error: err.message }))
  p.parse(wrap(bytes) as Buffer)
  return out
}

describe('mqtt-packet on MiniBuffer against mqtt-packet on Node Buffer', () => {
  it.each(packets)('encodes %s to the same bytes', (_, protocolVersion, packet) => {
    const expected = native.generate(packet as unknown as native.Packet, { protocolVersion })
    const actual = mini.generate(toMini(packet) as unknown as native.Packet, { protocolVersion })
    expect([...actual]).toEqual([...expected])
  })

  it.each(packets)('decodes %s to the same packet', (_, protocolVersion, packet) => {
    const bytes = native.generate(packet as unknown as native.Packet, { protocolVersion })
    const expected = parseWith(native, bytes, protocolVersion, (b) => b)
    const actual = parseWith(mini, bytes, protocolVersion, (b) => (mini.Buffer as MiniBufferConstructor).from([...b]))
    expect(plain(actual)).toEqual(plain(expected))
    expect(actual).toHaveLength(1)
  })

  it('reports the same error for malformed bytes', () => {
    for (const bytes of [bin(0x30, 0x03, 0x00, 0x09, 0x41), bin(0x60, 0x02, 0x00, 0x01), bin(0x20, 0x02, 0x00, 0x09)]) {
      const expected = parseWith(native, bytes, 4, (b) => b)
      const actual = parseWith(mini, bytes, 4, (b) => (mini.Buffer as MiniBufferConstructor).from([...b]))
      expect(plain(actual)).toEqual(plain(expected))
    }
  })

  it('throws from generate on a packet it cannot write, as on Node (its small EventEmitter throws an unheard error)', () => {
    const bad = { cmd: 'subscribe', messageId: 1, subscriptions: [] } as unknown as native.Packet
    expect(() => native.generate(bad)).toThrow()
    expect(() => mini.generate(bad)).toThrow()
  })
})
