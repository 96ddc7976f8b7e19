import { describe, expect, it } from 'vitest'
import { MAX_REMAINING_LENGTH } from '../../../src/codec/limits.js'
import type { ConnackPacket } from '../../../src/codec/packets.js'
import {
  BrokerLimitError,
  ClientClosedError,
  type ClientOptions,
  connect,
  InvalidArgumentError,
  InvalidTopicError,
  type MqttError,
  MqttClient,
} from '../../../src/index.js'
import { rejection } from '../../support/expect-error.js'
import { FakeSocket, written } from '../client/fake-socket.js'
import { startedClients } from '../client/fake-client.js'

/**
 * Bad caller input, one row each: a call on a client connected to a fake socket, the typed error
 * it must fail with, a fragment of that error's message, and the proof that nothing went on the
 * wire for it (not one byte more on the socket, and no new socket). Where a call is borderline,
 * the row's name says which way it was decided and why; the inputs decided to be good are in
 * the table after this one, which proves they do reach the wire.
 */

/** A fake socket that also counts the bytes the client hands it, whatever the MQTT version. */
class CountingSocket extends FakeSocket {
  bytes = 0

  override send(data: Uint8Array): void {
    this.bytes += data.byteLength
    super.send(data)
  }
}

/** What the client has put on the wire so far: every socket it made, and every byte it wrote to them. */
function wire(): { sockets: number; bytes: number } {
  return { sockets: FakeSocket.all.length, bytes: FakeSocket.all.reduce((n, s) => n + (s as CountingSocket).bytes, 0) }
}

const started = startedClients()

const URL = 'ws://broker.test'
const options = (more: ClientOptions = {}): ClientOptions => ({ WebSocket: CountingSocket, reconnect: false, ...more })

interface Setup {
  version?: 4 | 5
  /** MQTT 5 CONNACK properties: the broker's limits. */
  connack?: ConnackPacket['properties']
  /** end({ force: true }) first: the call comes after the client ended. */
  ended?: boolean
}

/** A client that has written CONNECT and taken its CONNACK (and, if asked, ended since). */
async function client(setup: Setup): Promise<MqttClient> {
  const version = setup.version ?? 4
  const c = new MqttClient(URL, options({ protocolVersion: version })).open()
  started.push(c)
  await written() // the store is read before the socket opens
  const socket = FakeSocket.last
  socket.open()
  socket.deliver(
    version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: setup.connack } : { cmd: 'connack', sessionPresent: false, returnCode: 0 },
    version,
  )
  expect(c.connected).toBe(true)
  if (setup.ended) await c.end({ force: true })
  await written()
  return c
}

type ErrorClass = abstract new (...args: never[]) => MqttError

interface Row extends Setup {
  /** What is wrong with the call. */
  name: string
  /** The call; what it throws or rejects with is judged. A messages() row reads its stream's first message. */
  call: (c: MqttClient) => unknown
  error: ErrorClass
  /** A fragment of the error's message. */
  says: string
}

const big = (bytes: number) => new Uint8Array(bytes)
const detached = () => {
  const buffer = new ArrayBuffer(8)
  structuredClone(buffer, { transfer: [buffer] })
  return buffer
}
const v5 = { version: 5 } as const
/** A method called as JavaScript may call it: with arguments its types do not allow. */
type AnyCall = (...args: unknown[]) => Promise<unknown>
const ended = { ended: true } as const
/** A new client, connected with these options (it throws before any socket exists, or it is a bad row). */
const made = (more: ClientOptions) => () => started.push(connect(URL, options(more)))

