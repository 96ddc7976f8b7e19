import { MAX_REMAINING_LENGTH, MAX_STRING_BYTES, varintLength, writeVarint } from './limits.js'
import type { Packet, ProtocolVersion, UserProperties } from './packets.js'

const utf8 = new TextEncoder()

/**
 * How each MQTT 5 property a client may send is written (MQTT 5.0 §2.2.2.2): its identifier and
 * its type. Those only a server sends (in CONNACK, SUBACK and the like) are left out, and refused.
 */
const PROPERTIES: Record<string, [id: number, type: 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary']> = {
  payloadFormatIndicator: [0x01, 'byte'],
  messageExpiryInterval: [0x02, 'u32'],
  contentType: [0x03, 'string'],
  responseTopic: [0x08, 'string'],
  correlationData: [0x09, 'binary'],
  subscriptionIdentifier: [0x0b, 'varint'],
  sessionExpiryInterval: [0x11, 'u32'],
  authenticationMethod: [0x15, 'string'],
  authenticationData: [0x16, 'binary'],
  requestProblemInformation: [0x17, 'byte'],
  willDelayInterval: [0x18, 'u32'],
  requestResponseInformation: [0x19, 'byte'],
  serverReference: [0x1c, 'string'],
  reasonString: [0x1f, 'string'],
  receiveMaximum: [0x21, 'u16'],
  topicAliasMaximum: [0x22, 'u16'],
  topicAlias: [0x23, 'u16'],
  maximumPacketSize: [0x27, 'u32'],
}
const USER_PROPERTY = 0x26

/** Bytes gathered front to back: small fields one by one, payloads as they are. */
class Writer {
  private readonly parts: Array<number | Uint8Array> = []
  size = 0

  byte(n: number): this {
    this.parts.push(n & 0xff)
    this.size++
    return this
  }

  u16(n: number): this {
    return this.byte(n >> 8).byte(n)
  }

  u32(n: number): this {
    return this.u16(Math.floor(n / 0x10000)).u16(n % 0x10000)
  }

  varint(n: number): this {
    const bytes = new Uint8Array(varintLength(n))
    writeVarint(bytes, 0, n)
    return this.raw(bytes)
  }

  string(s: string): this {
    const bytes = utf8.encode(s)
    if (bytes.length > MAX_STRING_BYTES) throw new Error(`string of ${bytes.length} bytes exceeds ${MAX_STRING_BYTES}`)
    return this.u16(bytes.length).raw(bytes)
  }

  binary(bytes: Uint8Array): this {
    if (bytes.length > MAX_STRING_BYTES) throw new Error(`binary data of ${bytes.length} bytes exceeds ${MAX_STRING_BYTES}`)
    return this.u16(bytes.length).raw(bytes)
  }

  raw(bytes: Uint8Array): this {
    this.parts.push(bytes)
    this.size += bytes.length
    return this
  }

  /** The whole packet: the fixed header's first byte, the remaining length, then what was written. */
  packet(first: number): Uint8Array {
    if (this.size > MAX_REMAINING_LENGTH) throw new Error(`packet of ${this.size} bytes exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`)
    const out = new Uint8Array(1 + varintLength(this.size) + this.size)
    out[0] = first
    this.copyInto(out, writeVarint(out, 1, this.size))
    return out
  }

