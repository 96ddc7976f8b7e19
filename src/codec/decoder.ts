import { concatBytes } from '../bytes.js'
import { ProtocolError } from '../errors.js'
import type { IncomingPacket, ProtocolVersion } from './packets.js'
import { readPacket } from './read-packet.js'

export interface DecoderOptions {
  protocolVersion: ProtocolVersion
  /** Largest whole packet (header included) accepted from the broker, in bytes. */
  maxPacketSize: number
}

/**
 * Turns a stream of bytes into packets. It finds packet boundaries itself, from the fixed header,
 * so that an oversized or malformed length is refused before any byte of the body is buffered,
 * and so that each packet is read (read-packet.ts) from exactly its own bytes. Any failure throws
 * a ProtocolError; the decoder is unusable afterwards.
 */
export class Decoder {
  private readonly maxPacketSize: number
  private readonly version: ProtocolVersion
  private chunks: Uint8Array[] = []
  private buffered = 0

  constructor(options: DecoderOptions) {
    this.maxPacketSize = options.maxPacketSize
    this.version = options.protocolVersion
  }

  /** Bytes buffered that do not yet make a whole packet. */
  get pendingBytes(): number {
    return this.buffered
  }

  push(bytes: Uint8Array): IncomingPacket[] {
    const out: IncomingPacket[] = []
    if (this.buffered === 0) {
      this.keepRest(bytes, this.drain(bytes, out))
      return out
    }
    this.chunks.push(bytes)
    this.buffered += bytes.length
    // Join the pieces only once a whole packet is there, so a packet arriving in many small
    // frames costs one copy rather than one per frame.
    const header = readHeader(this.chunks, this.buffered)
    if (header === undefined || this.buffered < this.checkSize(header)) return out
    const joined = concatBytes(this.chunks, this.buffered)
    this.chunks = []
    this.buffered = 0
    this.keepRest(joined, this.drain(joined, out))
    return out
  }

  /** Decodes every whole packet in buf; returns the offset of the first byte not consumed. */
  private drain(buf: Uint8Array, out: IncomingPacket[]): number {
    let offset = 0
    const chunks = [buf]
    // What is left holds no whole header at the latest once nothing is left: that ends the loop.
    for (;;) {
      const header = readHeader(chunks, buf.length, offset)
      if (header === undefined) break
      const end = offset + this.checkSize(header)
      if (end > buf.length) break
      out.push(readPacket(buf.subarray(offset, end), header.headerLength, this.version))
      offset = end
    }
    return offset
  }

  private keepRest(buf: Uint8Array, offset: number): void {
    if (offset >= buf.length) return
    this.chunks = [buf.subarray(offset)]
    this.buffered = buf.length - offset
  }

  private checkSize(header: Header): number {
    const size = header.headerLength + header.remaining
    if (size > this.maxPacketSize) {
      throw new ProtocolError(`Packet of ${size} bytes exceeds the limit of ${this.maxPacketSize} bytes`, { reasonCode: PACKET_TOO_LARGE })
    }
    return size
  }
}

/** The MQTT 5 DISCONNECT reasons for what the decoder refuses. */
const MALFORMED = 0x81
const PACKET_TOO_LARGE = 0x95

interface Header {
  headerLength: number
  remaining: number
}

/**
 * Reads the fixed header that starts `start` bytes into the chunks: undefined when more bytes are
 * needed. (An offset rather than a view: a frame of many small packets would make a view each.)
 */
function readHeader(chunks: readonly Uint8Array[], available: number, start = 0): Header | undefined {
  let remaining = 0
  let multiplier = 1
  let index = 1
  for (;;) {
    if (start + index >= available) return undefined
    const byte = byteAt(chunks, start + index)
    remaining += (byte & 0x7f) * multiplier
    index++
    if ((byte & 0x80) === 0) break
    multiplier *= 128
    if (index > 4) throw new ProtocolError('Malformed remaining length', { reasonCode: MALFORMED })
  }
  return { headerLength: index, remaining }
}

function byteAt(chunks: readonly Uint8Array[], index: number): number {
  for (const chunk of chunks) {
    if (index < chunk.length) return chunk[index] as number
    index -= chunk.length
  }
  return 0
}
