import { generate, parser } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { MAX_REMAINING_LENGTH } from '../../../src/codec/limits.js'
import { encodeFast } from '../../../src/codec/fast-encode.js'
import type { AckPacket, ProtocolVersion, PublishPacket, QoS } from '../../../src/codec/packets.js'

/** A fixed-seed generator, so that a failure names a case that can be run again. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0
    return s / 2 ** 32
  }
}

const TEXT = ['a', 'é', '€', '𝄞', '/', 'x', '漢']
function text(rand: () => number, length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += TEXT[Math.floor(rand() * TEXT.length)]
  return s
}

function decode(bytes: Uint8Array, protocolVersion: ProtocolVersion): Record<string, unknown> {
  const p = parser({ protocolVersion })
  let packet: Record<string, unknown> | undefined
  p.on('packet', (x) => (packet = x as unknown as Record<string, unknown>))
  p.on('error', (err: Error) => {
    throw err
  })
  p.parse(Buffer.from(bytes))
  if (!packet) throw new Error('no whole packet')
  return packet
}

/** size random bytes (a plain loop: Uint8Array.from over an array-like is several times slower). */
function bytes(rand: () => number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = Math.floor(rand() * 256)
  return out
}

const reference = (packet: PublishPacket | AckPacket, protocolVersion: ProtocolVersion) =>
  generate(
    (packet.cmd === 'publish' && typeof packet.payload !== 'string' ? { ...packet, payload: Buffer.from(packet.payload) } : packet) as never,
    { protocolVersion },
  )

