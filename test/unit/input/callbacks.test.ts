import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, MqttClient } from '../../../src/index.js'
import { type CallbackMethod, refuseCallbacks } from '../../../src/input/callbacks.js'
import { rejection, thrown } from '../../support/expect-error.js'
import { FakeSocket, written } from '../client/fake-socket.js'
import { startedClients } from '../client/fake-client.js'

const noop = () => undefined
/** MQTT.js's callbacks: `(err, granted)` for subscribe, `(err)` or `(err, packet)` for the others. */
const callback = (_err: unknown, _result?: unknown) => undefined
const subscribeCallback = (_err: unknown, _granted: unknown) => undefined
const withPacket = (_err: unknown, _granted: unknown, _packet: unknown) => undefined
const handler = (_msg: unknown) => undefined

const PUBLISH = 'publish takes no callback: it returns a Promise, so write await client.publish(topic, payload, options)'
const UNSUBSCRIBE = 'unsubscribe takes no callback: it returns a Promise, so write await client.unsubscribe(filter)'
const END = 'end takes no callback: it returns a Promise, so write await client.end()'
const HANDLER =
  'a subscribe handler receives one Message, not (err, granted), and the granted list is what the Promise resolves to'

const refusal = (method: CallbackMethod, args: unknown[]) => thrown(() => refuseCallbacks(method, args), InvalidArgumentError).message

describe("calls in MQTT.js's callback style are refused, as the callback would never be called", () => {
  it.each<[string, CallbackMethod, unknown[], string]>([
    ['publish(topic, message, options, callback)', 'publish', ['t', 'm', { qos: 1 }, callback], PUBLISH],
    ['publish(topic, message, callback)', 'publish', ['t', 'm', callback], PUBLISH],
    ['publish(topic, message, undefined, callback)', 'publish', ['t', 'm', undefined, callback], PUBLISH],
    ['subscribe(topic, (err, granted) => ...)', 'subscribe', ['t', subscribeCallback], HANDLER],
    ['subscribe(topic, options, (err, granted) => ...)', 'subscribe', ['t', { qos: 1 }, subscribeCallback], HANDLER],
    ['subscribe(topic, (err, granted, packet) => ...)', 'subscribe', ['t', withPacket], HANDLER],
    ['subscribe(topic, function (err, granted) {...})', 'subscribe', [{ a: { qos: 0 } }, function (_err: unknown, _granted: unknown) {}], HANDLER],
    ['unsubscribe(topic, callback)', 'unsubscribe', ['t', callback], UNSUBSCRIBE],
    ['unsubscribe(topic, options, callback)', 'unsubscribe', ['t', { properties: {} }, callback], UNSUBSCRIBE],
    ['unsubscribe(topic, undefined, callback)', 'unsubscribe', ['t', undefined, callback], UNSUBSCRIBE],
    ['unsubscribe(topic, options), whose UNSUBSCRIBE properties would be ignored', 'unsubscribe', ['t', { properties: { userProperties: { a: 'b' } } }], 'unsubscribe takes only the filters: UNSUBSCRIBE properties are not supported'],
    ['unsubscribe(topic, null)', 'unsubscribe', ['t', null], 'unsubscribe takes only the filters: UNSUBSCRIBE properties are not supported'],
    ['end(callback)', 'end', [callback], END],
    ['end(options, callback)', 'end', [{}, callback], END],
    ['end(undefined, undefined, callback)', 'end', [undefined, undefined, callback], END],
    ['end(true), MQTT.js\'s force', 'end', [true], "end(true) is MQTT.js's; write end({ force: true })"],
    ['end(false)', 'end', [false], "end(false) is MQTT.js's; write end()"],
    ['end(true, callback)', 'end', [true, callback], "end(true) is MQTT.js's; write end({ force: true })"],
  ])('%s', (_, method, args, message) => {
    expect(refusal(method, args)).toBe(message)
  })

  it.each<[string, CallbackMethod, unknown[]]>([
    ['publish(topic, payload)', 'publish', ['t', 'm']],
    ['publish(true, payload), whose topic the topic check refuses: not end(true)', 'publish', [true, 'm']],
    ['unsubscribe(false), whose filter the filter check refuses', 'unsubscribe', [false]],
    ['publish(topic, payload, options)', 'publish', ['t', 'm', { qos: 1 }]],
    ['publish(topic, a function as payload), which the payload check refuses', 'publish', ['t', noop]],
    ['publish with a fifth argument that is a function, past where MQTT.js puts one', 'publish', ['t', 'm', {}, undefined, callback]],
    ['subscribe(topic, (msg) => ...)', 'subscribe', ['t', handler]],
    ['subscribe(topic, options, (msg) => ...)', 'subscribe', ['t', { qos: 1 }, handler]],
    ['subscribe(topic, () => ...)', 'subscribe', ['t', noop]],
    ['subscribe(topic, options)', 'subscribe', ['t', { qos: 2 }]],
    ['subscribe with a fourth argument of two parameters, past where a handler goes', 'subscribe', ['t', {}, handler, subscribeCallback]],
    ['unsubscribe(filter)', 'unsubscribe', ['t']],
    ['unsubscribe(filters, undefined)', 'unsubscribe', [['a', 'b'], undefined]],
    ['end()', 'end', []],
    ['end({ force: true })', 'end', [{ force: true }]],
  ])('takes %s', (_, method, args) => {
    expect(() => refuseCallbacks(method, args)).not.toThrow()
  })
})

const started = startedClients()

/** A client on a fake socket, connected. */
async function connected(): Promise<MqttClient> {
  const c = new MqttClient('ws://broker.test', { WebSocket: FakeSocket, reconnect: false }).open()
  started.push(c)
  await written()
  FakeSocket.last.open()
  FakeSocket.last.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
  return c
}

describe('the client rejects such a call as it rejects other bad arguments, and writes nothing', () => {
  it.each<[string, (c: MqttClient) => Promise<unknown>, string]>([
    ['publish', (c) => (c.publish as (...args: unknown[]) => Promise<unknown>)('t', 'm', { qos: 1 }, callback), PUBLISH],
    ['subscribe', (c) => c.subscribe('t', subscribeCallback as never), HANDLER],
    ['unsubscribe', (c) => (c.unsubscribe as (...args: unknown[]) => Promise<unknown>)('t', callback), UNSUBSCRIBE],
    ['end', (c) => c.end(true as never), "end(true) is MQTT.js's; write end({ force: true })"],
  ])('%s: a rejected Promise, not a throw', async (_, call, message) => {
    const c = await connected()
    await written()
    const sent = FakeSocket.last.written.length
    let promise: Promise<unknown> | undefined
    expect(() => {
      promise = call(c)
    }).not.toThrow()
    expect((await rejection(promise as Promise<unknown>, InvalidArgumentError)).message).toBe(message)
    await written()
    expect(FakeSocket.last.written.length).toBe(sent)
    expect(c.connected).toBe(true)
  })
})