const rows: Row[] = [
  // Topic names for publish (MQTT §4.7).
  { name: 'publish to an empty topic', call: (c) => c.publish('', 'x'), error: InvalidTopicError, says: 'must not be empty' },
  { name: 'publish to a topic with the + wildcard', call: (c) => c.publish('a/+/c', 'x'), error: InvalidTopicError, says: 'wildcards (+ and #) are not allowed' },
  { name: 'publish to a topic with the # wildcard', call: (c) => c.publish('a/#', 'x', { qos: 1 }), error: InvalidTopicError, says: 'wildcards (+ and #) are not allowed' },
  { name: 'publish to a topic holding U+0000', call: (c) => c.publish('a\u0000b', 'x'), error: InvalidTopicError, says: 'must not contain U+0000' },
  { name: 'publish to a topic of 65,536 ASCII bytes', call: (c) => c.publish('a'.repeat(65_536), 'x'), error: InvalidTopicError, says: 'at most 65535 UTF-8 bytes' },
  {
    name: 'publish to a topic of 21,846 characters that is 65,538 bytes in UTF-8',
    call: (c) => c.publish('€'.repeat(21_846), 'x'),
    error: InvalidTopicError,
    says: 'at most 65535 UTF-8 bytes',
  },
  { name: 'publish to a topic with a lone surrogate, which has no UTF-8 form', call: (c) => c.publish('bad\uD800', 'x'), error: InvalidTopicError, says: 'no lone surrogates' },
  { name: 'publish to a topic that is a number', call: (c) => c.publish(7 as never, 'x'), error: InvalidTopicError, says: 'must be a string, not number' },

  // Subscription filters.
  { name: 'subscribe to a filter with # before the last level', call: (c) => c.subscribe('a/#/b'), error: InvalidTopicError, says: '# must be the whole last level' },
  { name: "subscribe to 'a/b#', # inside a level", call: (c) => c.subscribe('a/b#'), error: InvalidTopicError, says: '# must be the whole last level' },
  { name: "subscribe to 'a+', + inside a level", call: (c) => c.subscribe('a+'), error: InvalidTopicError, says: '+ must be a whole level' },
  { name: 'subscribe to an empty filter', call: (c) => c.subscribe(''), error: InvalidTopicError, says: 'must not be empty' },
  { name: "subscribe to '$share/', a shared subscription with no group or filter", call: (c) => c.subscribe('$share/'), error: InvalidTopicError, says: '$share/{group}/{filter}' },
  { name: "subscribe to '$share/g', a shared subscription with no filter", call: (c) => c.subscribe('$share/g', { qos: 1 }), error: InvalidTopicError, says: '$share/{group}/{filter}' },
  { name: 'subscribe to a shared subscription whose group is a wildcard', call: (c) => c.subscribe('$share/+/a'), error: InvalidTopicError, says: '$share/{group}/{filter}' },
  { name: 'subscribe with one bad filter among good ones (none is sent)', call: (c) => c.subscribe(['a', 'b/#/c']), error: InvalidTopicError, says: '# must be the whole last level' },
  { name: 'unsubscribe from a filter with # before the last level', call: (c) => c.unsubscribe('#/a'), error: InvalidTopicError, says: '# must be the whole last level' },
  { name: 'read messages() of a filter with + inside a level', call: (c) => c.messages('a+').next(), error: InvalidTopicError, says: '+ must be a whole level' },

  // QoS.
  { name: "publish at QoS '1', a string", call: (c) => c.publish('t', 'x', { qos: '1' as never }), error: InvalidArgumentError, says: "QoS must be 0, 1 or 2, not the string '1'" },
  { name: 'publish at QoS 3', call: (c) => c.publish('t', 'x', { qos: 3 as never }), error: InvalidArgumentError, says: 'QoS must be 0, 1 or 2, not 3' },
  { name: 'publish at QoS NaN', call: (c) => c.publish('t', 'x', { qos: Number.NaN as never }), error: InvalidArgumentError, says: 'not NaN' },
  { name: 'publish at QoS -1', call: (c) => c.publish('t', 'x', { qos: -1 as never }), error: InvalidArgumentError, says: 'not -1' },
  { name: 'publish at QoS 1.5', call: (c) => c.publish('t', 'x', { qos: 1.5 as never }), error: InvalidArgumentError, says: 'not 1.5' },
  { name: "subscribe at QoS '2', a string", call: (c) => c.subscribe('t', { qos: '2' as never }), error: InvalidArgumentError, says: "not the string '2'" },
  { name: 'subscribe at QoS 3 in the object form', call: (c) => c.subscribe({ a: { qos: 1 }, b: { qos: 3 as never } }), error: InvalidArgumentError, says: 'not 3' },

  // Payloads.
  { name: 'publish a number', call: (c) => c.publish('t', 42 as never), error: InvalidArgumentError, says: 'not number' },
  { name: 'publish a plain object (JSON.stringify it first)', call: (c) => c.publish('t', { a: 1 } as never), error: InvalidArgumentError, says: 'not Object' },
  { name: 'publish null', call: (c) => c.publish('t', null as never), error: InvalidArgumentError, says: 'not null' },
  { name: 'publish undefined', call: (c) => c.publish('t', undefined as never), error: InvalidArgumentError, says: 'not undefined' },
  { name: 'publish a boolean', call: (c) => c.publish('t', true as never), error: InvalidArgumentError, says: 'not boolean' },
  { name: 'publish a function', call: (c) => c.publish('t', (() => 'x') as never), error: InvalidArgumentError, says: 'not function' },
  { name: 'publish a Uint16Array, whose byte order is not the wire’s to guess', call: (c) => c.publish('t', new Uint16Array(2) as never), error: InvalidArgumentError, says: 'not Uint16Array' },
  { name: 'publish a detached ArrayBuffer, which would go out empty', call: (c) => c.publish('t', detached(), { qos: 1 }), error: InvalidArgumentError, says: 'detached ArrayBuffer' },
  {
    name: 'publish a Uint8Array over a detached buffer',
    call: (c) => {
      const bytes = new Uint8Array(8)
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] })
      return c.publish('t', bytes)
    },
    error: InvalidArgumentError,
    says: 'detached ArrayBuffer',
  },

  // Other publish options.
  { name: "publish with retain 'yes', which is not read as truthy", call: (c) => c.publish('t', 'x', { retain: 'yes' as never }), error: InvalidArgumentError, says: "retain must be true or false, not the string 'yes'" },
  { name: 'publish with retain 1', call: (c) => c.publish('t', 'x', { retain: 1 as never }), error: InvalidArgumentError, says: 'retain must be true or false, not 1' },
  { name: 'publish with options that are a number', call: (c) => c.publish('t', 'x', 1 as never), error: InvalidArgumentError, says: 'publish options must be an object' },
  { name: 'publish with MQTT 5 properties on MQTT 3.1.1', call: (c) => c.publish('t', 'x', { properties: { contentType: 'a' } }), error: InvalidArgumentError, says: 'publish properties need MQTT 5' },

  // Oversize messages: over the protocol's limit, and over the broker's (MQTT 5 CONNACK).
  {
    name: 'publish a message over the MQTT limit of 268,435,455 bytes',
    call: (c) => c.publish('t', big(MAX_REMAINING_LENGTH)),
    error: InvalidArgumentError,
    says: `exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`,
  },
  {
    name: "publish at QoS 0 a message over the broker's Maximum Packet Size",
    version: 5,
    connack: { maximumPacketSize: 1024 },
    call: (c) => c.publish('t', big(1024)),
    error: BrokerLimitError,
    says: "over the broker's maximum of 1024",
  },
  {
    name: "publish at QoS 1 a text whose UTF-8 (not its length) is over the broker's Maximum Packet Size",
    version: 5,
    connack: { maximumPacketSize: 1024 },
    call: (c) => c.publish('t', '€'.repeat(400), { qos: 1 }),
    error: BrokerLimitError,
    says: "over the broker's maximum of 1024",
  },

  // MQTT 5 user properties: name -> string or string[] only.
  { name: 'publish a user property whose value is a number', ...v5, call: (c) => c.publish('t', 'x', { properties: { userProperties: { a: 1 as never } } }), error: InvalidArgumentError, says: '"a" must be a string or an array of strings, not number' },
  { name: 'publish a user property whose value is an object', ...v5, call: (c) => c.publish('t', 'x', { properties: { userProperties: { a: { b: 'c' } as never } } }), error: InvalidArgumentError, says: 'not Object' },
  { name: 'publish a user property whose value nests an array', ...v5, call: (c) => c.publish('t', 'x', { properties: { userProperties: { a: ['ok', ['x']] as never } } }), error: InvalidArgumentError, says: 'not an array holding Array' },
  { name: 'publish user properties that are an array', ...v5, call: (c) => c.publish('t', 'x', { properties: { userProperties: [['a', 'b']] as never } }), error: InvalidArgumentError, says: 'publish userProperties must be an object' },
  { name: 'publish a user property value holding U+0000', ...v5, call: (c) => c.publish('t', 'x', { properties: { userProperties: { a: 'x\u0000' } } }), error: InvalidArgumentError, says: 'the value of "a" must not contain U+0000' },
  { name: 'subscribe with a user property whose value is a number', ...v5, call: (c) => c.subscribe('t', { properties: { userProperties: { a: 2 as never } } }), error: InvalidArgumentError, says: 'subscribe userProperties: "a"' },
  { name: 'end with a DISCONNECT user property that is a boolean', ...v5, call: (c) => c.end({ properties: { userProperties: { a: true as never } } }), error: InvalidArgumentError, says: 'end userProperties: "a"' },

  // MQTT 5 subscription options.
  { name: 'subscribe with retain handling 3', ...v5, call: (c) => c.subscribe('t', { rh: 3 as never }), error: InvalidArgumentError, says: 'rh (retain handling) must be 0, 1 or 2, not 3' },
  { name: "subscribe with no local 'true', a string", ...v5, call: (c) => c.subscribe('t', { nl: 'true' as never }), error: InvalidArgumentError, says: "nl must be true or false, not the string 'true'" },

  // messages() buffer options.
  { name: 'read messages() with a bufferLimit of 0', call: (c) => c.messages('t', { bufferLimit: 0 }).next(), error: InvalidArgumentError, says: 'bufferLimit must be an integer from 1' },
  { name: "read messages() with overflow 'block', which is no policy", call: (c) => c.messages('t', { overflow: 'block' as never }).next(), error: InvalidArgumentError, says: "overflow must be 'drop-oldest', 'drop-newest' or 'error'" },

  // request() checks its request before it subscribes for the reply.
  { name: 'request on a topic with a wildcard (no reply subscription is sent)', call: (c) => c.request('a/+', 'x'), error: InvalidTopicError, says: 'wildcards' },
  { name: 'request with a payload that is a number (no reply subscription is sent)', call: (c) => c.request('a', 5 as never), error: InvalidArgumentError, says: 'not number' },
  { name: 'request with a timeout of 0', call: (c) => c.request('a', 'x', { timeout: 0 }), error: InvalidArgumentError, says: 'request timeout must be a positive integer' },

  // Client options: the constructor throws before any socket exists.
  { name: 'connect with keepalive -1', call: made({ keepalive: -1 }), error: InvalidArgumentError, says: 'keepalive must be an integer from 0 to 65535, not -1' },
  { name: 'connect with keepalive 65,536', call: made({ keepalive: 65_536 }), error: InvalidArgumentError, says: 'not 65536' },
  { name: "connect with keepalive 'x'", call: made({ keepalive: 'x' as never }), error: InvalidArgumentError, says: "keepalive must be an integer from 0 to 65535, not the string 'x'" },
  {
    name: 'connect with an empty clientId and clean: false (MQTT 3.1.1 §3.1.3.1: the broker would refuse it)',
    call: made({ clientId: '', clean: false }),
    error: InvalidArgumentError,
    says: 'clean: false needs a clientId',
  },
  { name: "connect with clean 'false', a string that would read as true", call: made({ clean: 'false' as never }), error: InvalidArgumentError, says: "clean must be true or false, not the string 'false'" },
  { name: 'connect with a clientId over 65,535 bytes, which CONNECT cannot carry', call: made({ clientId: 'c'.repeat(65_536) }), error: InvalidArgumentError, says: 'clientId must be at most 65535 UTF-8 bytes' },
  { name: 'connect with a clientId holding a lone surrogate', call: made({ clientId: 'id\uDC00' }), error: InvalidArgumentError, says: 'clientId must be well-formed UTF-16' },
  { name: 'connect with a will without a topic', call: made({ will: { payload: 'bye' } as never }), error: InvalidArgumentError, says: 'will needs a topic' },
  { name: 'connect with a will on a wildcard topic', call: made({ will: { topic: 'gone/#', payload: 'bye' } }), error: InvalidTopicError, says: 'wildcards' },
  { name: "connect with a will at QoS '1', a string", call: made({ will: { topic: 'w', payload: 'bye', qos: '1' as never } }), error: InvalidArgumentError, says: "not the string '1'" },
  { name: 'connect with a will payload over 65,535 bytes, which CONNECT cannot carry', call: made({ will: { topic: 'w', payload: big(65_536) } }), error: InvalidArgumentError, says: 'will.payload must be at most 65535 bytes' },
  {
    name: 'connect with a CONNECT user property whose value is a number',
    call: made({ protocolVersion: 5, properties: { userProperties: { a: 1 as never } } }),
    error: InvalidArgumentError,
    says: 'CONNECT userProperties: "a"',
  },
  {
    name: 'connect with a will user property whose value is an object',
    call: made({ protocolVersion: 5, will: { topic: 'w', payload: '', properties: { userProperties: { a: {} as never } } } }),
    error: InvalidArgumentError,
    says: 'will userProperties: "a"',
  },

  // MQTT.js's calls and options (MIGRATING.md): refused, as a callback would never be called and an option never read.
  { name: 'publish with an MQTT.js callback', call: (c) => (c.publish as AnyCall)('t', 'x', { qos: 1 }, () => undefined), error: InvalidArgumentError, says: 'publish takes no callback: it returns a Promise' },
  { name: 'publish with an MQTT.js callback in place of the options', call: (c) => (c.publish as AnyCall)('t', 'x', () => undefined), error: InvalidArgumentError, says: 'publish takes no callback' },
  { name: 'subscribe with an MQTT.js (err, granted) callback as the handler', call: (c) => c.subscribe('t', ((_e: unknown, _g: unknown) => undefined) as never), error: InvalidArgumentError, says: 'a subscribe handler receives one Message, not (err, granted)' },
  { name: 'subscribe with options and an MQTT.js (err, granted) callback', call: (c) => c.subscribe('t', { qos: 1 }, ((_e: unknown, _g: unknown) => undefined) as never), error: InvalidArgumentError, says: 'the granted list is what the Promise resolves to' },
  { name: 'unsubscribe with an MQTT.js callback', call: (c) => (c.unsubscribe as AnyCall)('t', () => undefined), error: InvalidArgumentError, says: 'unsubscribe takes no callback' },
  { name: 'unsubscribe with MQTT 5 options, which would be ignored', ...v5, call: (c) => (c.unsubscribe as AnyCall)('t', { properties: { userProperties: { a: 'b' } } }), error: InvalidArgumentError, says: 'UNSUBSCRIBE properties are not supported' },
  { name: 'end with an MQTT.js callback', call: (c) => (c.end as AnyCall)(() => undefined), error: InvalidArgumentError, says: 'end takes no callback' },
  { name: "end(true), MQTT.js's force flag", call: (c) => c.end(true as never), error: InvalidArgumentError, says: 'write end({ force: true })' },
  { name: 'end(true, callback)', call: (c) => (c.end as AnyCall)(true, () => undefined), error: InvalidArgumentError, says: "end(true) is MQTT.js's" },
  { name: 'publish with QoS in place of qos, which would go out at QoS 0', call: (c) => c.publish('t', 'x', { QoS: 1 } as never), error: InvalidArgumentError, says: "unknown publish option 'QoS'; did you mean qos?" },
  { name: "publish with MQTT.js's dup", call: (c) => c.publish('t', 'x', { qos: 1, dup: true } as never), error: InvalidArgumentError, says: "dup is MQTT.js's" },
  { name: 'subscribe with an unknown option', call: (c) => c.subscribe('t', { qos: 1, noLocal: true } as never), error: InvalidArgumentError, says: "unknown subscribe option 'noLocal'" },
  { name: "connect with MQTT.js's reconnectPeriod", call: made({ reconnectPeriod: 1000 } as ClientOptions), error: InvalidArgumentError, says: "reconnectPeriod is MQTT.js's; use reconnect: { minDelay }" },
  { name: "connect with MQTT.js's wsOptions", call: made({ wsOptions: { headers: {} } } as ClientOptions), error: InvalidArgumentError, says: 'use options.WebSocket' },
  { name: 'connect with keepAlive, a near miss', call: made({ keepAlive: 30 } as ClientOptions), error: InvalidArgumentError, says: "unknown option 'keepAlive'; did you mean keepalive?" },
  { name: 'connect with protocolVersion 3 (MQTT 3.1)', call: made({ protocolVersion: 3 as never }), error: InvalidArgumentError, says: 'not 3: MQTT 3.1 is not supported' },

  // After end(): refused as a whole, whatever the arguments.
  { name: 'publish after end()', ...ended, call: (c) => c.publish('t', 'x', { qos: 1 }), error: ClientClosedError, says: 'no new operations are accepted' },
  { name: 'subscribe after end()', ...ended, call: (c) => c.subscribe('t'), error: ClientClosedError, says: 'no new operations are accepted' },
  { name: 'unsubscribe after end()', ...ended, call: (c) => c.unsubscribe('t'), error: ClientClosedError, says: 'no new operations are accepted' },
  { name: 'read messages() after end()', ...ended, call: (c) => c.messages('t').next(), error: ClientClosedError, says: 'no new operations are accepted' },
  { name: 'request after end()', ...ended, call: (c) => c.request('t', 'x'), error: ClientClosedError, says: 'no new operations are accepted' },
  { name: 'reauthenticate after end()', ...ended, version: 5, call: (c) => c.reauthenticate(), error: ClientClosedError, says: 'no new operations are accepted' },
]

