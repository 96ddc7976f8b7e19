import { describe, expect, it } from 'vitest'
import {
  connackReason,
  faultsThePacket,
  isFailure,
  isPermanentRefusal,
  reasonText,
  refusesVersion,
  subackOutcome,
  unsubscribeResult,
} from '../../../src/protocol/reason-codes.js'

/** MQTT 3.1.1 §3.2.2.3: the CONNACK return codes that refuse a connection. */
const v4Refusals: ReadonlyArray<[number, string]> = [
  [1, 'unacceptable protocol version'],
  [2, 'identifier rejected'],
  [3, 'server unavailable'],
  [4, 'bad user name or password'],
  [5, 'not authorized'],
]

/** MQTT 5.0 §2.4: the failure reason codes (0x80 and up) with their names. */
const v5Failures: ReadonlyArray<[number, string]> = [
  [0x80, 'unspecified error'],
  [0x81, 'malformed packet'],
  [0x82, 'protocol error'],
  [0x83, 'implementation specific error'],
  [0x84, 'unsupported protocol version'],
  [0x85, 'client identifier not valid'],
  [0x86, 'bad user name or password'],
  [0x87, 'not authorized'],
  [0x88, 'server unavailable'],
  [0x89, 'server busy'],
  [0x8a, 'banned'],
  [0x8b, 'server shutting down'],
  [0x8c, 'bad authentication method'],
  [0x8d, 'keep alive timeout'],
  [0x8e, 'session taken over'],
  [0x8f, 'topic filter invalid'],
  [0x90, 'topic name invalid'],
  [0x91, 'packet identifier in use'],
  [0x92, 'packet identifier not found'],
  [0x93, 'receive maximum exceeded'],
  [0x94, 'topic alias invalid'],
  [0x95, 'packet too large'],
  [0x96, 'message rate too high'],
  [0x97, 'quota exceeded'],
  [0x98, 'administrative action'],
  [0x99, 'payload format invalid'],
  [0x9a, 'retain not supported'],
  [0x9b, 'QoS not supported'],
  [0x9c, 'use another server'],
  [0x9d, 'server moved'],
  [0x9e, 'shared subscriptions not supported'],
  [0x9f, 'connection rate exceeded'],
  [0xa0, 'maximum connect time'],
  [0xa1, 'subscription identifiers not supported'],
  [0xa2, 'wildcard subscriptions not supported'],
]

describe('connackReason', () => {
  it.each(v4Refusals)('names MQTT 3.1.1 return code %i as "%s"', (code, text) => {
    expect(connackReason(code, 4)).toBe(text)
  })

  it.each(v5Failures)('names MQTT 5 reason code 0x%s as "%s"', (code, text) => {
    expect(connackReason(code, 5)).toBe(text)
  })

  it('reads the code by the protocol version: 3.1.1 return codes are not 5.0 reason codes', () => {
    expect(connackReason(0x86, 4)).toBe('unknown reason')
    expect(connackReason(4, 5)).toBe('unknown reason')
  })

  it('says "unknown reason" for codes neither version defines', () => {
    expect(connackReason(6, 4)).toBe('unknown reason')
    expect(connackReason(0xa3, 5)).toBe('unknown reason')
    expect(connackReason(0x7f, 5)).toBe('unknown reason')
  })
})

describe('reasonText', () => {
  it.each(v5Failures)('names reason code 0x%s as "%s"', (code, text) => {
    expect(reasonText(code)).toBe(text)
  })

  it('says "unknown reason" for a code without a name, such as success or a 3.1.1 return code', () => {
    expect(reasonText(0)).toBe('unknown reason')
    expect(reasonText(4)).toBe('unknown reason')
    expect(reasonText(0xff)).toBe('unknown reason')
  })
})

describe('isPermanentRefusal', () => {
  it('treats a bad protocol version, a rejected client id, bad credentials and no permission as permanent (3.1.1)', () => {
    expect([1, 2, 4, 5].map((code) => isPermanentRefusal(code, 4))).toEqual([true, true, true, true])
  })

  it('lets the client retry when a 3.1.1 server is unavailable or the code is unknown', () => {
    expect([0, 3, 6, 0x86].map((code) => isPermanentRefusal(code, 4))).toEqual([false, false, false, false])
  })

  it('treats the MQTT 5 codes retrying cannot fix as permanent', () => {
    const permanent = [0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c]
    expect(permanent.map((code) => isPermanentRefusal(code, 5))).toEqual(permanent.map(() => true))
  })

  it('treats code 1 under MQTT 5 as permanent and names it: a 3.1.1 broker refusing the version', () => {
    expect(isPermanentRefusal(1, 5)).toBe(true)
    expect(connackReason(1, 5)).toBe('the broker does not support MQTT 5 (unacceptable protocol version)')
    expect([1, 0x84, 0, 2, 0x80].map(refusesVersion)).toEqual([true, true, false, false, false])
  })

  it('lets the client retry on every other MQTT 5 code, such as server busy or unavailable', () => {
    const permanent = new Set([1, 0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c])
    const others = [0, 2, 4, 5, ...v5Failures.map(([code]) => code).filter((code) => !permanent.has(code))]
    expect(others.filter((code) => isPermanentRefusal(code, 5))).toEqual([])
  })
})

describe('faultsThePacket', () => {
  it('blames the packet for the DISCONNECT reasons that refuse a message or subscription', () => {
    const codes = [0x8f, 0x90, 0x93, 0x94, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9e, 0xa1, 0xa2]
    expect(codes.filter((code) => faultsThePacket(code))).toEqual(codes)
  })

  it('blames the connection, not the packet, for every other reason and for no reason at all', () => {
    expect([undefined, 0, 0x80, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x9c].filter((code) => faultsThePacket(code))).toEqual([])
  })
})

describe('isFailure', () => {
  it('counts 0x80 and above as a failure, and below 0x80 or no code as success', () => {
    expect([0x80, 0x87, 0xa2].map(isFailure)).toEqual([true, true, true])
    expect([undefined, 0, 1, 2, 0x10, 0x11, 0x7f].map(isFailure)).toEqual([false, false, false, false, false, false, false])
  })
})

describe('unsubscribeResult', () => {
  it('gives the UNSUBACK codes, with its properties only when it had any', () => {
    const properties = { reasonString: 'ok' }
    expect(unsubscribeResult([0, 0x11], properties)).toEqual({ reasonCodes: [0, 0x11], properties })
    expect(Object.keys(unsubscribeResult([0]))).toEqual(['reasonCodes'])
  })
})

describe('subackOutcome', () => {
  it('grants each filter its code and puts the SUBACK properties on every entry', () => {
    const properties = { reasonString: 'fine' }
    const outcome = subackOutcome([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 2 }], [1, 2], properties)
    expect(outcome).toEqual({ granted: [{ topic: 'a', qos: 1, properties }, { topic: 'b', qos: 2, properties }] })
    expect(outcome.error).toBeUndefined()
  })

  it('refuses a filter the SUBACK failed or left out, naming it in the error', () => {
    const outcome = subackOutcome([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 1 }, { topic: 'c', qos: 1 }], [1, 0x87])
    expect(outcome.granted).toEqual([{ topic: 'a', qos: 1 }, { topic: 'b', qos: 0x87 }, { topic: 'c', qos: 0x80 }])
    expect(outcome.error?.reasonCode).toBe(0x87)
    expect(outcome.error?.message).toBe('Broker refused subscription to "b", "c" (code 0x87)')
  })
})
