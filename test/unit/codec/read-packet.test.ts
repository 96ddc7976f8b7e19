import { generate, parser, type Packet as WirePacket } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import type { IncomingPacket, ProtocolVersion } from '../../../src/codec/packets.js'
import { checkUtf8, NON_ASCII, readPacket, WILDCARD } from '../../../src/codec/read-packet.js'
import { ProtocolError } from '../../../src/errors.js'
import { packet, props, str } from '../../support/raw-packets.js'

function check(bytes: Uint8Array, version: ProtocolVersion): IncomingPacket {
  let at = 1
  while ((bytes[at] as number) & 0x80) at++
  return readPacket(bytes, at + 1, version)
}

function refusal(bytes: Uint8Array, version: ProtocolVersion): ProtocolError {
  try {
    check(bytes, version)
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError)
    return err as ProtocolError
  }
  throw new Error('the packet was accepted')
}

const MALFORMED = 0x81
const PROTOCOL = 0x82

/** [what the broker did wrong, version, bytes, DISCONNECT reason, message fragment] */
const refused: Array<[string, ProtocolVersion, Uint8Array, number, RegExp]> = [
  ['packet type 0', 4, packet(0x00), MALFORMED, /unknown packet type 0/],
  ['CONNECT, which only clients send', 4, packet(0x10, ...str('MQTT'), 4, 2, 0, 60, ...str('c')), PROTOCOL, /must not send CONNECT/],
  ['SUBSCRIBE', 4, packet(0x82, 0, 1, ...str('a'), 0), PROTOCOL, /must not send SUBSCRIBE/],
  ['UNSUBSCRIBE', 5, packet(0xa2, 0, 1, 0, ...str('a')), PROTOCOL, /must not send UNSUBSCRIBE/],
  ['PINGREQ', 4, packet(0xc0), PROTOCOL, /must not send PINGREQ/],
  ['DISCONNECT on 3.1.1, where only clients send it', 4, packet(0xe0), PROTOCOL, /must not send DISCONNECT/],
  ['type 15 on 3.1.1, where it is reserved', 4, packet(0xf0), MALFORMED, /unknown packet type 15/],
  ['PUBLISH with both QoS bits set', 4, packet(0x36, ...str('t'), 0, 1), MALFORMED, /both QoS bits/],
  ['PUBLISH at QoS 0 with DUP set', 4, packet(0x38, ...str('t')), PROTOCOL, /DUP/],
  ['PUBACK with a reserved flag bit', 4, packet(0x41, 0, 1), MALFORMED, /PUBACK with reserved flag bits 0001/],
  ['PUBREL without its 0010 flags', 4, packet(0x60, 0, 1), MALFORMED, /PUBREL with reserved flag bits 0000/],
  ['PINGRESP with flags', 4, packet(0xd8), MALFORMED, /PINGRESP with reserved flag bits/],
  ['SUBACK with flags', 4, packet(0x92, 0, 1, 0), MALFORMED, /SUBACK with reserved flag bits/],
  ['CONNACK with reserved acknowledge flags', 4, packet(0x20, 0x02, 0), MALFORMED, /acknowledge flag/],
  ['3.1.1 CONNACK return code 6', 4, packet(0x20, 0, 6), MALFORMED, /return code 6/],
  ['3.1.1 CONNACK with a byte too many', 4, packet(0x20, 0, 0, 0), MALFORMED, /1 bytes after its last field/],
  ['CONNACK cut short', 4, packet(0x20, 0), MALFORMED, /ends inside its reason code/],
  ['a topic that is an overlong U+0000', 4, packet(0x30, ...str([0x61, 0xc0, 0x80])), MALFORMED, /topic is not valid UTF-8/],
  ['a topic with a UTF-16 surrogate', 4, packet(0x30, ...str([0x61, 0xed, 0xa0, 0x80])), MALFORMED, /not valid UTF-8/],
  ['a topic with U+0000', 4, packet(0x30, ...str([0x61, 0x00])), MALFORMED, /U\+0000/],
  ['a topic with the byte FF', 4, packet(0x30, ...str([0xff])), MALFORMED, /not valid UTF-8/],
  ['a topic ending inside a character', 4, packet(0x30, ...str([0x61, 0xe2, 0x82])), MALFORMED, /not valid UTF-8/],
  ['a topic with a code point past U+10FFFF', 4, packet(0x30, ...str([0xf4, 0x90, 0x80, 0x80])), MALFORMED, /not valid UTF-8/],
  ['a topic with a stray continuation byte', 4, packet(0x30, ...str([0x80])), MALFORMED, /not valid UTF-8/],
  ['a three-byte character with a bad last byte', 4, packet(0x30, ...str([0xe2, 0x82, 0x41])), MALFORMED, /not valid UTF-8/],
  ['a topic name with +', 4, packet(0x30, ...str('a/+')), PROTOCOL, /wildcard/],
  ['a topic name with #', 5, packet(0x30, ...str('#'), 0), PROTOCOL, /wildcard/],
  ['a QoS 1 PUBLISH with packet id 0', 4, packet(0x32, ...str('t'), 0, 0), PROTOCOL, /packet identifier 0/],
  ['a QoS 2 PUBLISH cut inside its packet id', 4, packet(0x34, ...str('t'), 0), MALFORMED, /ends inside its packet identifier/],
  ['a 3.1.1 PUBLISH with an empty topic', 4, packet(0x30, ...str('')), PROTOCOL, /empty topic/],
  ['a topic length that runs past the packet', 4, packet(0x30, 0, 9, 0x61), MALFORMED, /ends inside its topic/],
  ['PUBACK with packet id 0', 4, packet(0x40, 0, 0), PROTOCOL, /PUBACK with packet identifier 0/],
  ['3.1.1 PUBACK with a reason code', 4, packet(0x40, 0, 1, 0), MALFORMED, /after its last field/],
  ['SUBACK without return codes', 4, packet(0x90, 0, 1), MALFORMED, /without return codes/],
  ['SUBACK return code 3', 4, packet(0x90, 0, 1, 3), MALFORMED, /return code 0x3/],
  ['MQTT 5 SUBACK code 0x11, an UNSUBACK code', 5, packet(0x90, 0, 1, 0, 0x11), MALFORMED, /return code 0x11/],
  ['3.1.1 UNSUBACK with codes', 4, packet(0xb0, 0, 1, 0), MALFORMED, /after its last field/],
  ['MQTT 5 UNSUBACK without reason codes', 5, packet(0xb0, 0, 1, 0), MALFORMED, /without reason codes/],
  ['MQTT 5 UNSUBACK code 0x01', 5, packet(0xb0, 0, 1, 0, 1), MALFORMED, /reason code 0x1/],
  ['PINGRESP with a body', 4, packet(0xd0, 0), MALFORMED, /after its last field/],
  ['a property twice', 5, packet(0x30, ...str('t'), ...props(0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2)), PROTOCOL, /messageExpiryInterval twice/],
  ['a property not allowed on PUBLISH', 5, packet(0x30, ...str('t'), ...props(0x21, 0, 5)), MALFORMED, /receiveMaximum is not allowed on PUBLISH/],
  ['a property not allowed on CONNACK', 5, packet(0x20, 0, 0, ...props(0x23, 0, 1)), MALFORMED, /topicAlias is not allowed on CONNACK/],
  ['a property not allowed on DISCONNECT', 5, packet(0xe0, 0, ...props(0x23, 0, 1)), MALFORMED, /topicAlias is not allowed on DISCONNECT/],
  ['Reason String twice on PUBACK', 5, packet(0x40, 0, 1, 0, ...props(0x1f, ...str('a'), 0x1f, ...str('b'))), PROTOCOL, /reasonString twice/],
  ['an unknown property', 5, packet(0x30, ...str('t'), ...props(0x7f, 0)), MALFORMED, /unknown property 0x7f/],
  ['a property identifier longer than four bytes', 5, packet(0x30, ...str('t'), ...props(0x80, 0x80, 0x80, 0x80, 0x01)), MALFORMED, /longer than four bytes/],
  ['Topic Alias 0', 5, packet(0x30, ...str('t'), ...props(0x23, 0, 0)), PROTOCOL, /topicAlias 0/],
  ['Subscription Identifier 0', 5, packet(0x30, ...str('t'), ...props(0x0b, 0)), PROTOCOL, /subscriptionIdentifier 0/],
  ['Receive Maximum 0', 5, packet(0x20, 0, 0, ...props(0x21, 0, 0)), PROTOCOL, /receiveMaximum 0/],
  ['Maximum Packet Size 0', 5, packet(0x20, 0, 0, ...props(0x27, 0, 0, 0, 0)), PROTOCOL, /maximumPacketSize 0/],
  ['Maximum QoS 2', 5, packet(0x20, 0, 0, ...props(0x24, 2)), PROTOCOL, /maximumQoS 2/],
  ['Retain Available 2', 5, packet(0x20, 0, 0, ...props(0x25, 2)), PROTOCOL, /retainAvailable 2/],
  ['a Response Topic with a wildcard', 5, packet(0x30, ...str('t'), ...props(0x08, ...str('r/#'))), PROTOCOL, /responseTopic with a wildcard/],
  ['a Reason String that is not UTF-8', 5, packet(0x40, 0, 1, 0x10, ...props(0x1f, ...str([0xc3]))), MALFORMED, /reasonString is not valid UTF-8/],
  ['a User Property name with U+0000', 5, packet(0xe0, 0, ...props(0x26, ...str([0]), ...str('v'))), MALFORMED, /userProperties name holds U\+0000/],
  ['a property block longer than the packet', 5, packet(0x40, 0, 1, 0, 9, 0x1f), MALFORMED, /ends inside its properties/],
  ['a property value cut short', 5, packet(0x20, 0, 0, ...props(0x27, 0, 0)), MALFORMED, /ends inside its maximumPacketSize/],
  ['Correlation Data longer than the block', 5, packet(0x30, ...str('t'), ...props(0x09, 0, 5, 1)), MALFORMED, /ends inside its correlationData/],
]

