import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../src/errors.js'
import type { ClientOptions } from '../../../src/index.js'
import { resolveOptions } from '../../../src/input/options.js'
import { buildFarewell, buildPublish, buildStream, buildSubscriptions } from '../../../src/input/requests.js'
import { editDistance, nearest } from '../../../src/input/unknown-options.js'
import { thrown } from '../../support/expect-error.js'

const url = 'ws://127.0.0.1:1'

/** The message resolveOptions refuses `options` with (beside a WebSocket, which Node 20 needs). */
const refusal = (options: object): string => thrown(() => resolveOptions(url, { WebSocket, ...options } as ClientOptions), InvalidArgumentError).message

/**
 * Every option of ClientOptions, each undefined. The type checker holds this list equal to the
 * interface's keys, as the source holds its own: the two are checked against each other at run time below.
 */
const EVERY_OPTION: Record<keyof ClientOptions, undefined> = {
  clientId: undefined,
  protocolVersion: undefined,
  clean: undefined,
  keepalive: undefined,
  username: undefined,
  password: undefined,
  credentials: undefined,
  will: undefined,
  reconnect: undefined,
  connectTimeout: undefined,
  servers: undefined,
  queueQoS0: undefined,
  topicAliases: undefined,
  onAuth: undefined,
  store: undefined,
  WebSocket: undefined,
  properties: undefined,
  maxInflight: undefined,
  queueLimit: undefined,
  maxPacketSize: undefined,
  endTimeout: undefined,
  coalesceWrites: undefined,
  subprotocol: undefined,
}

/** MQTT.js 5's own client options (IClientOptions and ISecureClientOptions), read from its type declarations. */
function mqttJsOptions(): string[] {
  const declarations = readFileSync(new URL('../../../node_modules/mqtt/build/lib/client.d.ts', import.meta.url), 'utf8')
  const names: string[] = []
  for (const block of ['ISecureClientOptions', 'IClientOptions']) {
    const body = declarations.slice(declarations.indexOf(`export interface ${block}`)).split('\n}')[0] as string
    // Four spaces: the interface's own members, not the fields of `servers`' element type.
    names.push(...[...body.matchAll(/^ {4}(\w+)\??:/gm)].map((m) => m[1] as string))
  }
  return names
}

describe('options the client does not know are refused, never ignored', () => {
  it('takes every option of ClientOptions', () => {
    expect(() => resolveOptions(url, { ...EVERY_OPTION, WebSocket })).not.toThrow()
  })

  it("takes every key of reconnect and of will", () => {
    const reconnect = { minDelay: 10, maxDelay: 20, factor: 2, jitter: false, maxAttempts: 3, resetAfter: 5 }
    const will = { topic: 'w', payload: 'bye', qos: 1 as const, retain: true, properties: {} }
    expect(resolveOptions(url, { WebSocket, protocolVersion: 5, reconnect, will }).reconnect).toMatchObject(reconnect)
  })

  it.each<[string, object, string]>([
    ['an unknown option', { x: 1 }, "unknown option 'x'"],
    ['an unknown option whose value is undefined (the key is the mistake, set or not)', { x: undefined }, "unknown option 'x'"],
    ['an MQTT.js option whose value is undefined', { reconnectPeriod: undefined }, "reconnectPeriod is MQTT.js's; use reconnect: { minDelay } (ms), or reconnect: false for 0"],
    ["keepAlive, keepalive's case wrong", { keepAlive: 30 }, "unknown option 'keepAlive'; did you mean keepalive?"],
    ["clientID, clientId's case wrong", { clientID: 'me' }, "unknown option 'clientID'; did you mean clientId?"],
    ['a letter missing', { reconect: false }, "unknown option 'reconect'; did you mean reconnect?"],
    ['two letters swapped', { cleintId: 'me' }, "unknown option 'cleintId'; did you mean clientId?"],
    ['two edits in a long name', { conectTimout: 5 }, "unknown option 'conectTimout'; did you mean connectTimeout?"],
    ['an own key named like an Object method', { toString: () => 'x' }, "unknown option 'toString'"],
    ['an own key named constructor', { constructor: 1 }, "unknown option 'constructor'"],
    ['a long unknown name, cut short', { ['y'.repeat(100)]: 1 }, `unknown option '${'y'.repeat(37)}...'`],
    ['an unknown key of reconnect', { reconnect: { period: 1000 } }, "unknown option 'reconnect.period'"],
    ['a near miss in reconnect', { reconnect: { maxDelays: 1000 } }, "unknown option 'reconnect.maxDelays'; did you mean reconnect.maxDelay?"],
    ["reconnect.minDelay's case wrong", { reconnect: { mindelay: 1000 } }, "unknown option 'reconnect.mindelay'; did you mean reconnect.minDelay?"],
    ['an unknown key of will', { will: { topic: 'w', payload: '', message: 'bye' } }, "unknown option 'will.message'"],
    ['a near miss in will', { will: { topc: 'w', payload: '' } }, "unknown option 'will.topc'; did you mean will.topic?"],
    ["an MQTT.js client option inside will, which is not answered as one", { will: { topic: 'w', payload: '', host: 'h' } }, "unknown option 'will.host'"],
  ])('refuses %s', (_, options, message) => {
    expect(refusal(options)).toBe(message)
  })

  it('refuses an unknown option before it judges the known ones', () => {
    expect(refusal({ keepalive: -1, reconnectPeriod: 1000 })).toBe("reconnectPeriod is MQTT.js's; use reconnect: { minDelay } (ms), or reconnect: false for 0")
  })

  it('leaves reconnect: false and a missing will alone', () => {
    expect(resolveOptions(url, { WebSocket, reconnect: false, will: undefined }).reconnect).toBe(false)
  })
})

