import { ProtocolError } from '../errors.js'
import { hasWildcard } from '../wildcards.js'
import type {
  AckPacket,
  AuthPacket,
  ConnackPacket,
  DisconnectPacket,
  IncomingPacket,
  IncomingPublishPacket,
  ProtocolVersion,
  QoS,
  SubackPacket,
  UnsubackPacket,
  UserProperties,
} from './packets.js'

/**
 * Reads one whole packet a server sent a client (MQTT 3.1.1 §2–3, MQTT 5.0 §2–3) and holds it to
 * the wire rules in the same pass: the packet types a server may send, reserved flags, UTF-8
 * without U+0000 or surrogates in every string, no wildcard in a topic name, no packet id 0, the
 * MQTT 5 properties each packet may carry (and which only once), reason codes, and fields that
 * run short or long. Each of those ends the connection (MQTT 5 §4.13); a lenient reader would let
 * them through (decoding ill-formed UTF-8 into U+FFFD, taking a property twice or anywhere).
 *
 * `bodyStart` is where the fixed header ends. A PUBLISH payload is a view on `bytes`, not a copy.
 * A failure throws a ProtocolError whose reasonCode is the DISCONNECT reason an MQTT 5 client
 * sends: 0x81 for a packet that is not well formed, 0x82 for a well-formed one the protocol forbids.
 */
export function readPacket(bytes: Uint8Array, bodyStart: number, version: ProtocolVersion): IncomingPacket {
  const first = bytes[0] as number
  const type = first >> 4
  // Type 0 is reserved, and so is 15 on 3.1.1 (it became AUTH in MQTT 5).
  if (type === 0 || (type === AUTH && version === 4)) throw malformed(`unknown packet type ${type}`)
  const name = PACKET_NAMES[type - 1] as string
  if (!SENT_BY_SERVERS.includes(type) || (version === 4 && type === DISCONNECT)) throw forbidden(`a server must not send ${name}`)
  checkFlags(type, first & 0x0f, name)
  const reader = new Reader(bytes, bodyStart, name)
  const packet = (BODIES[type] as Body)(reader, version, first)
  reader.finish()
  return packet
}

const CONNACK = 2
const PUBLISH = 3
const PUBREL = 6
const SUBACK = 9
const UNSUBACK = 11
const DISCONNECT = 14
const AUTH = 15

/** The name of each packet type from 1 (CONNECT), at index type - 1. */
const PACKET_NAMES = ['CONNECT', 'CONNACK', 'PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP', 'SUBSCRIBE', 'SUBACK', 'UNSUBSCRIBE', 'UNSUBACK', 'PINGREQ', 'PINGRESP', 'DISCONNECT', 'AUTH']

/** Packet types a server may send; DISCONNECT and AUTH only on MQTT 5. */
const SENT_BY_SERVERS = [2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]

function malformed(message: string): ProtocolError {
  return new ProtocolError(`Malformed packet from broker: ${message}`, { reasonCode: 0x81 })
}

