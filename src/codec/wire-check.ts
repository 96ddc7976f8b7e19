import { ProtocolError } from '../errors.js'
import type { ProtocolVersion } from './packets.js'

/**
 * The wire rules for what a server sends a client (MQTT 3.1.1 §2–3, MQTT 5.0 §2–3), checked on
 * the raw bytes of one whole packet before mqtt-packet parses it. mqtt-packet reads leniently:
 * it decodes ill-formed UTF-8 into U+FFFD, takes a property twice, takes any property on any
 * packet, and reads past a field that ends early. Each of those must end the connection instead
 * (MQTT 5 §4.13), so they are caught here, where the bytes still say exactly what came.
 *
 * A failure throws a ProtocolError whose reasonCode is the DISCONNECT reason an MQTT 5 client
 * sends: 0x81 for a packet that is not well formed, 0x82 for a well-formed one the protocol forbids.
 */
export function checkPacket(bytes: Uint8Array, bodyStart: number, version: ProtocolVersion): void {
  const first = bytes[0] as number
  const type = first >> 4
  const name = PACKET_NAMES[type] ?? 'reserved type 0'
  if (!SENT_BY_SERVERS.has(type) || (version === 4 && type >= DISCONNECT)) {
    const why = type === 0 || (version === 4 && type === AUTH) ? `unknown packet type ${type}` : `a server must not send ${name}`
    throw type === 0 || (version === 4 && type === AUTH) ? malformed(why) : forbidden(why)
  }
  checkFlags(type, first & 0x0f, name)
  const reader = new Reader(bytes, bodyStart, name)
  BODIES[type]?.(reader, version, first)
  reader.finish()
}

const CONNACK = 2
const PUBLISH = 3
const PUBREL = 6
const SUBACK = 9
const UNSUBACK = 11
const DISCONNECT = 14
const AUTH = 15

const PACKET_NAMES: Record<number, string> = {
  1: 'CONNECT', 2: 'CONNACK', 3: 'PUBLISH', 4: 'PUBACK', 5: 'PUBREC', 6: 'PUBREL', 7: 'PUBCOMP',
  8: 'SUBSCRIBE', 9: 'SUBACK', 10: 'UNSUBSCRIBE', 11: 'UNSUBACK', 12: 'PINGREQ', 13: 'PINGRESP',
  14: 'DISCONNECT', 15: 'AUTH',
}

/** Packet types a server may send; DISCONNECT and AUTH only on MQTT 5. */
const SENT_BY_SERVERS = new Set([2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15])

function malformed(message: string): ProtocolError {
  return new ProtocolError(`Malformed packet from broker: ${message}`, { reasonCode: 0x81 })
}

function forbidden(message: string): ProtocolError {
  return new ProtocolError(`Protocol error from broker: ${message}`, { reasonCode: 0x82 })
}

/** Fixed-header flags (§2.1.3): PUBLISH carries DUP, QoS and RETAIN; PUBREL must be 0010; the rest 0000. */
function checkFlags(type: number, flags: number, name: string): void {
  if (type === PUBLISH) {
    const qos = (flags >> 1) & 3
    if (qos === 3) throw malformed('PUBLISH with both QoS bits set')
    if (qos === 0 && (flags & 8) !== 0) throw forbidden('PUBLISH at QoS 0 with the DUP flag set')
    return
  }
  const expected = type === PUBREL ? 0b0010 : 0
  if (flags !== expected) throw malformed(`${name} with reserved flag bits ${flags.toString(2).padStart(4, '0')}`)
}

// ---- packet bodies ----

type Body = (r: Reader, version: ProtocolVersion, first: number) => void

const CONNACK_CODES_V4 = new Set([0, 1, 2, 3, 4, 5])
const SUBACK_CODES_V4 = new Set([0, 1, 2, 0x80])
const SUBACK_CODES_V5 = new Set([0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2])
const UNSUBACK_CODES = new Set([0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91])