describe("MQTT.js's options are answered with ours", () => {
  it.each<[string, unknown, string]>([
    ['reconnectPeriod', 1000, 'use reconnect: { minDelay } (ms), or reconnect: false for 0'],
    ['manualConnect', true, 'use new MqttClient(url, options), then client.open()'],
    ['transformWsUrl', () => 'ws://x', 'give the url as a function: connect((attempt) => url, options)'],
    ['wsOptions', { headers: {} }, 'use options.WebSocket (in Node, a subclass of ws)'],
    ['resubscribe', false, 'ours always subscribes again where the broker kept no session'],
    ['queueQoSZero', false, 'use queueQoS0'],
    ['incomingStore', {}, 'use store (one Store for outgoing QoS 1/2)'],
    ['outgoingStore', {}, 'use store (one Store for outgoing QoS 1/2)'],
    ['autoUseTopicAlias', true, "use topicAliases: 'auto' or false"],
    ['autoAssignTopicAlias', true, "use topicAliases: 'auto' or false"],
    ['host', 'localhost', 'put it in the URL'],
    ['port', 8888, 'put it in the URL'],
    ['protocol', 'ws', 'put it in the URL'],
    ['path', '/mqtt', 'put it in the URL'],
    ['reschedulePings', true, 'ours pings only when the link is idle'],
    ['protocolId', 'MQIsdp', 'use protocolVersion: 4 or 5 (MQTT 3.1 is not supported)'],
    ['rejectUnauthorized', false, 'use options.WebSocket (in Node, a subclass of ws)'],
    ['ca', 'pem', 'use options.WebSocket (in Node, a subclass of ws)'],
    ['customHandleAcks', () => undefined, 'ours acknowledges every message'],
    ['authPacket', {}, 'use properties.authenticationMethod and onAuth'],
  ])('%s', (name, value, hint) => {
    expect(refusal({ [name]: value })).toBe(`${name} is MQTT.js's; ${hint}`)
  })

  it("answers each of MQTT.js 5's client options that is not ours, and takes those that are", () => {
    const names = mqttJsOptions()
    // The parse found the interface: these are some of its options, ours and not ours.
    expect(names).toEqual(expect.arrayContaining(['reconnectPeriod', 'clientId', 'wsOptions', 'rejectUnauthorized', 'servers']))
    const ours = names.filter((name) => Object.hasOwn(EVERY_OPTION, name))
    expect(ours.sort()).toEqual(['clean', 'clientId', 'connectTimeout', 'keepalive', 'password', 'properties', 'protocolVersion', 'servers', 'username', 'will'])
    for (const name of names.filter((n) => !ours.includes(n))) {
      const message = refusal({ [name]: 1 })
      expect(message.startsWith(`${name} is MQTT.js's; `), message).toBe(true)
      // A hint that says something, not one cut to nothing.
      expect(message.length - `${name} is MQTT.js's; `.length, name).toBeGreaterThan(12)
    }
  })

  it('does not take a name inherited by every object for an MQTT.js option', () => {
    expect(refusal({ hasOwnProperty: 1 })).toBe("unknown option 'hasOwnProperty'")
  })
})