describe('the wire check refuses what a server must not send', () => {
  it.each(refused)('refuses %s', (_what, version, bytes, reasonCode, message) => {
    const err = refusal(bytes, version)
    expect(err.reasonCode).toBe(reasonCode)
    expect(err.message).toMatch(message)
  })

  it('has a row for each rule in the list above: at least 55 hostile packets', () => {
    expect(refused.length).toBeGreaterThanOrEqual(55)
  })
})

/** What brokers send, written by mqtt-packet, each version. */
const valid: Array<[ProtocolVersion, WirePacket]> = [
  [4, { cmd: 'connack', sessionPresent: true, returnCode: 0 }],
  [4, { cmd: 'connack', sessionPresent: false, returnCode: 5 }],
  [4, { cmd: 'publish', topic: 'a/b', payload: Buffer.from('x'), qos: 0, retain: true, dup: false }],
  [4, { cmd: 'publish', topic: 'é/€/𝄞', payload: Buffer.alloc(0), qos: 2, messageId: 65_535, retain: false, dup: true }],
  [4, { cmd: 'puback', messageId: 1 }],
  [4, { cmd: 'pubrec', messageId: 1 }],
  [4, { cmd: 'pubrel', messageId: 1 }],
  [4, { cmd: 'pubcomp', messageId: 1 }],
  [4, { cmd: 'suback', messageId: 1, granted: [0, 1, 2, 128] }],
  [4, { cmd: 'unsuback', messageId: 1, granted: [] }],
  [4, { cmd: 'pingresp' }],
  [5, {
    cmd: 'connack', sessionPresent: false, reasonCode: 0,
    properties: {
      sessionExpiryInterval: 10, receiveMaximum: 5, maximumQoS: 1, retainAvailable: false, maximumPacketSize: 2000,
      assignedClientIdentifier: 'id', topicAliasMaximum: 3, reasonString: 'ok', userProperties: { a: ['1', '2'], b: '3' },
      wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true, sharedSubscriptionAvailable: false,
      serverKeepAlive: 30, responseInformation: 'r', serverReference: 's', authenticationMethod: 'm', authenticationData: Buffer.from([1]),
    },
  }],
  [5, {
    cmd: 'publish', topic: '', payload: Buffer.from('x'), qos: 1, messageId: 3, retain: false, dup: false,
    properties: {
      payloadFormatIndicator: true, messageExpiryInterval: 9, topicAlias: 2, responseTopic: 'r/1', correlationData: Buffer.from([1, 2]),
      userProperties: { k: 'v' }, subscriptionIdentifier: [1, 268_435_455], contentType: 'text/plain',
    },
  }],
  [5, { cmd: 'puback', messageId: 1, reasonCode: 0x10, properties: { reasonString: 'none', userProperties: { a: 'b' } } }],
  [5, { cmd: 'pubrec', messageId: 1, reasonCode: 0x80 }],
  [5, { cmd: 'pubrel', messageId: 1, reasonCode: 0x92 }],
  [5, { cmd: 'pubcomp', messageId: 1 }],
  [5, { cmd: 'suback', messageId: 1, granted: [0, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2], properties: { reasonString: 'r' } }],
  [5, { cmd: 'unsuback', messageId: 1, granted: [0, 0x11, 0x80], properties: { userProperties: { a: 'b' } } }],
  [5, { cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'other', reasonString: 'moved', sessionExpiryInterval: 0 } }],
  [5, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'm', authenticationData: Buffer.from([7]), reasonString: 'more' } }],
]

