import { generate } from 'mqtt-packet'
import type { Packet as WirePacket } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../../src/codec/decoder.js'
import type { AckPacket, IncomingPublishPacket, ProtocolVersion } from '../../../src/codec/packets.js'
import { ProtocolError } from '../../../src/errors.js'
import { thrown } from '../../support/expect-error.js'

const decoder = (maxPacketSize = 1024 * 1024, protocolVersion: ProtocolVersion = 4) => new Decoder({ protocolVersion, maxPacketSize })

/** Bytes written by mqtt-packet itself, so that these tests do not lean on our encoder. */
const wire = (packet: Record<string, unknown>, protocolVersion: ProtocolVersion = 4): Uint8Array =>
  new Uint8Array(generate(packet as unknown as WirePacket, { protocolVersion }))

const publish = (topic: string, payload: string) => wire({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false })

/** The error a push throws, which must be a ProtocolError (the decoder's only way to fail). */
const pushError = (d: Decoder, bytes: Uint8Array): ProtocolError => thrown(() => d.push(bytes), ProtocolError)

describe('Decoder framing', () => {
  it('decodes MQTT 5.0 packets with their reason codes and properties', () => {
    const bytes = wire({ cmd: 'puback', messageId: 5, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } }, 5)
    const [packet] = decoder(1024, 5).push(bytes) as AckPacket[]
    expect(packet).toMatchObject({ cmd: 'puback', messageId: 5, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } })
  })

  it('accepts a packet of exactly the size limit and refuses one a byte larger', () => {
    const bytes = publish('t', 'abc')
    expect(decoder(bytes.length).push(bytes).map((p) => p.cmd)).toEqual(['publish'])
    const err = pushError(decoder(bytes.length - 1), bytes)
    expect(err.message).toMatch(/exceeds the limit/)
  })

  it('delivers the packets ahead of a half-received header without judging that header yet', () => {
    // A PINGRESP, then a PUBLISH whose remaining length has only its first (continuation) byte so far.
    const d = decoder(100)
    expect(d.push(new Uint8Array([0xd0, 0x00, 0x30, 0xff])).map((p) => p.cmd)).toEqual(['pingresp'])
    expect(d.pendingBytes).toBe(2)
  })

  it('waits for every byte of a remaining length split across frames before checking the size', () => {
    const d = decoder(100)
    // 0xff 0xff 0x7f announces 2,097,151 bytes, but only the last byte says so.
    expect(d.push(new Uint8Array([0x30, 0xff]))).toEqual([])
    expect(d.push(new Uint8Array([0xff]))).toEqual([])
    expect(d.pendingBytes).toBe(3)
    expect(pushError(d, new Uint8Array([0x7f])).message).toMatch(/exceeds the limit/)
  })

  it('decodes a packet whose remaining length is split across frames once it is whole', () => {
    const bytes = publish('split', 'x'.repeat(200)) // remaining length 207: two bytes, 0xcf 0x01
    const d = decoder()
    expect(d.push(bytes.subarray(0, 2))).toEqual([])
    expect(d.push(bytes.subarray(2, 3))).toEqual([])
    const [packet] = d.push(bytes.subarray(3)) as IncomingPublishPacket[]
    expect(packet?.topic).toBe('split')
    expect(Buffer.from(packet?.payload ?? []).toString()).toBe('x'.repeat(200))
    expect(d.pendingBytes).toBe(0)
  })

  it('hands out the payload of a packet that arrived in one frame as a view on those bytes, not a copy', () => {
    const bytes = publish('t', 'hello')
    const [packet] = decoder().push(bytes) as IncomingPublishPacket[]
    expect(packet?.payload.buffer).toBe(bytes.buffer)
    expect(Buffer.from(packet?.payload ?? []).toString()).toBe('hello')
  })
})

