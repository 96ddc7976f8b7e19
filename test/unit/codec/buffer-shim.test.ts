import { generate } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { Decoder } from '../../../src/codec/decoder.js'
import type { IncomingPublishPacket } from '../../../src/codec/packets.js'
import { Buffer as CodecBuffer } from '../../../src/codec/shims/buffer.js'

describe("the codec's Buffer", () => {
  it("is Node's own Buffer where there is one, so decoded payloads are Node Buffers", () => {
    expect(CodecBuffer).toBe(globalThis.Buffer)
    const bytes = generate({ cmd: 'publish', topic: 't', payload: Buffer.from('hi'), qos: 0, retain: false, dup: false }, { protocolVersion: 4 })
    const [packet] = new Decoder({ protocolVersion: 4, maxPacketSize: 100 }).push(new Uint8Array(bytes)) as IncomingPublishPacket[]
    expect(Buffer.isBuffer(packet?.payload)).toBe(true)
    expect(Buffer.from(packet?.payload ?? []).toString()).toBe('hi')
  })
})
