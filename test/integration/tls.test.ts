import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connect, connectAsync, type Message, type MqttClient, TransportError, type WebSocketConstructor } from '../../src/index.js'
import { rejection } from '../support/expect-error.js'
import { startMosquitto } from '../support/mosquitto.js'
import { makeTestCerts, type TestCerts } from '../support/test-certs.js'

/**
 * wss:// to a Mosquitto whose certificate a private CA signed. The client has no TLS options of
 * its own: a Node caller trusts a CA by handing it a WebSocket class that gives `ws` the CA, the
 * same way any other `ws` option (a client certificate, a proxy agent) reaches the socket.
 */
function webSocketTrusting(ca?: string): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, ca === undefined ? {} : { ca })
    }
  }
}

let seq = 0
const unique = (name: string) => `tls/${process.pid}/${++seq}/${name}`

describe('wss:// with a private CA', () => {
  let certs: TestCerts
  let otherCa: TestCerts
  let broker: Awaited<ReturnType<typeof startMosquitto>>
  let wssUrl: string
  const opened: MqttClient[] = []

  beforeAll(async () => {
    certs = makeTestCerts('ts-mqtt-ws test')
    otherCa = makeTestCerts('someone else')
    broker = await startMosquitto({ tls: { certfile: certs.certFile, keyfile: certs.keyFile } })
    wssUrl = broker.wssUrl as string
  })
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.end({ force: true })))
    await broker?.close()
    certs?.remove()
    otherCa?.remove()
  })

  it('connects when its WebSocket trusts the CA, and a QoS 1 message makes the round trip', async () => {
    const c = await connectAsync(wssUrl, { WebSocket: webSocketTrusting(certs.caPem), reconnect: false })
    opened.push(c)
    const topic = unique('round-trip')
    let received: (m: Message) => void = () => undefined
    const got = new Promise<Message>((resolve) => (received = resolve))
    await c.subscribe(topic, { qos: 1 }, (m) => received(m))
    const result = await c.publish(topic, 'over TLS', { qos: 1 })
    expect(result).toMatchObject({ reasonCode: 0 })
    const message = await got
    expect([message.topic, message.text(), message.qos]).toEqual([topic, 'over TLS', 1])
  })

  it.each([
    ['no CA given (only the system roots)', () => undefined],
    ['a different CA', () => otherCa.caPem],
  ])('rejects the connect with a TransportError that names the certificate problem when trusting %s', async (_name, ca) => {
    const error = await rejection(connectAsync(wssUrl, { WebSocket: webSocketTrusting(ca()), reconnect: false }), TransportError)
    expect(error.code).toBe('TRANSPORT_ERROR')
    // Node's own words and its code, e.g. "unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)".
    expect(error.message).toMatch(/certificate.*\((UNABLE_TO_VERIFY|SELF_SIGNED|CERT_)\w*\)$/i)
  })

  it('fires the error event, then close, for an untrusted certificate on connect()', async () => {
    const c = connect(wssUrl, { WebSocket: webSocketTrusting(otherCa.caPem), reconnect: false })
    opened.push(c)
    const errors: Error[] = []
    c.on('error', (err) => errors.push(err))
    await new Promise<void>((resolve) => c.once('close', resolve))
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(TransportError)
    expect(errors[0]?.message).toMatch(/certificate/i)
  })
})