const BODIES: Record<number, Body> = {
  [CONNACK]: (r, version) => {
    if ((r.byte('acknowledge flags') & 0xfe) !== 0) throw malformed('CONNACK with reserved acknowledge flag bits set')
    const code = r.byte('reason code')
    if (version === 4) {
      if (!CONNACK_CODES_V4.has(code)) throw malformed(`CONNACK return code ${code}`)
      return
    }
    r.properties(CONNACK)
  },
  [PUBLISH]: (r, version, first) => {
    const topic = r.string('topic')
    if (topic.wildcard) throw forbidden('PUBLISH topic name with a wildcard')
    // An empty topic is an MQTT 5 alias-only PUBLISH: the topic aliases decide whether it is known.
    if (topic.length === 0 && version === 4) throw forbidden('PUBLISH with an empty topic name')
    if (((first >> 1) & 3) > 0) r.packetId()
    if (version === 5) r.properties(PUBLISH)
    r.skipRest()
  },
  4: ack, 5: ack, 6: ack, 7: ack,
  [SUBACK]: (r, version) => {
    r.packetId()
    if (version === 5) r.properties(SUBACK)
    if (r.atEnd()) throw malformed('SUBACK without return codes')
    const codes = version === 5 ? SUBACK_CODES_V5 : SUBACK_CODES_V4
    while (!r.atEnd()) {
      const code = r.byte('return code')
      if (!codes.has(code)) throw malformed(`SUBACK return code 0x${code.toString(16)}`)
    }
  },
  [UNSUBACK]: (r, version) => {
    r.packetId()
    if (version === 4) return
    r.properties(UNSUBACK)
    if (r.atEnd()) throw malformed('UNSUBACK without reason codes')
    while (!r.atEnd()) {
      const code = r.byte('reason code')
      if (!UNSUBACK_CODES.has(code)) throw malformed(`UNSUBACK reason code 0x${code.toString(16)}`)
    }
  },
  [DISCONNECT]: (r) => reasonAndProperties(r, DISCONNECT),
  [AUTH]: (r) => reasonAndProperties(r, AUTH),
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP: a packet id, then on MQTT 5 an optional reason code and properties. */
function ack(r: Reader, version: ProtocolVersion, first: number): void {
  r.packetId()
  if (version === 5) reasonAndProperties(r, first >> 4)
}

/** MQTT 5: a reason code and a property block, each left out when the packet ends before it. */
function reasonAndProperties(r: Reader, type: number): void {
  if (r.atEnd()) return
  r.byte('reason code')
  if (!r.atEnd()) r.properties(type)
}

// ---- properties (MQTT 5 §2.2.2.2) ----

type Kind = 'flag' | 'two' | 'four' | 'varint' | 'string' | 'binary' | 'pair'

interface PropertyRule {
  name: string
  kind: Kind
  /** The packet types it may appear on. */
  on: readonly number[]
  /** Whether it may appear more than once (user properties, and subscription ids on PUBLISH). */
  repeats?: boolean
  /** A value the protocol forbids though the type allows it. */
  refuses?: (value: number) => boolean
}

const ACKS = [4, 5, 6, 7, SUBACK, UNSUBACK]
const isZero = (value: number) => value === 0

const PROPERTIES: Record<number, PropertyRule> = {
  0x01: { name: 'Payload Format Indicator', kind: 'flag', on: [PUBLISH] },
  0x02: { name: 'Message Expiry Interval', kind: 'four', on: [PUBLISH] },
  0x03: { name: 'Content Type', kind: 'string', on: [PUBLISH] },
  0x08: { name: 'Response Topic', kind: 'string', on: [PUBLISH] },
  0x09: { name: 'Correlation Data', kind: 'binary', on: [PUBLISH] },
  0x0b: { name: 'Subscription Identifier', kind: 'varint', on: [PUBLISH], repeats: true, refuses: isZero },
  0x11: { name: 'Session Expiry Interval', kind: 'four', on: [CONNACK, DISCONNECT] },
  0x12: { name: 'Assigned Client Identifier', kind: 'string', on: [CONNACK] },
  0x13: { name: 'Server Keep Alive', kind: 'two', on: [CONNACK] },
  0x15: { name: 'Authentication Method', kind: 'string', on: [CONNACK, AUTH] },
  0x16: { name: 'Authentication Data', kind: 'binary', on: [CONNACK, AUTH] },
  0x1a: { name: 'Response Information', kind: 'string', on: [CONNACK] },
  0x1c: { name: 'Server Reference', kind: 'string', on: [CONNACK, DISCONNECT] },
  0x1f: { name: 'Reason String', kind: 'string', on: [CONNACK, ...ACKS, DISCONNECT, AUTH] },
  0x21: { name: 'Receive Maximum', kind: 'two', on: [CONNACK], refuses: isZero },
  0x22: { name: 'Topic Alias Maximum', kind: 'two', on: [CONNACK] },
  0x23: { name: 'Topic Alias', kind: 'two', on: [PUBLISH], refuses: isZero },
  0x24: { name: 'Maximum QoS', kind: 'flag', on: [CONNACK] },
  0x25: { name: 'Retain Available', kind: 'flag', on: [CONNACK] },
  0x26: { name: 'User Property', kind: 'pair', on: [CONNACK, PUBLISH, ...ACKS, DISCONNECT, AUTH], repeats: true },
  0x27: { name: 'Maximum Packet Size', kind: 'four', on: [CONNACK], refuses: isZero },
  0x28: { name: 'Wildcard Subscription Available', kind: 'flag', on: [CONNACK] },
  0x29: { name: 'Subscription Identifier Available', kind: 'flag', on: [CONNACK] },
  0x2a: { name: 'Shared Subscription Available', kind: 'flag', on: [CONNACK] },
}

// ---- reading ----

interface StringFacts {
  length: number
  /** Whether it holds + or #, which only a topic filter may. */
  wildcard: boolean
}

/** Reads one packet's body field by field, failing as malformed where a field runs past the end. */
class Reader {
  private pos: number
  private end: number

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly packet: string,
  ) {
    this.pos = start
    this.end = bytes.length
  }

  atEnd(): boolean {
    return this.pos >= this.end
  }

  /** Every byte of the body must belong to a field. */
  finish(): void {
    if (this.pos !== this.end) throw malformed(`${this.packet} with ${this.end - this.pos} bytes after its last field`)
  }

  skipRest(): void {
    this.pos = this.end
  }

  byte(field: string): number {
    this.need(1, field)
    return this.bytes[this.pos++] as number
  }

  packetId(): void {
    if (this.two('packet identifier') === 0) throw forbidden(`${this.packet} with packet identifier 0`)
  }

  string(field: string): StringFacts {
    const length = this.two(`${field} length`)
    this.need(length, field)
    const facts = checkUtf8(this.bytes, this.pos, this.pos + length, `${this.packet} ${field}`)
    this.pos += length
    return facts
  }

  properties(type: number): void {
    const length = this.varint('property length')
    this.need(length, 'properties')
    const outer = this.end
    this.end = this.pos + length
    const seen = new Set<number>()
    while (!this.atEnd()) this.property(type, seen)
    this.end = outer
  }

  private property(type: number, seen: Set<number>): void {
    const id = this.varint('property identifier')
    const rule = PROPERTIES[id]
    if (!rule || !rule.on.includes(type)) {
      throw malformed(rule ? `${rule.name} is not allowed on ${this.packet}` : `${this.packet} with unknown property 0x${id.toString(16)}`)
    }
    if (seen.has(id) && !rule.repeats) throw forbidden(`${this.packet} with ${rule.name} twice`)
    seen.add(id)
    const value = this.value(rule)
    if (rule.refuses?.(value)) throw forbidden(`${this.packet} with ${rule.name} ${value}`)
  }

  /** Reads a property's value; the number for numeric kinds, 0 otherwise. */
  private value(rule: PropertyRule): number {
    switch (rule.kind) {
      case 'flag': {
        const value = this.byte(rule.name)
        if (value > 1) throw forbidden(`${this.packet} with ${rule.name} ${value}`)
        return value
      }
      case 'two':
        return this.two(rule.name)
      case 'four':
        return this.two(rule.name) * 65_536 + this.two(rule.name)
      case 'varint':
        return this.varint(rule.name)
      case 'string':
        if (this.string(rule.name).wildcard && rule.name === 'Response Topic') throw forbidden(`${this.packet} Response Topic with a wildcard`)
        return 0
      case 'binary': {
        const length = this.two(rule.name)
        this.need(length, rule.name)
        this.pos += length
        return 0
      }
      case 'pair':
        this.string(`${rule.name} name`)
        this.string(`${rule.name} value`)
        return 0
    }
  }

  private two(field: string): number {
    this.need(2, field)
    const value = ((this.bytes[this.pos] as number) << 8) | (this.bytes[this.pos + 1] as number)
    this.pos += 2
    return value
  }

  private varint(field: string): number {
    let value = 0
    let multiplier = 1
    for (let i = 0; i < 4; i++) {
      const byte = this.byte(field)
      value += (byte & 0x7f) * multiplier
      if ((byte & 0x80) === 0) return value
      multiplier *= 128
    }
    throw malformed(`${this.packet} ${field} longer than four bytes`)
  }

  private need(count: number, field: string): void {
    if (this.pos + count > this.end) throw malformed(`${this.packet} ends inside its ${field}`)
  }
}

/**
 * Checks a UTF-8 string (MQTT §1.5.4): well formed, no UTF-16 surrogates, no U+0000. Notes
 * whether it holds a wildcard on the way, so topics are read once.
 */
export function checkUtf8(bytes: Uint8Array, start: number, end: number, field: string): StringFacts {
  let wildcard = false
  let i = start
  while (i < end) {
    const b = bytes[i] as number
    if (b < 0x80) {
      if (b === 0) throw malformed(`${field} holds U+0000`)
      if (b === 0x23 || b === 0x2b) wildcard = true
      i++
      continue
    }
    const size = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (size === 0 || i + size > end) throw malformed(`${field} is not valid UTF-8`)
    const second = bytes[i + 1] as number
    // The second byte's range rules out overlong forms, surrogates (ED A0..BF) and code points past U+10FFFF.
    const low = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    const high = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    if (second < low || second > high) throw malformed(`${field} is not valid UTF-8`)
    for (let k = 2; k < size; k++) {
      if (((bytes[i + k] as number) & 0xc0) !== 0x80) throw malformed(`${field} is not valid UTF-8`)
    }
    i += size
  }
  return { length: end - start, wildcard }
}