describe('the wire check lets through what brokers send', () => {
  it.each(valid)('takes an MQTT %i %o', (version, wire) => {
    expect(() => check(new Uint8Array(generate(wire, { protocolVersion: version })), version)).not.toThrow()
  })

  it('reads the 3.1.1 CONNACK with which a 3.1.1 broker refuses an MQTT 5 CONNECT (return code 1, no properties)', () => {
    expect(check(packet(0x20, 0, 1), 5)).toEqual({ cmd: 'connack', sessionPresent: false, reasonCode: 1 })
  })

  it('takes the short forms of MQTT 5 acknowledgements: no reason code, or a reason code without properties', () => {
    for (const bytes of [packet(0x40, 0, 1), packet(0x50, 0, 1, 0x10), packet(0x62, 0, 1), packet(0xe0), packet(0xe0, 0x04), packet(0xf0)]) {
      expect(() => check(bytes, 5)).not.toThrow()
    }
  })

  it('reads every well-formed UTF-8 form, from one byte to four, and notes a wildcard and characters past ASCII', () => {
    const kind = (s: string) => {
      const bytes = new TextEncoder().encode(s)
      return checkUtf8(bytes, 0, bytes.length, 'topic')
    }
    expect(kind('aé€𝄞\u{10FFFF}\u{D7FF}\u{E000}')).toBe(NON_ASCII)
    expect(kind('a/+/b')).toBe(WILDCARD)
    expect(kind('é/#')).toBe(WILDCARD | NON_ASCII)
    expect(kind('#/é')).toBe(WILDCARD | NON_ASCII)
    expect(kind('plain/ascii')).toBe(0)
  })
})

