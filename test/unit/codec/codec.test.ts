import { generate, parser } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../../src/codec/decoder.js'
import { MAX_REMAINING_LENGTH } from '../../../src/codec/limits.js'
import { encode } from '../../../src/codec/encode.js'
import type { ConnectPacket, IncomingPacket, IncomingPublishPacket, Packet, ProtocolVersion } from '../../../src/codec/packets.js'
import { ProtocolError } from '../../../src/errors.js'

const decoder = (maxPacketSize = 1024 * 1024) => new Decoder({ protocolVersion: 4, maxPacketSize })
const publishBytes = (topic: string, payload: Uint8Array | string, qos: 0 | 1 | 2 = 0, messageId?: number) =>
  encode({ cmd: 'publish', topic, payload, qos, retain: false, dup: false, ...(messageId ? { messageId } : {}) }, 4)

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

describe('encode', () => {
  it('writes the same bytes as mqtt-packet for a publish with a plain Uint8Array payload', () => {
    const payload = new Uint8Array([0, 1, 2, 255])
    const ours = encode({ cmd: 'publish', topic: 't', payload, qos: 1, messageId: 7, retain: true, dup: false }, 4)
    const reference = generate({ cmd: 'publish', topic: 't', payload: Buffer.from(payload), qos: 1, messageId: 7, retain: true, dup: false })
    expect(Buffer.from(ours).equals(reference)).toBe(true)
  })

  it('encodes a view into a larger buffer without its neighbouring bytes', () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9])
    const bytes = encode({ cmd: 'publish', topic: 't', payload: backing.subarray(2, 5), qos: 0, retain: false, dup: false }, 4)
    expect([...bytes.subarray(bytes.length - 3)]).toEqual([1, 2, 3])
    expect(bytes[1]).toBe(2 + 1 + 3) // remaining length: topic length field + 't' + payload
  })
})

/**
 * Encodes with ours, then decodes with mqtt-packet's own parser, as a broker would read it. Not
 * with our Decoder: that reads only what a server may send, and CONNECT or SUBSCRIBE is not that.
 */
function roundTrip(packet: Packet, protocolVersion: ProtocolVersion): IncomingPacket {
  const packets: unknown[] = []
  const reader = parser({ protocolVersion })
  reader.on('packet', (p) => packets.push(p))
  reader.on('error', (err) => packets.push(err))
  reader.parse(Buffer.from(encode(packet, protocolVersion)))
  expect(packets).toHaveLength(1)
  expect(packets[0]).not.toBeInstanceOf(Error)
  return packets[0] as IncomingPacket
}

function encodeError(packet: Packet, protocolVersion: ProtocolVersion = 4): ProtocolError {
  try {
    encode(packet, protocolVersion)
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    return err as ProtocolError
  }
  throw new Error('encode did not throw')
}

