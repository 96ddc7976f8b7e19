import { describe, expect, it } from 'vitest'
import { MAX_REMAINING_LENGTH } from '../../../src/codec/limits.js'
import type { ProtocolVersion } from '../../../src/codec/packets.js'
import {
  buildFarewell,
  buildStream,
  buildPublish,
  buildSubscriptions,
  buildUnsubscriptions,
  type PublishOptions,
  type SubscribeOptions,
} from '../../../src/input/requests.js'
import { InvalidArgumentError, InvalidTopicError, type MqttError } from '../../../src/errors.js'

/** The typed error a call throws, checked to be of `type`, so a test can look at its code and message. */
function thrown<E extends MqttError>(type: new (...args: never[]) => E, call: () => unknown): E {
  try {
    call()
  } catch (err) {
    if (err instanceof type) return err
    throw err
  }
  throw new Error(`expected ${type.name}, but nothing was thrown`)
}

const publish = (topic: unknown, payload: unknown, options?: PublishOptions, version: ProtocolVersion = 4) =>
  buildPublish(topic, payload, options, version)

describe('buildPublish', () => {
  it('builds a QoS 0, non-retained packet by default', () => {
    expect(publish('a/b', 'hi')).toStrictEqual({ cmd: 'publish', topic: 'a/b', payload: 'hi', qos: 0, retain: false, dup: false })
  })

  it('takes the QoS and retain flag from the options and passes bytes through', () => {
    const bytes = new Uint8Array([1, 2])
    const packet = publish('t', bytes, { qos: 2, retain: true })
    expect(packet).toMatchObject({ topic: 't', qos: 2, retain: true, dup: false })
    expect(packet.payload).toBe(bytes)
  })

  it('retains only when retain is true, and refuses a retain flag that is not a boolean rather than read it as truthy', () => {
    expect(publish('t', '', { retain: true }).retain).toBe(true)
    expect(publish('t', '', { retain: false }).retain).toBe(false)
    expect(() => publish('t', '', { retain: 'yes' as unknown as boolean })).toThrow("retain must be true or false, not the string 'yes'")
  })

  it('treats null options like no options', () => {
    expect(publish('t', '', null as unknown as PublishOptions)).toMatchObject({ qos: 0, retain: false })
  })

  it('sends ArrayBuffer payloads as bytes', () => {
    const packet = publish('t', new Uint8Array([5, 6]).buffer)
    expect(packet.payload).toBeInstanceOf(Uint8Array)
    expect(Array.from(packet.payload as Uint8Array)).toEqual([5, 6])
  })

  it.each<[string, unknown, RegExp]>([
    ['a + wildcard', 'a/+', /wildcards/],
    ['a # wildcard', 'a/#', /wildcards/],
    ['an empty topic', '', /must not be empty/],
    ['a topic over 65,535 bytes', 'a'.repeat(65_536), /at most 65535 UTF-8 bytes/],
    ['a topic that is not a string', 7, /must be a string, not number/],
  ])('rejects %s with InvalidTopicError', (_, topic, why) => {
    const err = thrown(InvalidTopicError, () => publish(topic, 'x'))
    expect(err.code).toBe('INVALID_TOPIC')
    expect(err.message).toMatch(why)
  })

  it.each<[string, unknown, string]>([
    ['QoS 3', 3, 'QoS must be 0, 1 or 2, not 3'],
    ['QoS -1', -1, 'QoS must be 0, 1 or 2, not -1'],
    ['a QoS given as text', '1', "QoS must be 0, 1 or 2, not the string '1'"],
    ['a fractional QoS', 0.5, 'QoS must be 0, 1 or 2, not 0.5'],
  ])('rejects %s with InvalidArgumentError', (_, qos, message) => {
    const err = thrown(InvalidArgumentError, () => publish('t', 'x', { qos: qos as 0 }))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe(message)
  })

  it('accepts each valid QoS', () => {
    for (const qos of [0, 1, 2] as const) expect(publish('t', 'x', { qos }).qos).toBe(qos)
  })

  it('rejects options that are not an object', () => {
    const err = thrown(InvalidArgumentError, () => publish('t', 'x', 1 as unknown as PublishOptions))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('publish options must be an object')
  })

  it.each<[string, unknown, string]>([
    ['a number', 42, 'not number'],
    ['an object', { text: 'hi' }, 'not Object'],
    ['undefined', undefined, 'not undefined'],
  ])('rejects a payload that is %s with InvalidArgumentError', (_, payload, got) => {
    const err = thrown(InvalidArgumentError, () => publish('t', payload))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(/payload must be a string, Uint8Array or ArrayBuffer/)
    expect(err.message).toContain(got)
  })

  it('checks the topic before the payload', () => {
    expect(() => publish('a/#', 42)).toThrow(InvalidTopicError)
  })

  describe('size limit', () => {
    // The remaining length is the topic's 2-byte length prefix, the topic in UTF-8, a 2-byte packet id
    // when QoS > 0, and the payload. Zero-filled arrays this big cost no memory until written.
    const topic = 'é' // 2 UTF-8 bytes, 1 UTF-16 code unit

    it.each([
      [0, 2 + 2],
      [1, 2 + 2 + 2],
      [2, 2 + 2 + 2],
    ] as const)('at QoS %i accepts a message of exactly the MQTT limit and rejects one byte more', (qos, overhead) => {
      const fits = new Uint8Array(MAX_REMAINING_LENGTH - overhead)
      expect(publish(topic, fits, { qos }).payload).toBe(fits)
      const err = thrown(InvalidArgumentError, () => publish(topic, new Uint8Array(MAX_REMAINING_LENGTH - overhead + 1), { qos }))
      expect(err.code).toBe('INVALID_ARGUMENT')
      expect(err.message).toBe(`message of ${MAX_REMAINING_LENGTH + 1} bytes exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`)
    })
  })

  describe('MQTT 5 properties', () => {
    it('rejects publish properties on MQTT 3.1.1', () => {
      const err = thrown(InvalidArgumentError, () => publish('t', 'x', { properties: { contentType: 'text/plain' } }, 4))
      expect(err.code).toBe('INVALID_ARGUMENT')
      expect(err.message).toBe('publish properties need MQTT 5')
    })

    it('copies the properties into the packet on MQTT 5, leaving the caller free to change theirs', () => {
      const properties = { contentType: 'text/plain', messageExpiryInterval: 60 }
      const options: PublishOptions = { qos: 1, properties }
      const packet = publish('t', 'x', options, 5)
      expect(packet.properties).toEqual({ contentType: 'text/plain', messageExpiryInterval: 60 })
      properties.contentType = 'changed'
      expect(packet.properties?.contentType).toBe('text/plain')
      expect(options).toEqual({ qos: 1, properties: { contentType: 'changed', messageExpiryInterval: 60 } })
    })

    it('adds no properties when none are given', () => {
      expect('properties' in publish('t', 'x', { qos: 1 }, 5)).toBe(false)
    })
  })
})