/**
 * mqtt-packet's parser is the independent reference: on every packet a broker may send, our
 * reader must give what it gives (its Buffers read as bytes, its bookkeeping fields left aside).
 */
function theirs(bytes: Uint8Array, version: ProtocolVersion): unknown {
  let out: unknown
  const reader = parser({ protocolVersion: version })
  reader.on('packet', (p) => (out = p))
  reader.on('error', (err) => (out = err))
  reader.parse(Buffer.from(bytes))
  return plain(out)
}

/** Buffers as plain bytes; mqtt-packet's length and unused topic/payload fields dropped. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value === null || typeof value !== 'object' || value instanceof Error) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === 'length' || (v === null && (k === 'topic' || k === 'payload'))) continue
    out[k] = plain(v)
  }
  return out
}

describe('the reader gives what mqtt-packet gives', () => {
  it.each(valid)('reads an MQTT %i %o as mqtt-packet does', (version, wire) => {
    const bytes = new Uint8Array(generate(wire, { protocolVersion: version }))
    const ours = plain(check(bytes, version)) as Record<string, unknown>
    const reference = theirs(bytes, version) as Record<string, unknown>
    // mqtt-packet keeps retain/qos/dup on every packet; ours only on PUBLISH, where they mean something.
    if (reference.cmd !== 'publish') for (const k of ['retain', 'qos', 'dup']) delete reference[k]
    expect(ours).toEqual(reference)
  })

  it('agrees with mqtt-packet on 3,000 random corruptions of valid packets: whatever ours reads, it reads too, the same', () => {
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    let read = 0
    for (let i = 0; i < 3000; i++) {
      const [version, wire] = valid[random(valid.length)] as [ProtocolVersion, WirePacket]
      const bytes = new Uint8Array(generate(wire, { protocolVersion: version }))
      // Change one body byte: lengths, ids, codes, property ids and text all get hit.
      const at = 2 + random(Math.max(1, bytes.length - 2))
      if (at < bytes.length) bytes[at] = random(256)
      let ours: unknown
      try {
        ours = check(bytes, version)
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError)
        continue
      }
      read++
      const reference = theirs(bytes, version) as Record<string, unknown>
      expect(reference).not.toBeInstanceOf(Error)
      if (reference.cmd !== 'publish') for (const k of ['retain', 'qos', 'dup']) delete reference[k]
      expect(plain(ours)).toEqual(reference)
    }
    expect(read).toBeGreaterThan(300)
  })
})

describe('UTF-8 at the edges of each form', () => {
  const topic = (bytes: number[]) => (check(packet(0x30, ...str(bytes)), 4) as { topic: string }).topic

  /** [code point, its UTF-8 bytes]: the first and last of each length, and either side of the surrogates. */
  const edges: Array<[number, number[]]> = [
    [0x80, [0xc2, 0x80]],
    [0x7ff, [0xdf, 0xbf]],
    [0x800, [0xe0, 0xa0, 0x80]],
    [0xd7ff, [0xed, 0x9f, 0xbf]],
    [0xe000, [0xee, 0x80, 0x80]],
    [0xffff, [0xef, 0xbf, 0xbf]],
    [0x10000, [0xf0, 0x90, 0x80, 0x80]],
    [0x10ffff, [0xf4, 0x8f, 0xbf, 0xbf]],
  ]

  const named = edges.map(([codePoint, bytes]) => [codePoint.toString(16).toUpperCase().padStart(4, '0'), codePoint, bytes] as const)

  it.each(named)('reads U+%s back from its UTF-8 bytes', (_hex, codePoint, bytes) => {
    expect(topic(bytes)).toBe(String.fromCodePoint(codePoint))
    expect(checkUtf8(Uint8Array.from(bytes), 0, bytes.length, 'topic')).toBe(NON_ASCII)
  })

  /** [what is wrong, bytes]: each exactly one would-be character, so no length check hides it. */
  const invalid: Array<[string, number[]]> = [
    ['C0 lead (overlong)', [0xc0, 0x80]],
    ['C1 lead (overlong)', [0xc1, 0xbf]],
    ['C1 lead before two continuations', [0xc1, 0x80, 0x80]],
    ['C1 lead before three continuations', [0xc1, 0x80, 0x80, 0x80]],
    ['three continuation bytes', [0x80, 0x80, 0x80]],
    ['four continuation bytes', [0x80, 0x80, 0x80, 0x80]],
    ['overlong three-byte form (E0 80 80)', [0xe0, 0x80, 0x80]],
    ['overlong three-byte form of U+07FF (E0 9F BF)', [0xe0, 0x9f, 0xbf]],
    ['overlong four-byte form (F0 80 80 80)', [0xf0, 0x80, 0x80, 0x80]],
    ['overlong four-byte form of U+FFFF (F0 8F BF BF)', [0xf0, 0x8f, 0xbf, 0xbf]],
    ['a code point past U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
    ['F5 lead', [0xf5, 0x80, 0x80, 0x80]],
    ['FF lead', [0xff, 0x80, 0x80, 0x80]],
    ['a two-byte lead whose second byte is ASCII (C3 28)', [0xc3, 0x28]],
    ['a three-byte lead whose second byte is ASCII (E2 28 A1)', [0xe2, 0x28, 0xa1]],
    ['a surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
  ]

  it.each(invalid)('refuses %s', (_what, bytes) => {
    const err = refusal(packet(0x30, ...str(bytes)), 4)
    expect(err.reasonCode).toBe(MALFORMED)
    expect(err.message).toBe('Malformed packet from broker: PUBLISH topic is not valid UTF-8')
  })
})

