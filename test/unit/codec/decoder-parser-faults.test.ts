import type * as MqttPacket from 'mqtt-packet'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Decoder } from '../../../src/codec/decoder.js'
import { ProtocolError } from '../../../src/errors.js'
import { thrown } from '../../support/expect-error.js'

/**
 * The decoder's promise is that any failure ends in a ProtocolError, including failures of the
 * packet parser it wraps that no byte sequence found so far provokes: the parser throwing rather
 * than reporting an error, or consuming a whole packet and reporting nothing. Here mqtt-packet's
 * parser is made to misbehave that way for one packet type (PINGRESP); every other packet goes
 * through the real parser.
 */
type Fault = 'throws' | 'reports nothing' | undefined
let fault: Fault

vi.mock('mqtt-packet/parser.js', async (importOriginal) => {
  const actual = (await importOriginal<{ default: { parser: typeof MqttPacket.parser } }>()).default
  const parser: typeof MqttPacket.parser = (options) => {
    const real = actual.parser(options)
    const parse = real.parse.bind(real)
    real.parse = (buf) => {
      const isPingresp = buf[0] === 0xd0
      if (isPingresp && fault === 'throws') throw new RangeError('read past the end')
      if (isPingresp && fault === 'reports nothing') return 0
      return parse(buf)
    }
    return real
  }
  return { default: { parser } }
})

afterEach(() => {
  fault = undefined
})

const PINGRESP = new Uint8Array([0xd0, 0x00])

const pushError = (bytes: Uint8Array): ProtocolError =>
  thrown(() => new Decoder({ protocolVersion: 4, maxPacketSize: 1024 }).push(bytes), ProtocolError)

describe('Decoder when the packet parser fails', () => {
  it('decodes normally when the parser behaves', () => {
    const d = new Decoder({ protocolVersion: 4, maxPacketSize: 1024 })
    expect(d.push(PINGRESP)).toEqual([expect.objectContaining({ cmd: 'pingresp' })])
  })

  it('turns an exception thrown by the parser into a ProtocolError that carries it', () => {
    fault = 'throws'
    const err = pushError(PINGRESP)
    expect(err.cause).toBeInstanceOf(RangeError)
    expect(err.message).toBe('Malformed packet from broker: read past the end')
  })

  it('refuses a whole packet from which the parser produced nothing', () => {
    fault = 'reports nothing'
    const err = pushError(PINGRESP)
    expect(err.cause).toBeUndefined()
    expect(err.message).toMatch(/^Malformed packet from broker: \S/)
  })
})