/** Reason code 0x82 (Protocol Error), a ProtocolError's default. */
function forbidden(message: string): ProtocolError {
  return new ProtocolError(`Protocol error from broker: ${message}`)
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

type Body = (r: Reader, version: ProtocolVersion, first: number) => IncomingPacket

/** The reason codes each packet may carry (MQTT 5 §2.4; SUBACK and CONNACK on 3.1.1 too). */
const CONNACK_CODES_V4 = [0, 1, 2, 3, 4, 5]
const SUBACK_CODES_V4 = [0, 1, 2, 0x80]
const SUBACK_CODES = [0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]
const UNSUBACK_CODES = [0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]
const PUBACK_CODES = [0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]
const PUBREL_CODES = [0, 0x92]
const AUTH_CODES = [0, 0x18, 0x19]
const DISCONNECT_CODES = [0, 4, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2]

const BODIES: Record<number, Body> = {
  [CONNACK]: (r, version) => {
    const flags = r.byte('acknowledge flags')
    if (flags > 1) throw malformed('CONNACK with reserved acknowledge flag bits set')
    const code = r.byte(REASON_CODE)
    if (version === 4) {
      if (!CONNACK_CODES_V4.includes(code)) throw malformed(`CONNACK return code ${code}`)
      return { cmd: 'connack', sessionPresent: flags === 1, returnCode: code }
    }
    const packet: ConnackPacket = { cmd: 'connack', sessionPresent: flags === 1, reasonCode: code }
    // A 3.1.1 broker refuses an MQTT 5 CONNECT with a 3.1.1 CONNACK, which has no properties:
    // read it, so its refusal (not a malformed packet) is what the caller hears.
    if (!r.atEnd()) setProperties(packet, r.properties(CONNACK))
    return packet
  },
  [PUBLISH]: (r, version, first) => {
    const topic = r.string('topic', true)
    // An empty topic is an MQTT 5 alias-only PUBLISH: the topic aliases decide whether it is known.
    if (topic === '' && version === 4) throw forbidden('PUBLISH with an empty topic name')
    const qos = ((first >> 1) & 3) as QoS
    const packet: IncomingPublishPacket = { cmd: 'publish', topic, payload: EMPTY, qos, retain: (first & 1) === 1, dup: (first & 8) === 8 }
    if (qos > 0) packet.messageId = r.packetId()
    if (version === 5) setProperties(packet, r.properties(PUBLISH))
    packet.payload = r.rest()
    return packet
  },
  4: ack,
  5: ack,
  6: ack,
  7: ack,
  [SUBACK]: (r, version) => {
    const messageId = r.packetId()
    const properties = version === 5 ? r.properties(SUBACK) : undefined
    const packet: SubackPacket = { cmd: 'suback', messageId, granted: r.codes('return code', version === 5 ? SUBACK_CODES : SUBACK_CODES_V4) }
    setProperties(packet, properties)
    return packet
  },
  [UNSUBACK]: (r, version) => {
    const packet: UnsubackPacket = { cmd: 'unsuback', messageId: r.packetId() }
    if (version === 4) return packet
    setProperties(packet, r.properties(UNSUBACK))
    packet.granted = r.codes(REASON_CODE, UNSUBACK_CODES)
    return packet
  },
  13: () => ({ cmd: 'pingresp' }),
  [DISCONNECT]: (r) => {
    const packet: DisconnectPacket = { cmd: 'disconnect', reasonCode: 0 }
    reasonAndProperties(r, packet, DISCONNECT, DISCONNECT_CODES)
    return packet
  },
  [AUTH]: (r) => {
    const packet: AuthPacket = { cmd: 'auth', reasonCode: 0 }
    reasonAndProperties(r, packet, AUTH, AUTH_CODES)
    return packet
  },
}

const EMPTY = new Uint8Array(0)

/** The field's name in error messages, one for every packet that has it. */
const REASON_CODE = 'reason code'

/** PUBACK, PUBREC, PUBREL, PUBCOMP: a packet id, then on MQTT 5 an optional reason code (0 when left out) and properties. */
function ack(r: Reader, version: ProtocolVersion, first: number): AckPacket {
  const type = first >> 4
  const packet: AckPacket = { cmd: r.packet.toLowerCase() as AckPacket['cmd'], messageId: r.packetId() }
  if (version === 4) return packet
  packet.reasonCode = 0
  reasonAndProperties(r, packet, type, type < PUBREL ? PUBACK_CODES : PUBREL_CODES)
  return packet
}

/** MQTT 5: a reason code and a property block, each left out when the packet ends before it. */
function reasonAndProperties(r: Reader, packet: { reasonCode?: number; properties?: object }, type: number, codes: number[]): void {
  if (r.atEnd()) return
  const code = r.byte(REASON_CODE)
  if (!codes.includes(code)) throw malformed(`${r.packet} reason code 0x${code.toString(16)}`)
  packet.reasonCode = code
  if (!r.atEnd()) setProperties(packet, r.properties(type))
}

function setProperties(packet: { properties?: object }, properties: Properties | undefined): void {
  if (properties) packet.properties = properties
}

// ---- properties (MQTT 5 §2.2.2.2) ----

type Kind = 'flag' | 'byte' | 'two' | 'four' | 'varint' | 'string' | 'binary' | 'pair'

interface PropertyRule {
  /** The field it fills, as mqtt-packet names it; also its name in error messages. */
  key: string
  kind: Kind
  /** The packet types it may appear on. */
  on: readonly number[]
  /** Whether it may appear more than once (user properties, and subscription ids on PUBLISH). */
  repeats?: boolean
  /** Whether 0 is forbidden though the type allows it. */
  nonZero?: boolean
}

type Properties = Record<string, unknown>

const ACKS = [4, 5, 6, 7, SUBACK, UNSUBACK]

const PROPERTIES: Record<number, PropertyRule> = {
  0x01: { key: 'payloadFormatIndicator', kind: 'flag', on: [PUBLISH] },
  0x02: { key: 'messageExpiryInterval', kind: 'four', on: [PUBLISH] },
  0x03: { key: 'contentType', kind: 'string', on: [PUBLISH] },
  0x08: { key: 'responseTopic', kind: 'string', on: [PUBLISH] },
  0x09: { key: 'correlationData', kind: 'binary', on: [PUBLISH] },
  0x0b: { key: 'subscriptionIdentifier', kind: 'varint', on: [PUBLISH], repeats: true, nonZero: true },
  0x11: { key: 'sessionExpiryInterval', kind: 'four', on: [CONNACK, DISCONNECT] },
  0x12: { key: 'assignedClientIdentifier', kind: 'string', on: [CONNACK] },
  0x13: { key: 'serverKeepAlive', kind: 'two', on: [CONNACK] },
  0x15: { key: 'authenticationMethod', kind: 'string', on: [CONNACK, AUTH] },
  0x16: { key: 'authenticationData', kind: 'binary', on: [CONNACK, AUTH] },
  0x1a: { key: 'responseInformation', kind: 'string', on: [CONNACK] },
  0x1c: { key: 'serverReference', kind: 'string', on: [CONNACK, DISCONNECT] },
  0x1f: { key: 'reasonString', kind: 'string', on: [CONNACK, ...ACKS, DISCONNECT, AUTH] },
  0x21: { key: 'receiveMaximum', kind: 'two', on: [CONNACK], nonZero: true },
  0x22: { key: 'topicAliasMaximum', kind: 'two', on: [CONNACK] },
  0x23: { key: 'topicAlias', kind: 'two', on: [PUBLISH], nonZero: true },
  0x24: { key: 'maximumQoS', kind: 'byte', on: [CONNACK] },
  0x25: { key: 'retainAvailable', kind: 'flag', on: [CONNACK] },
  0x26: { key: 'userProperties', kind: 'pair', on: [CONNACK, PUBLISH, ...ACKS, DISCONNECT, AUTH], repeats: true },
  0x27: { key: 'maximumPacketSize', kind: 'four', on: [CONNACK], nonZero: true },
  0x28: { key: 'wildcardSubscriptionAvailable', kind: 'flag', on: [CONNACK] },
  0x29: { key: 'subscriptionIdentifiersAvailable', kind: 'flag', on: [CONNACK] },
  0x2a: { key: 'sharedSubscriptionAvailable', kind: 'flag', on: [CONNACK] },
}

// ---- reading ----

const text = new TextDecoder()

/** Reads one packet's body field by field, failing as malformed where a field runs past the end. */
class Reader {
  private pos: number
  private end: number

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    readonly packet: string,
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

  /** What is left of the body: a PUBLISH payload, as a view. */
  rest(): Uint8Array {
    const rest = this.bytes.subarray(this.pos, this.end)
    this.pos = this.end
    return rest
  }

  byte(field: string): number {
    this.need(1, field)
    return this.bytes[this.pos++] as number
  }

  packetId(): number {
    const id = this.two('packet identifier')
    if (id === 0) throw forbidden(`${this.packet} with packet identifier 0`)
    return id
  }

  /** One or more reason codes to the end of the packet, each one of `allowed`. */
  codes(field: string, allowed: number[]): number[] {
    if (this.atEnd()) throw malformed(`${this.packet} without ${field}s`)
    const codes: number[] = []
    while (!this.atEnd()) {
      const code = this.byte(field)
      if (!allowed.includes(code)) throw malformed(`${this.packet} ${field} 0x${code.toString(16)}`)
      codes.push(code)
    }
    return codes
  }

  /** A UTF-8 string; with `name` set, a topic name, which must hold no wildcard. */
  string(field: string, name = false): string {
    const length = this.two(`${field} length`)
    this.need(length, field)
    const start = this.pos
    this.pos += length
    const kind = checkUtf8(this.bytes, start, this.pos, `${this.packet} ${field}`)
    if (name && kind & WILDCARD) throw forbidden(`${this.packet} ${field} with a wildcard`)
    // Most topics are short and ASCII, which is quicker without a decoder (and apply, unlike a
    // spread, does not walk the bytes with an iterator).
    const view = this.bytes.subarray(start, this.pos)
    return kind & NON_ASCII || length > 64 ? text.decode(view) : String.fromCharCode.apply(null, view as unknown as number[])
  }

  /** A property block, as mqtt-packet would shape it; undefined when empty. */
  properties(type: number): Properties | undefined {
    const length = this.varint('property length')
    this.need(length, 'properties')
    if (length === 0) return undefined
    const outer = this.end
    this.end = this.pos + length
    const found: Properties = {}
    while (!this.atEnd()) this.property(type, found)
    this.end = outer
    return found
  }

  private property(type: number, found: Properties): void {
    const id = this.varint('property identifier')
    const rule = PROPERTIES[id]
    if (!rule || !rule.on.includes(type)) {
      throw malformed(rule ? `${rule.key} is not allowed on ${this.packet}` : `${this.packet} with unknown property 0x${id.toString(16)}`)
    }
    const { key } = rule
    if (key in found && !rule.repeats) throw forbidden(`${this.packet} with ${key} twice`)
    if (rule.kind === 'pair') return addUserProperty((found[key] ??= {}) as UserProperties, this.string(`${key} name`), this.string(`${key} value`))
    const value = this.value(rule)
    if (value === 0 && rule.nonZero) throw forbidden(`${this.packet} with ${key} 0`)
    const earlier = found[key]
    found[key] = earlier === undefined ? value : ([] as unknown[]).concat(earlier, value)
  }

  /** One property's value, of any kind but 'pair' (a user property, which property() reads). */
  private value(rule: PropertyRule): unknown {
    switch (rule.kind) {
      case 'flag': {
        const value = this.byte(rule.key)
        if (value > 1) throw forbidden(`${this.packet} with ${rule.key} ${value}`)
        return value === 1
      }
      case 'byte': {
        // Maximum QoS: 0 or 1 (a server that takes QoS 2 leaves it out).
        const value = this.byte(rule.key)
        if (value > 1) throw forbidden(`${this.packet} with ${rule.key} ${value}`)
        return value
      }
      case 'two':
        return this.two(rule.key)
      case 'four':
        return this.two(rule.key) * 65_536 + this.two(rule.key)
      case 'varint':
        return this.varint(rule.key)
      case 'binary': {
        const length = this.two(rule.key)
        this.need(length, rule.key)
        this.pos += length
        return this.bytes.slice(this.pos - length, this.pos)
      }
      case 'string': {
        const value = this.string(rule.key)
        if (rule.key === 'responseTopic' && hasWildcard(value)) throw forbidden(`${this.packet} responseTopic with a wildcard`)
        return value
      }
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

/** A user property given more than once under one name collects its values in order. */
function addUserProperty(all: UserProperties, name: string, value: string): void {
  const earlier = all[name]
  all[name] = earlier === undefined ? value : ([] as string[]).concat(earlier, value)
}

/** What checkUtf8 found, as bits: a wildcard, and characters past ASCII. */
export const WILDCARD = 1
export const NON_ASCII = 2

/**
 * Checks a UTF-8 string (MQTT §1.5.4): well formed, no UTF-16 surrogates, no U+0000. Says on the
 * way whether it holds a wildcard and whether it is more than ASCII, so topics are read once.
 */
export function checkUtf8(bytes: Uint8Array, start: number, end: number, field: string): number {
  let kind = 0
  let i = start
  while (i < end) {
    const b = bytes[i] as number
    if (b < 0x80) {
      if (b === 0) throw malformed(`${field} holds U+0000`)
      if (b === 0x23 || b === 0x2b) kind |= WILDCARD
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
    kind |= NON_ASCII
    i += size
  }
  return kind
}
