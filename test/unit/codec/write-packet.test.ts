import { generate, parser, type Packet as WirePacket } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../../src/codec/decoder.js'
import type { Packet, ProtocolVersion } from '../../../src/codec/packets.js'
import { MAX_REMAINING_LENGTH } from '../../../src/codec/limits.js'
import { writePacket } from '../../../src/codec/write-packet.js'

const bytes = (...b: number[]) => new Uint8Array(b)
const props5 = { reasonString: 'why', userProperties: { a: '1', b: ['2', '3'] } }

/** Packets a client writes, each as we write it and as mqtt-packet (on Node's Buffer) does. */
const cases: Array<[string, ProtocolVersion, Packet]> = [
  ['CONNECT, bare', 4, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 60 }],
  [
    'CONNECT with credentials and a will',
    4,
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'client-ü',
      clean: false,
      keepalive: 0,
      username: 'u',
      password: bytes(0, 255),
      will: { topic: 'w/t', payload: bytes(1, 2), qos: 2, retain: true },
    },
  ],
  [
    'CONNECT on MQTT 5 with properties and will properties',
    5,
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: 'c5',
      clean: true,
      keepalive: 30,
      username: 'u',
      password: bytes(9),
      properties: { sessionExpiryInterval: 300, receiveMaximum: 50, maximumPacketSize: 1_000_000, topicAliasMaximum: 10, requestResponseInformation: true, requestProblemInformation: true, userProperties: { app: 'x' }, authenticationMethod: 'SCRAM', authenticationData: bytes(7, 7) },
      will: { topic: 'w', payload: bytes(), qos: 1, retain: false, properties: { willDelayInterval: 5, payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text/plain', responseTopic: 'r', correlationData: bytes(4), userProperties: { k: 'v' } } },
    },
  ],
  [
    'PUBLISH on MQTT 5 with every publish property',
    5,
    {
      cmd: 'publish',
      topic: 't/1',
      payload: bytes(1, 2, 3),
      qos: 1,
      messageId: 513,
      retain: true,
      dup: true,
      properties: { payloadFormatIndicator: false, messageExpiryInterval: 70_000, topicAlias: 3, responseTopic: 'resp', correlationData: bytes(8, 9), userProperties: { u: 'v' }, contentType: 'application/json' },
    },
  ],
  ['PUBLISH on MQTT 3.1.1 at QoS 1, with no property block', 4, { cmd: 'publish', topic: 't', payload: bytes(1), qos: 1, messageId: 9, retain: false, dup: false }],
  ['PUBLISH with an alias alone and a text payload', 5, { cmd: 'publish', topic: '', payload: 'héllo', qos: 0, retain: false, dup: false, properties: { topicAlias: 1 } }],
  ['PUBACK refusing, with properties', 5, { cmd: 'puback', messageId: 7, reasonCode: 0x87, properties: props5 }],
  ['PUBREL on MQTT 5 with properties', 5, { cmd: 'pubrel', messageId: 8, reasonCode: 0, properties: props5 }],
  ['PUBCOMP on MQTT 5 with a reason code and properties', 5, { cmd: 'pubcomp', messageId: 10, reasonCode: 0x92, properties: props5 }],
  ['PUBACK on MQTT 5 of success without properties, in the short form', 5, { cmd: 'puback', messageId: 11, reasonCode: 0 }],
  ['PUBREC on MQTT 3.1.1, which has no place for a reason code', 4, { cmd: 'pubrec', messageId: 12, reasonCode: 0x80 }],
  ['SUBSCRIBE', 4, { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: 'b/#', qos: 2 }] }],
  [
    'SUBSCRIBE on MQTT 5 with options, an identifier and user properties',
    5,
    {
      cmd: 'subscribe',
      messageId: 65_535,
      subscriptions: [{ topic: 'a', qos: 0, nl: true, rap: true, rh: 2 }, { topic: '$share/g/b', qos: 1, rh: 1 }],
      properties: { subscriptionIdentifier: 268_435_455, userProperties: { k: 'v' } },
    },
  ],
  ['UNSUBSCRIBE', 4, { cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['a', 'b/+'] }],
  ['UNSUBSCRIBE on MQTT 5 with user properties', 5, { cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['a'], properties: { userProperties: { k: 'v' } } }],
  ['PINGREQ', 4, { cmd: 'pingreq' }],
  ['DISCONNECT', 4, { cmd: 'disconnect' }],
  ['DISCONNECT on MQTT 3.1.1, which has no place for a reason code or properties', 4, { cmd: 'disconnect', reasonCode: 0x04, properties: { reasonString: 'bye' } }],
  ['DISCONNECT on MQTT 5 with a reason and properties', 5, { cmd: 'disconnect', reasonCode: 0x04, properties: { sessionExpiryInterval: 0, reasonString: 'bye' } }],
  ['DISCONNECT on MQTT 5 with a server reference', 5, { cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'other:1883' } }],
  ['AUTH', 5, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: bytes(1, 2) } }],
]