describe('encodeFast', () => {
  it('writes PUBLISH byte for byte as mqtt-packet does, over 2,000 generated packets in 3.1.1 and 5.0', () => {
    const rand = random(20261123)
    for (let i = 0; i < 2000; i++) {
      const qos = Math.floor(rand() * 3) as QoS
      // Payload sizes either side of each remaining-length boundary (127, 16,383).
      const size = [0, 1, 63, 64, 120, 127, 128, 200, 16_370, 16_383, 16_400][Math.floor(rand() * 11)] as number
      const payload = rand() < 0.5 ? text(rand, size) : bytes(rand, size)
      const packet: PublishPacket = { cmd: 'publish', topic: text(rand, 1 + Math.floor(rand() * 40)), payload, qos, retain: rand() < 0.5, dup: qos > 0 && rand() < 0.5 }
      if (qos > 0) packet.messageId = 1 + Math.floor(rand() * 65_535)
      for (const version of [4, 5] as const) {
        const fast = encodeFast(packet, version)
        expect(fast, `case ${i}`).toBeDefined()
        expect(Buffer.from(fast as Uint8Array).equals(reference(packet, version)), `case ${i}, version ${version}`).toBe(true)
      }
    }
    // About a second alone; much longer on the shared CI cores and under mutation testing.
  }, 30_000)

  it('writes a four-byte remaining length, either side of 2 MiB, as mqtt-packet does', () => {
    // Topic 't' and QoS 0: remaining = 3 + payload in 3.1.1, one more in 5.0 (the empty property list).
    for (const size of [0x1fffff - 4, 0x1fffff - 3, 0x200000 - 3]) {
      const packet: PublishPacket = { cmd: 'publish', topic: 't', payload: new Uint8Array(size).fill(0x5a), qos: 0, retain: false, dup: false }
      for (const version of [4, 5] as const) {
        expect(Buffer.from(encodeFast(packet, version) as Uint8Array).equals(reference(packet, version)), `${size}, version ${version}`).toBe(true)
      }
    }
  })

  it('writes topics of up to 65,535 bytes and leaves longer ones to mqtt-packet, which refuses them', () => {
    const longest: PublishPacket = { cmd: 'publish', topic: '€'.repeat(21_845), payload: 'x', qos: 1, messageId: 1, retain: false, dup: false }
    expect(Buffer.from(encodeFast(longest, 4) as Uint8Array).equals(reference(longest, 4))).toBe(true)
    expect(encodeFast({ ...longest, topic: `${longest.topic}a` }, 4)).toBeUndefined()
  })

  it('writes a PUBLISH of the largest remaining length MQTT allows, and leaves a larger one to mqtt-packet', () => {
    // Zero-filled payloads: the allocation is lazy until written, so only the packet itself costs memory.
    const packet = (payloadLength: number): PublishPacket => ({ cmd: 'publish', topic: 't', payload: new Uint8Array(payloadLength), qos: 0, retain: false, dup: false })
    const largest = encodeFast(packet(MAX_REMAINING_LENGTH - 3), 4) as Uint8Array
    expect(largest.length).toBe(1 + 4 + MAX_REMAINING_LENGTH)
    expect([...largest.subarray(0, 8)]).toEqual([0x30, 0xff, 0xff, 0xff, 0x7f, 0, 1, 't'.charCodeAt(0)])
    expect(encodeFast(packet(MAX_REMAINING_LENGTH - 2), 4)).toBeUndefined()
    // 5.0 counts the property-length byte too.
    expect(encodeFast(packet(MAX_REMAINING_LENGTH - 3), 5)).toBeUndefined()
  }, 30_000)

  it('writes the acknowledgements as mqtt-packet does in 3.1.1, and as the same packet in 5.0', () => {
    for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp'] as const) {
      for (const messageId of [1, 255, 256, 65_535]) {
        const packet: AckPacket = { cmd, messageId }
        expect(Buffer.from(encodeFast(packet, 4) as Uint8Array).equals(reference(packet, 4))).toBe(true)
        // 5.0 allows the short form for a success without properties (§3.4.2.1), which we write.
        const decoded = decode(encodeFast(packet, 5) as Uint8Array, 5)
        expect(decoded).toMatchObject({ cmd, messageId })
        expect(decoded.reasonCode ?? 0).toBe(0)
      }
    }
  })

  it('writes an explicit success reason code (0) as the short form', () => {
    for (const version of [4, 5] as const) {
      expect([...(encodeFast({ cmd: 'pubrec', messageId: 0x1234, reasonCode: 0 }, version) ?? [])]).toEqual([0x50, 2, 0x12, 0x34])
    }
  })

  it('writes a PUBLISH whose one property is a topic alias byte for byte as mqtt-packet does, with and without its topic', () => {
    for (const [topic, topicAlias, qos] of [['a/b', 1, 0], ['', 1, 1], ['long/topic/' + 'x'.repeat(100), 65_535, 2], ['', 300, 0]] as const) {
      const packet: PublishPacket = { cmd: 'publish', topic, payload: 'hello', qos, retain: false, dup: false, properties: { topicAlias } }
      if (qos > 0) packet.messageId = 7
      const fast = encodeFast(packet, 5)
      expect(fast).toBeDefined()
      expect(Buffer.from(fast as Uint8Array).equals(reference(packet, 5))).toBe(true)
    }
    // Any other property beside it goes the general way.
    expect(encodeFast({ cmd: 'publish', topic: '', payload: 'x', qos: 0, retain: false, dup: false, properties: { topicAlias: 1, contentType: 'a' } }, 5)).toBeUndefined()
  })

  it('leaves MQTT 5.0 properties, reason codes and other packets to mqtt-packet', () => {
    expect(encodeFast({ cmd: 'publish', topic: 't', payload: 'x', qos: 0, retain: false, dup: false, properties: { contentType: 'text/plain' } }, 5)).toBeUndefined()
    expect(encodeFast({ cmd: 'puback', messageId: 1, reasonCode: 0x10 }, 5)).toBeUndefined()
    expect(encodeFast({ cmd: 'pubcomp', messageId: 1, properties: { reasonString: 'done' } }, 5)).toBeUndefined()
    expect(encodeFast({ cmd: 'pubrec', messageId: 1, reasonCode: 0, properties: { userProperties: { k: 'v' } } }, 5)).toBeUndefined()
    expect(encodeFast({ cmd: 'pingreq' }, 4)).toBeUndefined()
    expect(encodeFast({ cmd: 'publish', topic: 't', payload: 'x', qos: 1, retain: false, dup: false }, 4)).toBeUndefined()
  })
})
