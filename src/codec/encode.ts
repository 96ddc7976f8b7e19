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
    case 'publish':
      if (typeof packet.payload === 'string' || Buffer.isBuffer(packet.payload)) return packet as unknown as WirePacket
      return { ...packet, payload: asBuffer(packet.payload) } as unknown as WirePacket
    case 'connect': {
      const wire: Record<string, unknown> = { ...packet }
      if (packet.password) wire.password = asBuffer(packet.password)
      if (packet.will) wire.will = { ...packet.will, payload: asBuffer(packet.will.payload) }
      return wire as unknown as WirePacket
    }
    default:
      return packet as unknown as WirePacket
  }
}

function asBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength)
}