describe('only topic names and Response Topic refuse wildcards', () => {
  it('takes + and # in a Reason String and in a User Property name and value', () => {
    const bytes = packet(0x40, 0, 1, 0x10, ...props(0x1f, ...str('a/+/#'), 0x26, ...str('+'), ...str('#')))
    expect(check(bytes, 5)).toStrictEqual({
      cmd: 'puback', messageId: 1, reasonCode: 0x10, properties: { reasonString: 'a/+/#', userProperties: { '+': '#' } },
    })
  })

  it('takes + and # in a Content Type, but not in a Response Topic', () => {
    const read = check(packet(0x30, ...str('t'), ...props(0x03, ...str('+/#'))), 5)
    expect(read).toMatchObject({ properties: { contentType: '+/#' } })
    const err = refusal(packet(0x30, ...str('t'), ...props(0x08, ...str('a/+'))), 5)
    expect(err.reasonCode).toBe(PROTOCOL)
    expect(err.message).toBe('Protocol error from broker: PUBLISH responseTopic with a wildcard')
  })
})

describe('reason codes by version', () => {
  it('refuses a 3.1.1 SUBACK with code 0x83, which only MQTT 5 has', () => {
    const err = refusal(packet(0x90, 0, 1, 0x83), 4)
    expect(err.reasonCode).toBe(MALFORMED)
    expect(err.message).toBe('Malformed packet from broker: SUBACK return code 0x83')
    expect(check(packet(0x90, 0, 1, 0, 0x83), 5)).toStrictEqual({ cmd: 'suback', messageId: 1, granted: [0x83] })
  })
})