/** mqtt-packet wants Buffers where we give Uint8Arrays. */
function asWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value)
  if (Array.isArray(value)) return value.map(asWire)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asWire(v)]))
  return value
}

describe('writePacket', () => {
  it.each(cases)('writes %s byte for byte as mqtt-packet does', (_, version, packet) => {
    const ours = writePacket(packet, version)
    const reference = generate(asWire(packet) as WirePacket, { protocolVersion: version })
    expect([...ours]).toEqual([...reference])
  })

  it('writes an MQTT 5 acknowledgement with a reason code alone in its short form, which the decoder reads back', () => {
    const ours = writePacket({ cmd: 'pubrec', messageId: 4, reasonCode: 0x10 }, 5)
    expect([...ours]).toEqual([0x50, 3, 0, 4, 0x10])
    const [decoded] = new Decoder({ protocolVersion: 5, maxPacketSize: 1000 }).push(ours)
    expect(decoded).toMatchObject({ cmd: 'pubrec', messageId: 4, reasonCode: 0x10 })
  })

  it('writes an MQTT 5 acknowledgement of success without properties in the short form, reason code 0 or none (§3.4.2.1)', () => {
    expect([...writePacket({ cmd: 'puback', messageId: 7 }, 5)]).toEqual([0x40, 2, 0, 7])
    expect([...writePacket({ cmd: 'pubrel', messageId: 7, reasonCode: 0 }, 5)]).toEqual([0x62, 2, 0, 7])
  })

  it('writes an MQTT 5 DISCONNECT of normal disconnection without properties as a bare header (§3.14.2.1)', () => {
    expect([...writePacket({ cmd: 'disconnect' }, 5)]).toEqual([0xe0, 0])
    expect([...writePacket({ cmd: 'disconnect', reasonCode: 0 }, 5)]).toEqual([0xe0, 0])
    const [decoded] = new Decoder({ protocolVersion: 5, maxPacketSize: 1000 }).push(writePacket({ cmd: 'disconnect' }, 5))
    expect(decoded).toMatchObject({ cmd: 'disconnect' })
  })

  it('writes an MQTT 5 DISCONNECT with a reason code alone without a property length (§3.14.2.2.1), which the decoder reads back', () => {
    const ours = writePacket({ cmd: 'disconnect', reasonCode: 0x04 }, 5)
    expect([...ours]).toEqual([0xe0, 1, 0x04])
    const [decoded] = new Decoder({ protocolVersion: 5, maxPacketSize: 1000 }).push(ours)
    expect(decoded).toMatchObject({ cmd: 'disconnect', reasonCode: 0x04 })
  })

  it('leaves out a property whose value is undefined, as if it were not given', () => {
    const packet: Packet = { cmd: 'publish', topic: 't', payload: 'x', qos: 0, retain: false, dup: false, properties: { contentType: undefined, topicAlias: 2, correlationData: undefined } }
    expect([...writePacket(packet, 5)]).toEqual([...writePacket({ ...packet, properties: { topicAlias: 2 } }, 5)])
    expect([...writePacket(packet, 5)]).toEqual([0x30, 8, 0, 1, 0x74, 3, 0x23, 0, 2, 0x78])
  })

  it('writes a string of exactly 65,535 bytes as mqtt-packet does, and refuses one of 65,536 naming its size', () => {
    const packet: Packet = { cmd: 'publish', topic: 'x'.repeat(65_535), payload: 'p', qos: 0, retain: false, dup: false }
    expect(Buffer.from(writePacket(packet, 4)).equals(generate(packet as WirePacket, { protocolVersion: 4 }))).toBe(true)
    expect(() => writePacket({ ...packet, topic: 'x'.repeat(65_536) }, 4)).toThrow('string of 65536 bytes exceeds 65535')
  })

  it('writes binary data of exactly 65,535 bytes as mqtt-packet does, and refuses 65,536 bytes naming its size', () => {
    const connect = (password: Uint8Array): Packet => ({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'c', clean: true, keepalive: 0, username: 'u', password })
    const largest = connect(new Uint8Array(65_535).fill(7))
    expect(Buffer.from(writePacket(largest, 4)).equals(generate(asWire(largest) as WirePacket, { protocolVersion: 4 }))).toBe(true)
    expect(() => writePacket(connect(new Uint8Array(65_536)), 4)).toThrow('binary data of 65536 bytes exceeds 65535')
  })

  it('writes a packet of the largest remaining length MQTT allows, and refuses one a byte larger naming its size', () => {
    // Zero-filled payloads: the allocation is lazy until written, so only the packet itself costs memory.
    const payload = new Uint8Array(MAX_REMAINING_LENGTH - 2)
    const packet = (p: Uint8Array): Packet => ({ cmd: 'publish', topic: 't', payload: p, qos: 0, retain: false, dup: false })
    const largest = writePacket(packet(payload.subarray(1)), 4)
    expect(largest.length).toBe(1 + 4 + MAX_REMAINING_LENGTH)
    expect([...largest.subarray(0, 8)]).toEqual([0x30, 0xff, 0xff, 0xff, 0x7f, 0, 1, 't'.charCodeAt(0)])
    expect(() => writePacket(packet(payload), 4)).toThrow('packet of 268435456 bytes exceeds the MQTT limit of 268435455')
  }, 30_000)

  it('refuses a packet only a server sends, naming it', () => {
    expect(() => writePacket({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 5)).toThrow('a client does not send CONNACK')
  })

  it('refuses as unknown the properties only a server sends (MQTT 5.0 §2.2.2.2)', () => {
    const serverOnly = ['assignedClientIdentifier', 'serverKeepAlive', 'responseInformation', 'maximumQoS', 'retainAvailable', 'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable']
    for (const name of serverOnly) {
      const packet = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 0, properties: { [name]: 1 } } as unknown as Packet
      expect(() => writePacket(packet, 5)).toThrow(`unknown property ${name}`)
    }
  })

  it('writes a password without a user name on MQTT 5, which mqtt-packet refuses to', () => {
    const packet: Packet = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c', clean: true, keepalive: 0, password: bytes(1) }
    // mqtt-packet's parser reads it, as a broker would; our Decoder reads only what servers send.
    let decoded: WirePacket | undefined
    parser({ protocolVersion: 5 }).on('packet', (p) => (decoded = p)).parse(Buffer.from(writePacket(packet, 5)))
    expect(decoded).toMatchObject({ cmd: 'connect', clientId: 'c' })
    expect([...((decoded as { password?: Uint8Array }).password ?? [])]).toEqual([1])
  })

  it('refuses what MQTT cannot carry: an empty SUBSCRIBE or UNSUBSCRIBE, a QoS 1 PUBLISH without an id, a string over 65,535 bytes, an unknown property', () => {
    expect(() => writePacket({ cmd: 'subscribe', messageId: 1, subscriptions: [] }, 4)).toThrow(/at least one filter/)
    expect(() => writePacket({ cmd: 'unsubscribe', messageId: 1, unsubscriptions: [] }, 4)).toThrow(/at least one filter/)
    expect(() => writePacket({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, retain: false, dup: false }, 4)).toThrow(/packet id/)
    expect(() => writePacket({ cmd: 'publish', topic: 'x'.repeat(65_536), payload: '', qos: 0, retain: false, dup: false }, 4)).toThrow(/65535/)
    const odd = { cmd: 'disconnect', properties: { nonsense: 1 } } as unknown as Packet
    expect(() => writePacket(odd, 5)).toThrow(/unknown property nonsense/)
  })
})