describe('encode through mqtt-packet', () => {
  const properties = { contentType: 'text/plain', userProperties: { k: 'v' } }

  it('writes a successful 5.0 acknowledgement in the short form, as in 3.1.1', () => {
    expect([...encode({ cmd: 'puback', messageId: 0x0102 }, 5)]).toEqual([0x40, 2, 1, 2])
    expect([...encode({ cmd: 'pubrel', messageId: 0x0102 }, 5)]).toEqual([0x62, 2, 1, 2])
  })

  it('writes 5.0 packets in the 5.0 format', () => {
    const packet = roundTrip({ cmd: 'disconnect', reasonCode: 0x8b, properties: { reasonString: 'bye' } }, 5)
    expect(packet).toMatchObject({ cmd: 'disconnect', reasonCode: 0x8b, properties: { reasonString: 'bye' } })
  })

  it('encodes a 5.0 PUBLISH with properties whatever form its payload takes', () => {
    const payloads: Array<[string, Uint8Array | string]> = [
      ['Uint8Array', new Uint8Array([1, 2, 3])],
      ['view into a larger buffer', new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)],
      ['Node Buffer', Buffer.from([1, 2, 3])],
      ['string', '\u0001\u0002\u0003'],
    ]
    for (const [kind, payload] of payloads) {
      const packet = roundTrip({ cmd: 'publish', topic: 'p/ü', payload, qos: 1, messageId: 9, retain: true, dup: false, properties }, 5)
      expect(packet, kind).toMatchObject({ cmd: 'publish', topic: 'p/ü', qos: 1, messageId: 9, retain: true, properties })
      expect([...(packet as IncomingPublishPacket).payload], kind).toEqual([1, 2, 3])
    }
  })

  it('encodes CONNECT with a password and a will given as Uint8Arrays', () => {
    const connect: ConnectPacket = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'c1',
      clean: true,
      keepalive: 30,
      username: 'u',
      password: new Uint8Array([0, 1, 255]),
      will: { topic: 'w/t', payload: new Uint8Array([7, 8]), qos: 1, retain: true },
    }
    const packet = roundTrip(connect, 4) as ConnectPacket
    expect(packet).toMatchObject({ cmd: 'connect', clientId: 'c1', clean: true, keepalive: 30, username: 'u' })
    expect([...(packet.password ?? [])]).toEqual([0, 1, 255])
    expect(packet.will).toMatchObject({ topic: 'w/t', qos: 1, retain: true })
    expect([...(packet.will?.payload ?? [])]).toEqual([7, 8])
  })

  it('encodes every binary MQTT 5 property given as a plain Uint8Array (correlation and authentication data)', () => {
    const bytes = (...b: number[]) => new Uint8Array([9, ...b, 9]).subarray(1, b.length + 1)
    const publish = roundTrip(
      { cmd: 'publish', topic: 'req', payload: 'x', qos: 1, messageId: 3, retain: false, dup: false, properties: { correlationData: bytes(1, 2) } },
      5,
    ) as IncomingPublishPacket
    expect([...(publish.properties?.correlationData ?? [])]).toEqual([1, 2])
    const connect = roundTrip(
      {
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 5,
        clientId: 'c',
        clean: true,
        keepalive: 0,
        properties: { authenticationMethod: 'SCRAM', authenticationData: bytes(3) },
        will: { topic: 'w', payload: bytes(), qos: 0, retain: false, properties: { correlationData: bytes(4, 5) } },
      },
      5,
    ) as ConnectPacket
    expect([...(connect.properties?.authenticationData ?? [])]).toEqual([3])
    expect([...(connect.will?.properties?.correlationData ?? [])]).toEqual([4, 5])
    const auth = roundTrip({ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: bytes(6) } }, 5)
    expect([...((auth as { properties?: { authenticationData?: Uint8Array } }).properties?.authenticationData ?? [])]).toEqual([6])
  })

  it('encodes CONNECT without credentials or will', () => {
    const packet = roundTrip({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'bare', clean: false, keepalive: 0 }, 4) as ConnectPacket
    expect(packet).toMatchObject({ cmd: 'connect', clientId: 'bare', clean: false, keepalive: 0 })
    expect(packet.password).toBeUndefined()
    expect(packet.will).toBeUndefined()
  })

  it('reports a packet mqtt-packet cannot encode as a ProtocolError naming the packet and the reason', () => {
    const err = encodeError({ cmd: 'subscribe', messageId: 1, subscriptions: [] })
    expect(err.cause).toBeInstanceOf(Error)
    expect(err.message).toBe(`Cannot encode subscribe: ${(err.cause as Error).message}`)
    // Too long a topic, too large a packet, and a QoS 1 PUBLISH without a packet id are all left
    // to mqtt-packet, which refuses them.
    const publish = { cmd: 'publish', payload: 'x', qos: 0, retain: false, dup: false } as const
    expect(encodeError({ ...publish, topic: 'a'.repeat(65_536) }).message).toMatch(/^Cannot encode publish: /)
    expect(encodeError({ ...publish, topic: 't', payload: new Uint8Array(MAX_REMAINING_LENGTH - 2) }).message).toMatch(/^Cannot encode publish: /)
    expect(encodeError({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, retain: false, dup: false }).message).toMatch(/^Cannot encode publish: /)
  })
})

describe('Decoder', () => {
  it('reads several packets from one chunk', () => {
    const bytes = concat(publishBytes('a', 'one'), publishBytes('b', 'two', 1, 3), encode({ cmd: 'pingresp' }, 4))
    const packets = decoder().push(bytes)
    expect(packets.map((p) => p.cmd)).toEqual(['publish', 'publish', 'pingresp'])
    expect((packets[1] as IncomingPublishPacket).messageId).toBe(3)
    expect(Buffer.from((packets[0] as IncomingPublishPacket).payload).toString()).toBe('one')
  })

  it('reads one packet split into single bytes', () => {
    const bytes = publishBytes('split/topic', new Uint8Array(300).fill(7))
    const d = decoder()
    const out = []
    for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)))
    expect(out).toHaveLength(1)
    expect([...(out[0] as IncomingPublishPacket).payload]).toEqual(Array(300).fill(7))
    expect(d.pendingBytes).toBe(0)
  })

  it('reads packets whose boundaries fall anywhere across chunks', () => {
    const bytes = concat(publishBytes('x', 'a'), publishBytes('y', new Uint8Array(200)), publishBytes('z', 'c'))
    for (const cut of [1, 3, 7, 50, bytes.length - 2]) {
      const d = decoder()
      const out = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))]
      expect(out.map((p) => (p as IncomingPublishPacket).topic)).toEqual(['x', 'y', 'z'])
    }
  })

  it('refuses a packet over the size limit from its header alone', () => {
    const d = decoder(100)
    // A PUBLISH header announcing 200 bytes, with no body yet.
    expect(() => d.push(new Uint8Array([0x30, 200, 1]))).toThrow(ProtocolError)
    expect(() => decoder(100).push(new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]))).toThrow(/exceeds the limit/)
  })

  it('refuses a remaining length longer than four bytes', () => {
    expect(() => decoder().push(new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(/Malformed remaining length/)
  })

  it('refuses bytes that are not a valid packet', () => {
    // PUBREL must have flags 0b0010; 0x60 has them clear.
    expect(() => decoder().push(new Uint8Array([0x60, 0x02, 0x00, 0x01]))).toThrow(ProtocolError)
    // A PUBLISH whose topic length runs past the packet.
    expect(() => decoder().push(new Uint8Array([0x30, 0x03, 0x00, 0x09, 0x41]))).toThrow(ProtocolError)
    // Packet type 0 is reserved.
    expect(() => decoder().push(new Uint8Array([0x00, 0x00]))).toThrow(ProtocolError)
  })
})