describe('an empty property block leaves no properties key', () => {
  it.each<[string, Uint8Array, IncomingPacket]>([
    ['PUBLISH', packet(0x30, ...str('t'), 0, 0x78), { cmd: 'publish', topic: 't', payload: Uint8Array.of(0x78), qos: 0, retain: false, dup: false }],
    ['PUBACK', packet(0x40, 0, 1, 0x10, 0), { cmd: 'puback', messageId: 1, reasonCode: 0x10 }],
    ['SUBACK', packet(0x90, 0, 2, 0, 1), { cmd: 'suback', messageId: 2, granted: [1] }],
    ['UNSUBACK', packet(0xb0, 0, 2, 0, 0), { cmd: 'unsuback', messageId: 2, granted: [0] }],
    ['CONNACK', packet(0x20, 1, 0, 0), { cmd: 'connack', sessionPresent: true, reasonCode: 0 }],
    ['DISCONNECT', packet(0xe0, 0x8e, 0), { cmd: 'disconnect', reasonCode: 0x8e }],
    ['AUTH', packet(0xf0, 0x18, 0), { cmd: 'auth', reasonCode: 0x18 }],
  ])('reads an MQTT 5 %s with zero property bytes', (_name, bytes, expected) => {
    expect(check(bytes, 5)).toStrictEqual(expected)
  })
})

