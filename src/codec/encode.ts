import { Buffer } from './shims/buffer.js'
import { generate, writeToStream } from 'mqtt-packet'
import type { Packet as WirePacket } from 'mqtt-packet'
import { ProtocolError } from '../errors.js'
import { encodeFast } from './fast-encode.js'
import type { Packet, ProtocolVersion } from './packets.js'

// mqtt-packet otherwise fills a cache of 65,536 two-byte Buffers on its first encode: several MB
// of objects, and a pause, for a client that uses a handful of packet ids at a time.
;(writeToStream as unknown as { cacheNumbers: boolean }).cacheNumbers = false

/**
 * Encodes one packet to bytes. mqtt-packet copies payloads with Buffer#copy, so plain Uint8Arrays
 * are wrapped as Buffer views first (no copy). It throws on a packet it cannot encode; callers
 * validate input before it gets here, so a throw means a bug, reported as a ProtocolError.
 */
export function encode(packet: Packet, protocolVersion: ProtocolVersion): Uint8Array {
  const fast = encodeFast(packet, protocolVersion)
  if (fast) return fast
  try {
    return generate(toWire(packet), { protocolVersion })
  } catch (err) {
    throw new ProtocolError(`Cannot encode ${packet.cmd}: ${(err as Error).message}`, { cause: err })
  }
}

function toWire(packet: Packet): WirePacket {
  switch (packet.cmd) {
    case 'publish': {
      const plain = typeof packet.payload === 'string' || Buffer.isBuffer(packet.payload)
      if (plain && !packet.properties?.correlationData) return packet as unknown as WirePacket
      const wire: Record<string, unknown> = { ...packet }
      if (!plain) wire.payload = asBuffer(packet.payload as Uint8Array)
      if (packet.properties) wire.properties = binaryAsBuffers(packet.properties)
      return wire as unknown as WirePacket
    }
    case 'connect': {
      const wire: Record<string, unknown> = { ...packet }
      if (packet.password) wire.password = asBuffer(packet.password)
      if (packet.will) {
        const will: Record<string, unknown> = { ...packet.will, payload: asBuffer(packet.will.payload) }
        if (packet.will.properties) will.properties = binaryAsBuffers(packet.will.properties)
        wire.will = will
      }
      if (packet.properties) wire.properties = binaryAsBuffers(packet.properties)
      return wire as unknown as WirePacket
    }
    case 'auth':
      return (packet.properties ? { ...packet, properties: binaryAsBuffers(packet.properties) } : packet) as unknown as WirePacket
    default:
      return packet as unknown as WirePacket
  }
}

/** The MQTT 5 properties that carry bytes, as Buffers: mqtt-packet copies them with Buffer#copy. */
function binaryAsBuffers<P extends { correlationData?: Uint8Array; authenticationData?: Uint8Array }>(properties: P): P {
  const out = { ...properties }
  if (out.correlationData) out.correlationData = asBuffer(out.correlationData)
  if (out.authenticationData) out.authenticationData = asBuffer(out.authenticationData)
  return out
}

function asBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
}