describe('buildSubscriptions', () => {
  it('turns one filter into one subscription at QoS 0 by default', () => {
    expect(buildSubscriptions('a/+', undefined, 4)).toStrictEqual([{ topic: 'a/+', qos: 0 }])
  })

  it('applies the options to every filter of an array', () => {
    expect(buildSubscriptions(['a', 'b/#'], { qos: 1 }, 4)).toStrictEqual([
      { topic: 'a', qos: 1 },
      { topic: 'b/#', qos: 1 },
    ])
    expect(buildSubscriptions(['a'], undefined, 4)).toStrictEqual([{ topic: 'a', qos: 0 }])
  })

  it('takes each filter of an object with its own options, defaulting missing ones', () => {
    const map = { a: { qos: 2 }, b: {}, c: undefined as unknown as SubscribeOptions }
    expect(buildSubscriptions(map, { qos: 1 }, 4)).toStrictEqual([
      { topic: 'a', qos: 2 },
      { topic: 'b', qos: 0 },
      { topic: 'c', qos: 0 },
    ])
  })

  it.each<[string, unknown]>([
    ['a number', 5],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
  ])('rejects a target that is %s with InvalidArgumentError', (_, target) => {
    const err = thrown(InvalidArgumentError, () => buildSubscriptions(target, undefined, 4))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('subscribe takes a filter, an array of filters or an object of filter -> options')
  })

  it.each<[string, unknown]>([
    ['an empty array', []],
    ['an empty object', {}],
  ])('rejects %s: at least one filter is needed', (_, target) => {
    const err = thrown(InvalidArgumentError, () => buildSubscriptions(target, undefined, 4))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('subscribe needs at least one filter')
  })

  it.each<[string, unknown, RegExp]>([
    ['a misplaced #', 'a/#/b', /# must be the whole last level/],
    ['an empty filter', '', /must not be empty/],
    ['a bad filter inside an array', ['ok', 'a+'], /\+ must be a whole level/],
    ['a filter in an array that is not a string', ['ok', 3], /must be a string, not number/],
    ['a bad filter as an object key', { 'x/#/y': {} }, /# must be the whole last level/],
  ])('rejects %s with InvalidTopicError', (_, target, why) => {
    const err = thrown(InvalidTopicError, () => buildSubscriptions(target, undefined, 4))
    expect(err.code).toBe('INVALID_TOPIC')
    expect(err.message).toMatch(why)
  })

  it('rejects QoS 3 with InvalidArgumentError', () => {
    const err = thrown(InvalidArgumentError, () => buildSubscriptions('a', { qos: 3 as 0 }, 4))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('QoS must be 0, 1 or 2, not 3')
    expect(() => buildSubscriptions({ a: { qos: 3 as 0 } }, undefined, 5)).toThrow(InvalidArgumentError)
  })

  it.each<[string, SubscribeOptions]>([
    ['nl', { nl: true }],
    ['nl false', { nl: false }],
    ['rap', { rap: true }],
    ['rh', { rh: 0 }],
  ])('rejects the MQTT 5 option %s on MQTT 3.1.1', (_, options) => {
    const err = thrown(InvalidArgumentError, () => buildSubscriptions('a', options, 4))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('nl, rap and rh subscription options need MQTT 5')
  })

  it('carries exactly the MQTT 5 options given, false and 0 included', () => {
    expect(buildSubscriptions('a', { nl: true }, 5)).toStrictEqual([{ topic: 'a', qos: 0, nl: true }])
    expect(buildSubscriptions('a', { rap: false }, 5)).toStrictEqual([{ topic: 'a', qos: 0, rap: false }])
    expect(buildSubscriptions('a', { rh: 0 }, 5)).toStrictEqual([{ topic: 'a', qos: 0, rh: 0 }])
    expect(buildSubscriptions('a', { qos: 1, nl: false, rap: true, rh: 2 }, 5)).toStrictEqual([
      { topic: 'a', qos: 1, nl: false, rap: true, rh: 2 },
    ])
  })

  it('leaves subscription properties out of each subscription and does not change the caller options', () => {
    const options: SubscribeOptions = { qos: 1, properties: { subscriptionIdentifier: 7 } }
    expect(buildSubscriptions(['a', 'b'], options, 5)).toStrictEqual([
      { topic: 'a', qos: 1 },
      { topic: 'b', qos: 1 },
    ])
    expect(options).toStrictEqual({ qos: 1, properties: { subscriptionIdentifier: 7 } })
  })
})

describe('buildUnsubscriptions', () => {
  it('takes one filter or an array of filters', () => {
    expect(buildUnsubscriptions('a/#')).toEqual(['a/#'])
    expect(buildUnsubscriptions(['a', 'b/+'])).toEqual(['a', 'b/+'])
  })

  it.each<[string, unknown]>([
    ['an empty array', []],
    ['a number', 5],
    ['null', null],
    ['undefined', undefined],
    ['an object', { a: {} }],
  ])('rejects %s with InvalidArgumentError', (_, target) => {
    const err = thrown(InvalidArgumentError, () => buildUnsubscriptions(target))
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toBe('unsubscribe takes a filter or a non-empty array of filters')
  })

  it.each<[string, unknown, RegExp]>([
    ['an empty filter', '', /must not be empty/],
    ['a misplaced #', '#/a', /# must be the whole last level/],
    ['a bad filter inside an array', ['a', 'b+'], /\+ must be a whole level/],
    ['a filter that is not a string', [1], /must be a string, not number/],
  ])('rejects %s with InvalidTopicError', (_, target, why) => {
    const err = thrown(InvalidTopicError, () => buildUnsubscriptions(target))
    expect(err.code).toBe('INVALID_TOPIC')
    expect(err.message).toMatch(why)
  })
})

describe('buildFarewell', () => {
  it('gives nothing for a plain end, and the reason code and properties asked for on MQTT 5', () => {
    expect(buildFarewell({}, 4)).toBeUndefined()
    expect(buildFarewell({ force: true }, 5)).toBeUndefined()
    expect(buildFarewell({ reasonCode: 4, properties: { sessionExpiryInterval: 0 } }, 5)).toEqual({ reasonCode: 4, properties: { sessionExpiryInterval: 0 } })
  })

  it('refuses a reason or properties on 3.1.1, a code that is not a byte, and properties that are not an object', () => {
    expect(() => buildFarewell({ reasonCode: 4 }, 4)).toThrow(InvalidArgumentError)
    expect(() => buildFarewell({ reasonCode: 256 }, 5)).toThrow(/reasonCode must be an integer from 0 to 255/)
    expect(() => buildFarewell({ reasonCode: 1.5 }, 5)).toThrow(InvalidArgumentError)
    expect(() => buildFarewell({ properties: 'x' }, 5)).toThrow(/end properties must be an object/)
    expect(() => buildFarewell(null, 5)).toThrow(/end options must be an object/)
  })
})

describe('buildFarewell at the edges', () => {
  it('takes reason codes 0 and 255 and refuses -1, with the range in the message', () => {
    expect(buildFarewell({ reasonCode: 0 }, 5)).toEqual({ reasonCode: 0 })
    expect(buildFarewell({ reasonCode: 255 }, 5)).toEqual({ reasonCode: 255 })
    expect(() => buildFarewell({ reasonCode: -1 }, 5)).toThrow('reasonCode must be an integer from 0 to 255')
  })

  it('gives properties alone without a reason code, as a copy, and none when only a reason code is given', () => {
    const properties = { reasonString: 'bye' }
    const farewell = buildFarewell({ properties }, 5)
    expect(farewell).toEqual({ properties: { reasonString: 'bye' } })
    expect(farewell?.properties).not.toBe(properties)
    expect(Object.keys(buildFarewell({ reasonCode: 4 }, 5) ?? {})).toEqual(['reasonCode'])
  })

  it('says why a reason is refused on 3.1.1, and refuses null properties and options that are not an object', () => {
    expect(() => buildFarewell({ properties: {} }, 4)).toThrow('a DISCONNECT reason code or properties need MQTT 5')
    expect(() => buildFarewell({ properties: null }, 5)).toThrow('end properties must be an object')
    expect(() => buildFarewell('now', 5)).toThrow('end options must be an object')
  })
})

describe('topic aliases in a publish', () => {
  it("refuses a topicAlias given by the caller: aliases are the client's to give", () => {
    expect(() => buildPublish('t', 'x', { properties: { topicAlias: 1 } }, 5)).toThrow(/topicAlias is the client's to give/)
  })
})

describe('buildStream', () => {
  it.each([null, 'x', 3])('refuses options that are not an object (%j)', (options) => {
    expect(thrown(InvalidArgumentError, () => buildStream(options)).message).toBe('messages options must be an object')
  })

  it('takes the buffer limits 1 and 2^31 - 1 and refuses 2^31, with the range in the message', () => {
    expect(buildStream({ bufferLimit: 1 }).bufferLimit).toBe(1)
    expect(buildStream({ bufferLimit: 2 ** 31 - 1 }).bufferLimit).toBe(2 ** 31 - 1)
    expect(thrown(InvalidArgumentError, () => buildStream({ bufferLimit: 2 ** 31 })).message).toBe(
      'bufferLimit must be an integer from 1 to 2147483647, not 2147483648',
    )
  })

  it('takes each overflow policy, and splits the subscription options from the buffer options', () => {
    for (const overflow of ['drop-oldest', 'drop-newest', 'error'] as const) {
      expect(buildStream({ overflow, qos: 1, bufferLimit: 5 })).toStrictEqual({ subscribe: { qos: 1 }, bufferLimit: 5, overflow })
    }
    expect(thrown(InvalidArgumentError, () => buildStream({ overflow: 'drop' })).message).toBe(
      "overflow must be 'drop-oldest', 'drop-newest' or 'error', not the string 'drop'",
    )
  })
})

describe('buildSubscriptions MQTT 5 options, one by one', () => {
  it('takes each retain handling 0, 1 and 2', () => {
    for (const rh of [0, 1, 2] as const) expect(buildSubscriptions('t', { rh }, 5)).toStrictEqual([{ topic: 't', qos: 0, rh }])
  })

  it('names rap when it is not a boolean', () => {
    expect(thrown(InvalidArgumentError, () => buildSubscriptions('t', { rap: 'yes' } as unknown as SubscribeOptions, 5)).message).toBe(
      "rap must be true or false, not the string 'yes'",
    )
  })
})

describe('buildFarewell properties', () => {
  it.each([
    ['x', 'string'],
    [null, 'null'],
    [[], 'Array'],
  ])('refuses end properties that are not a plain object (%j), naming the type', (properties, type) => {
    expect(thrown(InvalidArgumentError, () => buildFarewell({ properties }, 5)).message).toBe(`end properties must be an object, not ${type}`)
  })
})
