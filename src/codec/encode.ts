import { ProtocolError } from '../errors.js'
import { encodeFast } from './fast-encode.js'
import type { Packet, ProtocolVersion } from './packets.js'
import { writePacket } from './write-packet.js'

/**
 * Encodes one packet to bytes: the busiest packets through fast-encode, the rest through
 * write-packet, both our own. A packet MQTT cannot carry throws;
 * callers check input before it gets here, so a throw means a bug, reported as a ProtocolError.
 */
export function encode(packet: Packet, protocolVersion: ProtocolVersion): Uint8Array {
  const fast = encodeFast(packet, protocolVersion)
  if (fast) return fast
  try {
    return writePacket(packet, protocolVersion)
  } catch (err) {
    throw new ProtocolError(`Cannot encode ${packet.cmd}: ${(err as Error).message}`, { cause: err })
  }
}