describe('Decoder errors', () => {
  it('refuses a reason code the packet does not have as a malformed packet', () => {
    // An MQTT 5 PUBACK with reason code 0x01, which PUBACK does not have.
    const err = pushError(new Decoder({ protocolVersion: 5, maxPacketSize: 100 }), new Uint8Array([0x40, 0x03, 0x00, 0x01, 0x01]))
    expect(err.code).toBe('PROTOCOL_ERROR')
    expect(err.reasonCode).toBe(0x81)
    expect(err.message).toBe('Malformed packet from broker: PUBACK reason code 0x1')
  })

  it('refuses a packet whose reserved flag bits are set', () => {
    // PUBREL must have flags 0b0010; 0x60 has them clear.
    const err = pushError(decoder(), new Uint8Array([0x60, 0x02, 0x00, 0x01]))
    expect(err.reasonCode).toBe(0x81)
    expect(err.message).toMatch(/PUBREL with reserved flag bits 0000/)
  })

  it('reports a malformed packet that follows good ones in the same frame', () => {
    const d = decoder()
    const bytes = new Uint8Array([...publish('a', 'ok'), 0x30, 0x03, 0x00, 0x09, 0x41])
    expect(pushError(d, bytes).message).toMatch(/^Malformed packet from broker: \S/)
  })

  it('refuses a length of more than four bytes as soon as the fifth byte arrives, across frames', () => {
    const d = decoder()
    expect(d.push(new Uint8Array([0x30, 0x80, 0x80]))).toEqual([])
    expect(pushError(d, new Uint8Array([0x80, 0x80, 0x01])).message).toMatch(/Malformed remaining length/)
  })
})

describe('Decoder errors carry the DISCONNECT reason an MQTT 5 client sends', () => {
  it('refuses a packet over the size limit with 0x95 (Packet too large), from its header alone', () => {
    const bytes = publish('t', 'abc')
    const err = pushError(decoder(bytes.length - 1), bytes.subarray(0, 2))
    expect(err.reasonCode).toBe(0x95)
    expect(err.message).toBe(`Packet of ${bytes.length} bytes exceeds the limit of ${bytes.length - 1} bytes`)
  })

  it('refuses a packet over the size limit with 0x95 when its header arrives across frames', () => {
    const d = decoder(100)
    expect(d.push(new Uint8Array([0x30, 0xff]))).toEqual([])
    const err = pushError(d, new Uint8Array([0x01]))
    expect(err.reasonCode).toBe(0x95)
    expect(err.message).toBe('Packet of 258 bytes exceeds the limit of 100 bytes')
  })

  it('refuses a remaining length of more than four bytes with 0x81 (Malformed Packet)', () => {
    const err = pushError(decoder(), new Uint8Array([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]))
    expect(err.reasonCode).toBe(0x81)
    expect(err.message).toBe('Malformed remaining length')
  })

  it('refuses a remaining length of more than four bytes split across frames with 0x81', () => {
    const d = decoder()
    expect(d.push(new Uint8Array([0x30, 0x80, 0x80]))).toEqual([])
    const err = pushError(d, new Uint8Array([0x80, 0x80, 0x01]))
    expect(err.reasonCode).toBe(0x81)
  })
})

describe('Decoder at frame edges', () => {
  it('keeps a lone first byte until its length arrives, then reads the packet', () => {
    const d = decoder()
    expect(d.push(new Uint8Array([0xd0]))).toEqual([])
    expect(d.pendingBytes).toBe(1)
    expect(d.push(new Uint8Array([0x00]))).toEqual([{ cmd: 'pingresp' }])
    expect(d.pendingBytes).toBe(0)
  })

  it('reads packets that end exactly at a frame end, one frame after another', () => {
    const d = decoder()
    expect(d.push(new Uint8Array([0xd0, 0x00, 0xd0, 0x00]))).toEqual([{ cmd: 'pingresp' }, { cmd: 'pingresp' }])
    expect(d.pendingBytes).toBe(0)
    expect(d.push(new Uint8Array([0xd0, 0x00]))).toEqual([{ cmd: 'pingresp' }])
    expect(d.pendingBytes).toBe(0)
  })
})

describe('Decoder lengths', () => {
  it('keeps a packet whose header came whole in the first frame but whose body did not, until the rest comes', () => {
    const bytes = publish('topic', 'payload')
    const d = decoder()
    expect(d.push(bytes.subarray(0, 6))).toEqual([])
    expect(d.pendingBytes).toBe(6)
    const [packet] = d.push(bytes.subarray(6)) as IncomingPublishPacket[]
    expect(packet?.topic).toBe('topic')
    expect(d.pendingBytes).toBe(0)
  })

  it('reads a remaining length of four bytes, the most there is: 268,435,455 is refused as too large, not as malformed', () => {
    const err = pushError(decoder(), new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]))
    expect(err.reasonCode).toBe(0x95)
    expect(err.message).toBe(`Packet of ${268_435_455 + 5} bytes exceeds the limit of ${1024 * 1024} bytes`)
  })
})
