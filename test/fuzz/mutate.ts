import { UTF8_MARK_BYTES } from './corpus.js'
import type { Rng } from './prng.js'
import { closeProperties, encodeVarint, frame, openProperties, readVarint, unframe } from './wire.js'

/**
 * Structural mutations of one encoded packet: each breaks one thing a broker's packet is made
 * of (the type and flags, the remaining length, the body's extent, a property, a string's
 * UTF-8, a packet id, a topic) and, where it can, keeps the rest well formed so that the client's
 * checks past the first one are reached too.
 */
export type Mutation = (rng: Rng, packet: Uint8Array, donor: Uint8Array) => Uint8Array | undefined

/** UTF-8 sequences MQTT forbids in a string (§1.5.4), three bytes each to take the mark's place. */
const BAD_UTF8: ReadonlyArray<readonly number[]> = [
  [0xed, 0xa0, 0x80], // a lone surrogate, U+D800
  [0xc0, 0x80, 0x41], // an overlong NUL
  [0xff, 0x41, 0x41], // a byte that is never UTF-8
  [0x00, 0x41, 0x41], // NUL, U+0000
  [0x41, 0xc3, 0x41], // a sequence cut short
  [0xf8, 0x88, 0x80], // a five-byte form
  [0xef, 0xbf, 0xbf], // U+FFFF, a non-character
]

/** Property identifiers a broker may not send in the packet at hand, or that no packet may carry. */
const STRAY_PROPERTIES: ReadonlyArray<readonly number[]> = [
  [0x11, 0, 0, 0, 5], // session expiry interval: not in PUBLISH or acks
  [0x23, 0, 1], // topic alias: only in PUBLISH
  [0x0b, 0], // subscription identifier 0: never valid
  [0x19, 1], // request response information: only in CONNECT
  [0x17, 1], // request problem information: only in CONNECT
  [0x7f, 0], // no such property
  [0x00], // no such property, and nothing after it
  [0x24, 7], // maximum QoS 7
  [0x01, 2], // payload format indicator 2
]

const withBody = (packet: Uint8Array, change: (first: number, body: number[]) => number[] | undefined): Uint8Array | undefined => {
  const framed = unframe(packet)
  if (!framed) return undefined
  const body = change(framed.first, [...framed.body])
  return body === undefined ? undefined : frame(framed.first, body)
}

