import { utf8Length } from '../bytes.js'
import { MAX_REMAINING_LENGTH, MAX_STRING_BYTES, publishRemainingLength, varintLength, writeVarint } from './limits.js'
import type { AckPacket, Packet, ProtocolVersion, PublishPacket } from './packets.js'

const utf8 = new TextEncoder()
const ACK_TYPE = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const

/**
 * The packets a busy client sends most, PUBLISH and the four acknowledgements, written straight
 * into one Uint8Array, without the several intermediate buffers a general packet writer makes.
 * Returns undefined for anything else, or when MQTT 5.0 properties (but for a lone topic alias)
 * or a reason code are present: write-packet.ts writes those. test/unit/codec/fast-encode.test.ts
 * holds both to the same bytes.
 */
export function encodeFast(packet: Packet, protocolVersion: ProtocolVersion): Uint8Array | undefined {
  if (packet.cmd === 'publish') return encodePublish(packet, protocolVersion)
  if (packet.cmd === 'puback' || packet.cmd === 'pubrec' || packet.cmd === 'pubrel' || packet.cmd === 'pubcomp') {
    return encodeAck(packet)
  }
  return undefined
}

function encodePublish(packet: PublishPacket, protocolVersion: ProtocolVersion): Uint8Array | undefined {
  const { topic, payload, qos } = packet
  // A topic alias is the one property written here: the client adds it to every repeated topic.
  const alias = aliasOnly(packet)
  if ((packet.properties !== undefined && alias === undefined) || (qos > 0 && packet.messageId === undefined)) return undefined
  const topicLength = utf8Length(topic)
  const payloadLength = typeof payload === 'string' ? utf8Length(payload) : payload.length
  // MQTT 5.0: an empty property list is one zero byte; a topic alias alone takes four.
  const remaining = publishRemainingLength(topicLength, qos, payloadLength, protocolVersion !== 5 ? 0 : alias === undefined ? 1 : 4)
  if (remaining > MAX_REMAINING_LENGTH || topicLength > MAX_STRING_BYTES) return undefined // write-packet reports it
  const out = new Uint8Array(1 + varintLength(remaining) + remaining)
  out[0] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0)
  let at = writeVarint(out, 1, remaining)
  out[at++] = topicLength >> 8
  out[at++] = topicLength & 0xff
  at += utf8.encodeInto(topic, out.subarray(at, at + topicLength)).written
  if (qos > 0) {
    const id = packet.messageId as number // checked above
    out[at++] = id >> 8
    out[at++] = id & 0xff
  }
  if (protocolVersion === 5 && alias === undefined) out[at++] = 0
  else if (protocolVersion === 5) {
    out[at++] = 3
    out[at++] = 0x23
    out[at++] = (alias as number) >> 8
    out[at++] = (alias as number) & 0xff
  }
  if (typeof payload === 'string') utf8.encodeInto(payload, out.subarray(at))
  else out.set(payload, at)
  return out
}

/** The packet's topic alias when that is its only property, else undefined. */
function aliasOnly(packet: PublishPacket): number | undefined {
  const properties = packet.properties
  if (properties === undefined || properties.topicAlias === undefined) return undefined
  for (const key in properties) if (key !== 'topicAlias' && properties[key as keyof typeof properties] !== undefined) return undefined
  return properties.topicAlias
}

function encodeAck(packet: AckPacket): Uint8Array | undefined {
  // A success without properties is the short form in both versions (MQTT 5.0 §3.4.2.1).
  if (packet.properties !== undefined || (packet.reasonCode !== undefined && packet.reasonCode !== 0)) return undefined
  const id = packet.messageId
  return Uint8Array.of(ACK_TYPE[packet.cmd], 2, id >> 8, id & 0xff)
}