  /** What was written, with no header: a property block. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.size)
    this.copyInto(out, 0)
    return out
  }

  private copyInto(out: Uint8Array, at: number): void {
    for (const part of this.parts) {
      if (typeof part === 'number') out[at++] = part
      else {
        out.set(part, at)
        at += part.length
      }
    }
  }
}

/** MQTT 5 properties, with their length in front; the empty list is one zero byte. */
function properties(w: Writer, given: object | undefined): void {
  const p = new Writer()
  for (const [name, value] of Object.entries(given ?? {})) {
    if (value === undefined) continue
    if (name === 'userProperties') {
      for (const [key, values] of Object.entries(value as UserProperties)) {
        for (const v of Array.isArray(values) ? values : [values]) p.byte(USER_PROPERTY).string(key).string(String(v))
      }
      continue
    }
    const spec = PROPERTIES[name]
    if (!spec) throw new Error(`unknown property ${name}`)
    const [id, type] = spec
    for (const v of Array.isArray(value) ? value : [value]) {
      p.byte(id)
      if (type === 'byte') p.byte(Number(v))
      else if (type === 'u16') p.u16(v as number)
      else if (type === 'u32') p.u32(v as number)
      else if (type === 'varint') p.varint(v as number)
      else if (type === 'string') p.string(v as string)
      else p.binary(v as Uint8Array)
    }
  }
  w.varint(p.size)
  if (p.size > 0) w.raw(p.bytes())
}

/**
 * Every packet a client writes, straight into bytes (MQTT 3.1.1 §3 and 5.0 §3): what
 * fast-encode does not take. Throws a plain Error on a packet MQTT cannot carry.
 */
export function writePacket(packet: Packet, version: ProtocolVersion): Uint8Array {
  const v5 = version === 5
  const w = new Writer()
  switch (packet.cmd) {
    case 'connect': {
      const will = packet.will
      const flags =
        (packet.username !== undefined ? 0x80 : 0) |
        (packet.password !== undefined ? 0x40 : 0) |
        (will ? 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0) : 0) |
        (packet.clean ? 0x02 : 0)
      w.string('MQTT').byte(packet.protocolVersion).byte(flags).u16(packet.keepalive)
      if (v5) properties(w, packet.properties)
      w.string(packet.clientId)
      if (will) {
        if (v5) properties(w, will.properties)
        w.string(will.topic).binary(will.payload)
      }
      if (packet.username !== undefined) w.string(packet.username)
      if (packet.password !== undefined) w.binary(packet.password)
      return w.packet(0x10)
    }
    case 'publish': {
      w.string(packet.topic)
      if (packet.qos > 0) w.u16(packet.messageId ?? fail('a QoS 1 or 2 PUBLISH needs a packet id'))
      if (v5) properties(w, packet.properties)
      w.raw(typeof packet.payload === 'string' ? utf8.encode(packet.payload) : packet.payload)
      return w.packet(0x30 | (packet.dup ? 0x08 : 0) | (packet.qos << 1) | (packet.retain ? 1 : 0))
    }
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      w.u16(packet.messageId)
      if (v5 && (packet.properties || (packet.reasonCode ?? 0) !== 0)) {
        w.byte(packet.reasonCode ?? 0)
        if (packet.properties) properties(w, packet.properties)
      }
      return w.packet(ACK_FIRST_BYTE[packet.cmd])
    case 'subscribe':
      if (packet.subscriptions.length === 0) fail('a SUBSCRIBE needs at least one filter')
      w.u16(packet.messageId)
      if (v5) properties(w, packet.properties)
      for (const s of packet.subscriptions) {
        const options = v5 ? (s.nl ? 0x04 : 0) | (s.rap ? 0x08 : 0) | ((s.rh ?? 0) << 4) : 0
        w.string(s.topic).byte(s.qos | options)
      }
      return w.packet(0x82)
    case 'unsubscribe':
      if (packet.unsubscriptions.length === 0) fail('an UNSUBSCRIBE needs at least one filter')
      w.u16(packet.messageId)
      if (v5) properties(w, packet.properties)
      for (const topic of packet.unsubscriptions) w.string(topic)
      return w.packet(0xa2)
    case 'pingreq':
      return w.packet(0xc0)
    case 'pingresp':
      return w.packet(0xd0)
    case 'disconnect':
      if (v5 && (packet.properties || (packet.reasonCode ?? 0) !== 0)) {
        w.byte(packet.reasonCode ?? 0)
        if (packet.properties) properties(w, packet.properties)
      }
      return w.packet(0xe0)
    case 'auth':
      w.byte(packet.reasonCode)
      properties(w, packet.properties)
      return w.packet(0xf0)
    default:
      return fail(`a client does not send ${packet.cmd.toUpperCase()}`)
  }
}

const ACK_FIRST_BYTE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const

function fail(message: string): never {
  throw new Error(message)
}
