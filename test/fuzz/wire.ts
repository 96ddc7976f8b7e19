/**
 * Just enough of the MQTT wire layout to mutate a packet by its parts rather than blindly: the
 * fixed header, where an MQTT 5 packet's properties sit, and each property's extent. Written from
 * the MQTT 5.0 specification (§1.5, §2.1, §2.2.2.2); it reads only packets that mqtt-packet made.
 */

/** MQTT 5 property identifiers and how each value is laid out (§2.2.2.2). */
export const PROPERTY_KINDS: Readonly<Record<number, 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair'>> = {
  0x01: 'byte', // payload format indicator
  0x02: 'u32', // message expiry interval
  0x03: 'utf8', // content type
  0x08: 'utf8', // response topic
  0x09: 'binary', // correlation data
  0x0b: 'varint', // subscription identifier
  0x11: 'u32', // session expiry interval
  0x12: 'utf8', // assigned client identifier
  0x13: 'u16', // server keep alive
  0x15: 'utf8', // authentication method
  0x16: 'binary', // authentication data
  0x17: 'byte', // request problem information
  0x18: 'u32', // will delay interval
  0x19: 'byte', // request response information
  0x1a: 'utf8', // response information
  0x1c: 'utf8', // server reference
  0x1f: 'utf8', // reason string
  0x21: 'u16', // receive maximum
  0x22: 'u16', // topic alias maximum
  0x23: 'u16', // topic alias
  0x24: 'byte', // maximum QoS
  0x25: 'byte', // retain available
  0x26: 'pair', // user property
  0x27: 'u32', // maximum packet size
  0x28: 'byte', // wildcard subscription available
  0x29: 'byte', // subscription identifiers available
  0x2a: 'byte', // shared subscription available
}

export function encodeVarint(value: number): number[] {
  const out: number[] = []
  do {
    let byte = value % 128
    value = Math.floor(value / 128)
    if (value > 0) byte |= 0x80
    out.push(byte)
  } while (value > 0)
  return out
}

/** A variable byte integer at `offset`: its value and length, or undefined when it runs off the end or past 4 bytes. */
export function readVarint(bytes: Uint8Array, offset: number): { value: number; length: number } | undefined {
  let value = 0
  let multiplier = 1
  for (let i = 0; i < 4; i++) {
    const byte = bytes[offset + i]
    if (byte === undefined) return undefined
    value += (byte & 0x7f) * multiplier
    if ((byte & 0x80) === 0) return { value, length: i + 1 }
    multiplier *= 128
  }
  return undefined
}

/** One whole packet, cut into its first byte and its body (what the remaining length counts). */
export interface Framed {
  first: number
  body: Uint8Array
}

export function unframe(packet: Uint8Array): Framed | undefined {
  const length = readVarint(packet, 1)
  if (packet[0] === undefined || !length || 1 + length.length + length.value !== packet.length) return undefined
  return { first: packet[0], body: packet.subarray(1 + length.length) }
}

export function frame(first: number, body: Uint8Array | number[]): Uint8Array {
  return Uint8Array.from([first, ...encodeVarint(body.length), ...body])
}

/** Where an MQTT 5 packet's property length sits in its body; undefined for packets without properties. */
export function propertiesOffset(first: number, body: Uint8Array): number | undefined {
  switch (first >> 4) {
    case 2: // CONNACK: flags, reason code
      return body.length >= 3 ? 2 : undefined
    case 3: {
      // PUBLISH: topic, then a packet id at QoS 1 and 2
      const topicLength = ((body[0] ?? 0) << 8) | (body[1] ?? 0)
      const offset = 2 + topicLength + ((first >> 1) & 3 ? 2 : 0)
      return offset < body.length ? offset : undefined
    }
    case 4: // PUBACK
    case 5: // PUBREC
    case 6: // PUBREL
    case 7: // PUBCOMP: packet id, reason code; properties only when there are more bytes
      return body.length >= 4 ? 3 : undefined
    case 9: // SUBACK
    case 11: // UNSUBACK: packet id
      return body.length >= 3 ? 2 : undefined
    case 14: // DISCONNECT
    case 15: // AUTH: reason code
      return body.length >= 2 ? 1 : undefined
    default:
      return undefined
  }
}

/** An MQTT 5 packet with its properties apart, so they can be changed and the lengths made right again. */
export interface Opened {
  first: number
  before: Uint8Array
  properties: Uint8Array[]
  after: Uint8Array
}

export function openProperties(packet: Uint8Array): Opened | undefined {
  const framed = unframe(packet)
  if (!framed) return undefined
  const { first, body } = framed
  const at = propertiesOffset(first, body)
  if (at === undefined) return undefined
  const length = readVarint(body, at)
  if (!length) return undefined
  const start = at + length.length
  const end = start + length.value
  if (end > body.length) return undefined
  const properties: Uint8Array[] = []
  let offset = start
  while (offset < end) {
    const size = propertySize(body, offset)
    if (size === undefined || offset + size > end) return undefined
    properties.push(body.slice(offset, offset + size))
    offset += size
  }
  return { first, before: body.slice(0, at), properties, after: body.slice(end) }
}

/** The packet again, with a property length and remaining length that fit what it now holds. */
export function closeProperties(opened: Opened): Uint8Array {
  const properties = opened.properties.flatMap((p) => [...p])
  return frame(opened.first, [...opened.before, ...encodeVarint(properties.length), ...properties, ...opened.after])
}

/** Bytes of the property at `offset` (identifier included), or undefined when it is not one we know or runs off the end. */
function propertySize(body: Uint8Array, offset: number): number | undefined {
  const id = body[offset]
  const kind = id === undefined ? undefined : PROPERTY_KINDS[id]
  const value = offset + 1
  const u16 = (at: number) => ((body[at] ?? 0) << 8) | (body[at + 1] ?? 0)
  switch (kind) {
    case 'byte':
      return 2
    case 'u16':
      return 3
    case 'u32':
      return 5
    case 'varint': {
      const v = readVarint(body, value)
      return v ? 1 + v.length : undefined
    }
    case 'utf8':
    case 'binary':
      return 3 + u16(value)
    case 'pair': {
      const key = u16(value)
      return 1 + 2 + key + 2 + u16(value + 2 + key)
    }
    default:
      return undefined
  }
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
export const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'))