describe('refusals name the packet and the field in full', () => {
  /** [what, version, bytes, the whole message] */
  const messages: Array<[string, ProtocolVersion, Uint8Array, string]> = [
    ['type 0', 4, packet(0x00), 'Malformed packet from broker: unknown packet type 0'],
    ['type 15 on 3.1.1', 4, packet(0xf0), 'Malformed packet from broker: unknown packet type 15'],
    ['DISCONNECT on 3.1.1', 4, packet(0xe0), 'Protocol error from broker: a server must not send DISCONNECT'],
    ['CONNECT', 5, packet(0x10), 'Protocol error from broker: a server must not send CONNECT'],
    ['UNSUBSCRIBE', 4, packet(0xa2, 0, 1, ...str('a')), 'Protocol error from broker: a server must not send UNSUBSCRIBE'],
    ['an empty CONNACK', 4, packet(0x20), 'Malformed packet from broker: CONNACK ends inside its acknowledge flags'],
    ['a CONNACK without its reason code', 5, packet(0x20, 0), 'Malformed packet from broker: CONNACK ends inside its reason code'],
    ['a PUBLISH cut inside its topic length', 4, packet(0x30, 0), 'Malformed packet from broker: PUBLISH ends inside its topic length'],
    ['an MQTT 5 PUBLISH without its property length', 5, packet(0x30, ...str('t')), 'Malformed packet from broker: PUBLISH ends inside its property length'],
    [
      'a property identifier longer than four bytes', 5, packet(0x30, ...str('t'), ...props(0x80, 0x80, 0x80, 0x80, 0x01)),
      'Malformed packet from broker: PUBLISH property identifier longer than four bytes',
    ],
    [
      'a User Property name with U+0000', 5, packet(0xe0, 0, ...props(0x26, ...str([0]), ...str('v'))),
      'Malformed packet from broker: DISCONNECT userProperties name holds U+0000',
    ],
    [
      'a User Property value with U+0000', 5, packet(0xe0, 0, ...props(0x26, ...str('n'), ...str([0x61, 0]))),
      'Malformed packet from broker: DISCONNECT userProperties value holds U+0000',
    ],
    [
      'a User Property value cut short', 5, packet(0xe0, 0, ...props(0x26, ...str('n'), 0)),
      'Malformed packet from broker: DISCONNECT ends inside its userProperties value length',
    ],
    ['an UNSUBACK without reason codes', 5, packet(0xb0, 0, 1, 0), 'Malformed packet from broker: UNSUBACK without reason codes'],
    ['an UNSUBACK reason code it does not have', 5, packet(0xb0, 0, 1, 0, 0x02), 'Malformed packet from broker: UNSUBACK reason code 0x2'],
    ['an AUTH reason code it does not have', 5, packet(0xf0, 0x01), 'Malformed packet from broker: AUTH reason code 0x1'],
    ['an AUTH with a property it may not carry', 5, packet(0xf0, 0x18, ...props(0x23, 0, 1)), 'Malformed packet from broker: topicAlias is not allowed on AUTH'],
    ['a PUBCOMP with packet identifier 0', 4, packet(0x70, 0, 0), 'Protocol error from broker: PUBCOMP with packet identifier 0'],
  ]

  it.each(messages)('refuses %s', (_what, version, bytes, message) => {
    expect(refusal(bytes, version).message).toBe(message)
  })
})