export const MUTATIONS: Readonly<Record<string, Mutation>> = {
  flipBits(rng, packet) {
    const out = packet.slice()
    for (let n = rng.range(1, 3); n > 0; n--) {
      const at = rng.int(out.length)
      out[at] = (out[at] as number) ^ (1 << rng.int(8))
    }
    return out
  },
  typeNibble(rng, packet) {
    const out = packet.slice()
    out[0] = (rng.int(16) << 4) | ((out[0] as number) & 0x0f)
    return out
  },
  flagBits(rng, packet) {
    const out = packet.slice()
    out[0] = ((out[0] as number) & 0xf0) | rng.int(16)
    return out
  },
  remainingLength(rng, packet) {
    const length = readVarint(packet, 1)
    if (!length) return undefined
    const body = packet.subarray(1 + length.length)
    const forms: number[][] = [
      encodeVarint(Math.max(0, length.value + rng.range(-3, 3))),
      encodeVarint(rng.int(1 << rng.range(1, 28))),
      [0xff, 0xff, 0xff, 0x7f], // the largest remaining length
      [0xff, 0xff, 0xff, 0xff, 0x7f], // five bytes: not a remaining length at all
      [0x80, 0x80, 0x80, 0x80], // never ends
      [(length.value & 0x7f) | 0x80, 0x00], // the right value, not in its shortest form
      [0],
    ]
    return Uint8Array.from([packet[0] as number, ...rng.pick(forms), ...body])
  },
  truncate(rng, packet) {
    return packet.slice(0, rng.int(packet.length))
  },
  truncateBody(rng, packet) {
    return withBody(packet, (_, body) => body.slice(0, rng.int(body.length + 1)))
  },
  extendBody(rng, packet) {
    return withBody(packet, (_, body) => [...body, ...rng.bytes(rng.range(1, 6))])
  },
  appendRaw(rng, packet) {
    return Uint8Array.from([...packet, ...rng.bytes(rng.range(1, 4))])
  },
  cutBytes(rng, packet) {
    const at = rng.int(packet.length)
    const out = [...packet]
    out.splice(at, rng.range(1, 4))
    return Uint8Array.from(out)
  },
  cutBodyBytes(rng, packet) {
    return withBody(packet, (_, body) => {
      if (body.length === 0) return undefined
      body.splice(rng.int(body.length), rng.range(1, 3))
      return body
    })
  },
  duplicateBytes(rng, packet) {
    return withBody(packet, (_, body) => {
      if (body.length === 0) return undefined
      const at = rng.int(body.length)
      const piece = body.slice(at, at + rng.range(1, 6))
      body.splice(at, 0, ...piece)
      return body
    })
  },
  splice(rng, packet, donor) {
    const from = rng.int(donor.length)
    const piece = donor.slice(from, from + rng.range(1, 12))
    const out = [...packet]
    out.splice(rng.int(out.length + 1), rng.int(3), ...piece)
    return Uint8Array.from(out)
  },
  repeatProperty(rng, packet) {
    const opened = openProperties(packet)
    if (!opened || opened.properties.length === 0) return undefined
    const at = rng.int(opened.properties.length)
    opened.properties.splice(rng.int(opened.properties.length + 1), 0, opened.properties[at] as Uint8Array)
    return closeProperties(opened)
  },
  strayProperty(rng, packet) {
    const opened = openProperties(packet)
    if (!opened) return undefined
    opened.properties.splice(rng.int(opened.properties.length + 1), 0, Uint8Array.from(rng.pick(STRAY_PROPERTIES)))
    return closeProperties(opened)
  },
  dropProperty(rng, packet) {
    const opened = openProperties(packet)
    if (!opened || opened.properties.length === 0) return undefined
    opened.properties.splice(rng.int(opened.properties.length), 1)
    return closeProperties(opened)
  },
  invalidUtf8(rng, packet) {
    const at = indexOfMark(packet)
    if (at < 0) return undefined
    const out = packet.slice()
    out.set(rng.pick(BAD_UTF8), at)
    return out
  },
  packetIdZero(_, packet) {
    return withBody(packet, (first, body) => {
      const type = first >> 4
      let at: number | undefined
      if (type >= 4 && type <= 11) at = 0
      else if (type === 3 && (first >> 1) & 3) at = 2 + (((body[0] ?? 0) << 8) | (body[1] ?? 0))
      if (at === undefined || at + 2 > body.length) return undefined
      body[at] = 0
      body[at + 1] = 0
      return body
    })
  },
  wildcardTopic(rng, packet) {
    return withBody(packet, (first, body) => {
      const topicLength = ((body[0] ?? 0) << 8) | (body[1] ?? 0)
      if (first >> 4 !== 3 || topicLength === 0 || 2 + topicLength > body.length) return undefined
      body[2 + rng.int(topicLength)] = rng.pick([0x2b, 0x23]) // '+' or '#'
      return body
    })
  },
}

export const MUTATION_NAMES = Object.keys(MUTATIONS)

function indexOfMark(packet: Uint8Array): number {
  const [a, b, c] = UTF8_MARK_BYTES
  for (let i = 0; i + 2 < packet.length; i++) if (packet[i] === a && packet[i + 1] === b && packet[i + 2] === c) return i
  return -1
}

/** Applies one to three mutations; returns the packet and the names of those that took. */
export function mutate(rng: Rng, packet: Uint8Array, donor: Uint8Array): { bytes: Uint8Array; applied: string[] } {
  let bytes = packet
  const applied: string[] = []
  for (let n = rng.chance(0.75) ? 1 : rng.range(2, 3); n > 0; n--) {
    // A mark in the packet is worth more often breaking: invalid UTF-8 is a case of its own.
    const name = indexOfMark(bytes) >= 0 && rng.chance(0.3) ? 'invalidUtf8' : rng.pick(MUTATION_NAMES)
    const next = (MUTATIONS[name] as Mutation)(rng, bytes, donor)
    if (next === undefined || next.length === 0) continue
    bytes = next
    applied.push(name)
  }
  return { bytes, applied }
}

/** Cuts a byte stream into 1 to `most` frames at random points (none empty). */
export function splitFrames(rng: Rng, stream: Uint8Array, most: number): Uint8Array[] {
  if (stream.length <= 1) return [stream]
  const cuts = new Set<number>()
  for (let n = rng.int(most); n > 0; n--) cuts.add(rng.range(1, stream.length - 1))
  const points = [0, ...[...cuts].sort((x, y) => x - y), stream.length]
  const frames: Uint8Array[] = []
  for (let i = 1; i < points.length; i++) frames.push(stream.slice(points[i - 1], points[i]))
  return frames
}

export function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}