describe(`bad caller input: ${rows.length} calls, each refused with a typed error and nothing written`, () => {
  it.each(rows)('$name', async (row) => {
    const c = await client(row)
    const before = wire()
    const err = await rejection(Promise.resolve().then(() => row.call(c)), row.error, 2000)
    expect(err.message).toContain(row.says)
    await written()
    await written()
    expect(wire()).toEqual(before)
  })

  it('counts at least 40 rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(40)
  })
})

/**
 * Inputs that look bad but are not the client's to refuse. Each goes on the wire, and the broker
 * decides; the name says why.
 */
const accepted: Array<{ name: string; call: (c: MqttClient) => unknown }> = [
  {
    // MQTT §4.7.2 reserves $-topics for the server's own use and says a server SHOULD keep
    // clients from exchanging messages on them; that is the broker's rule to apply, and some
    // brokers give clients $-topics to publish to (AWS IoT's device shadows are $aws/things/...).
    name: 'publish to $SYS/... (MQTT §4.7.2 leaves $-topics to the broker, some of which take them)',
    call: (c) => c.publish('$SYS/broker/custom', 'x'),
  },
  {
    // MQTT 3.1.1 §3.1.3.1: a broker MUST take ids of 1 to 23 bytes and MAY take longer ones,
    // which Mosquitto, aedes, HiveMQ and EMQX do. One that does not answers CONNACK 0x02, which
    // the client reports as ConnectionRefusedError.
    name: 'connect on MQTT 3.1.1 with a 64-byte clientId (§3.1.3.1: brokers MAY accept ids over 23 bytes)',
    call: async () => {
      const c = new MqttClient(URL, options({ clientId: 'x'.repeat(64) })).open()
      started.push(c)
      await written()
      FakeSocket.last.open()
    },
  },
]

describe('inputs that are the broker’s to judge: sent, not refused', () => {
  it.each(accepted)('$name', async (row) => {
    const c = await client({})
    const before = wire()
    await row.call(c)
    await written()
    expect(wire().bytes).toBeGreaterThan(before.bytes)
  })
})