describe('the options of a request the client does not know are refused too', () => {
  const fails = (build: () => unknown) => thrown(build, InvalidArgumentError).message

  it.each<[string, () => unknown, string]>([
    ["publish with QoS for qos, which would publish at QoS 0", () => buildPublish('t', 'x', { QoS: 1 } as never, 4), "unknown publish option 'QoS'; did you mean qos?"],
    ["publish with MQTT.js's dup", () => buildPublish('t', 'x', { qos: 1, dup: true } as never, 4), "dup is MQTT.js's; ours sets DUP itself when it sends again"],
    [
      "publish with MQTT.js's cbStorePut",
      () => buildPublish('t', 'x', { cbStorePut: () => undefined } as never, 4),
      "cbStorePut is MQTT.js's; ours takes no callback: await the Promise",
    ],
    ['publish with an unknown option whose value is undefined', () => buildPublish('t', 'x', { ttl: undefined } as never, 4), "unknown publish option 'ttl'"],
    ['subscribe with an unknown option', () => buildSubscriptions('t', { qos: 1, noLocal: true } as never, 5), "unknown subscribe option 'noLocal'"],
    ["subscribe with MQTT.js's publish option dup, which is not answered for subscribe", () => buildSubscriptions('t', { dup: true } as never, 4), "unknown subscribe option 'dup'"],
    ['subscribe to a list with a near miss', () => buildSubscriptions(['a', 'b'], { qoss: 1 } as never, 4), "unknown subscribe option 'qoss'; did you mean qos?"],
    ["subscribe's object form with a near miss in one filter's options", () => buildSubscriptions({ a: { qos: 1 }, b: { Qos: 2 } as never }, undefined, 4), "unknown subscribe option 'Qos'; did you mean qos?"],
    ["subscribe's object form with a near miss in the shared options", () => buildSubscriptions({ a: { qos: 1 } }, { propreties: {} } as never, 5), "unknown subscribe option 'propreties'; did you mean properties?"],
    ['messages() with a near miss', () => buildStream({ bufferLimt: 5 }), "unknown messages option 'bufferLimt'; did you mean bufferLimit?"],
    ['end with a near miss', () => buildFarewell({ forced: true }, 4), "unknown end option 'forced'; did you mean force?"],
  ])('%s', (_, build, message) => {
    expect(fails(build)).toBe(message)
  })

  it('takes every option of publish, subscribe, messages() and end()', () => {
    expect(buildPublish('t', 'x', { qos: 1, retain: true, properties: { contentType: 'text/plain' } }, 5)).toMatchObject({ qos: 1, retain: true })
    expect(buildSubscriptions('t', { qos: 2, nl: true, rap: true, rh: 1, properties: { subscriptionIdentifier: 3 } }, 5)).toEqual([{ topic: 't', qos: 2, nl: true, rap: true, rh: 1 }])
    expect(buildSubscriptions({ a: { qos: 1, nl: false } }, { properties: {} }, 5)).toEqual([{ topic: 'a', qos: 1, nl: false }])
    expect(buildStream({ qos: 1, nl: true, rap: false, rh: 0, properties: {}, bufferLimit: 5, overflow: 'error' })).toMatchObject({ bufferLimit: 5, overflow: 'error', subscribe: { qos: 1 } })
    expect(buildFarewell({ force: true, reasonCode: 4, properties: {} }, 5)).toEqual({ reasonCode: 4, properties: {} })
  })
})

describe('reconnect given as a period, MQTT.js-style', () => {
  it.each<[string, unknown, string]>([
    ['a number of ms', 1000, 'not 1000'],
    ['0', 0, 'not 0'],
    ['null', null, 'not null'],
    ['a string', 'on', "not the string 'on'"],
  ])('refuses %s, which would otherwise be read as the defaults', (_, reconnect, what) => {
    expect(refusal({ reconnect })).toBe(`reconnect must be false or an object like { minDelay, maxDelay }, ${what}`)
  })

  it('takes true and undefined as the defaults', () => {
    for (const reconnect of [true, undefined]) {
      expect(resolveOptions(url, { WebSocket, reconnect: reconnect as never }).reconnect).toMatchObject({ minDelay: 1000, maxDelay: 30_000 })
    }
  })
})

describe('nearest: the known name an unknown one meant', () => {
  it.each<[string, string[], string | undefined]>([
    ['KEEPALIVE', ['keepalive'], 'keepalive'],
    ['clen', ['clean'], 'clean'],
    ['cln', ['clean'], undefined],
    ['abcxy', ['abcde'], undefined], // five characters: one edit at most
    ['abcdxy', ['abcdef'], 'abcdef'], // six: two
    ['abcdxyz', ['abcdefg'], undefined], // three edits: never
    ['maxDelays', ['minDelay', 'maxDelay'], 'maxDelay'], // the closest, not the first within reach
    ['aXcdef', ['abcdef', 'aXcdeY'], 'abcdef'], // a tie goes to the first
    ['anything', [], undefined],
  ])('%s among %j is %s', (key, known, meant) => {
    expect(nearest(key, known)).toBe(meant)
  })
})

describe('editDistance', () => {
  it.each<[string, string, number]>([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['abc', 'abc', 0],
    ['abc', 'abd', 1],
    ['abc', 'ab', 1],
    ['ab', 'abc', 1],
    ['ab', 'ba', 1],
    ['abcd', 'acbd', 1],
    ['kitten', 'sitting', 3],
    ['ca', 'abc', 3], // optimal string alignment: a swapped pair is not edited again
  ])('from %j to %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance)
  })
})
