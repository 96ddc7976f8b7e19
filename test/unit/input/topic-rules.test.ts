import { describe, expect, it } from 'vitest'
import { InvalidTopicError } from '../../../src/errors.js'
import { validateTopicFilter, validateTopicName } from '../../../src/input/topic-rules.js'

/** The InvalidTopicError a call throws, so a test can check its code, topic and reason. */
function topicError(check: () => void): InvalidTopicError {
  try {
    check()
  } catch (err) {
    if (err instanceof InvalidTopicError) return err
    throw err
  }
  throw new Error('expected an InvalidTopicError, but nothing was thrown')
}

describe('validateTopicName', () => {
  it.each(['a', 'a/b/c', '/leading', 'trailing/', 'a//b', 'ünïcødé/トピック', '$SYS/x', ' '])('accepts %j', (t) => {
    expect(() => validateTopicName(t)).not.toThrow()
  })

  it.each([
    ['', /empty/],
    ['a/+', /wildcards/],
    ['a/#', /wildcards/],
    ['a+b', /wildcards/],
    ['a\u0000b', /U\+0000/],
    ['bad\ud800', /surrogate/],
  ])('rejects %j', (t, why) => {
    expect(() => validateTopicName(t)).toThrow(InvalidTopicError)
    expect(() => validateTopicName(t)).toThrow(why)
  })

  it('rejects a non-string with a typed error', () => {
    expect(() => validateTopicName(42)).toThrow(InvalidTopicError)
  })

  it.each([
    ['a surrogate pair (emoji)', 'smile/\u{1F600}'],
    ['the first astral code point', '\ud800\udc00'],
    ['the last astral code point', '\udbff\udfff'],
    ['characters above the surrogate range', '\ue000/\ufffd/\uff71'],
  ])('accepts %s as well-formed UTF-16', (_, t) => {
    expect(() => validateTopicName(t)).not.toThrow()
  })

  it.each([
    ['a lone high surrogate before an ASCII character', '\ud800a'],
    ['a high surrogate before a non-surrogate above the range', '\ud800\ue000'],
    ['a lone low surrogate', 'a\udc00'],
    ['the last low surrogate alone', 'a\udfff'],
    ['two low surrogates in a row', '\udc00\udc00'],
    ['a low surrogate before a high one', '\udc00\ud800'],
  ])('rejects %s as malformed UTF-16', (_, t) => {
    const err = topicError(() => validateTopicName(t))
    expect(err.code).toBe('INVALID_TOPIC')
    expect(err.message).toMatch(/well-formed UTF-16/)
  })

  it('names the type of a non-string topic in the error', () => {
    const err = topicError(() => validateTopicName(42))
    expect(err.code).toBe('INVALID_TOPIC')
    expect(err.topic).toBe('42')
    expect(err.message).toMatch(/must be a string, not number/)
    expect(topicError(() => validateTopicName(undefined)).message).toMatch(/not undefined/)
  })

  it('accepts exactly 65,535 UTF-8 bytes and rejects one more, counting multi-byte characters', () => {
    expect(() => validateTopicName('a'.repeat(65_535))).not.toThrow()
    expect(() => validateTopicName('a'.repeat(65_536))).toThrow(/65535 UTF-8 bytes/)
    // 21,845 three-byte characters = 65,535 bytes; one more ASCII byte tips it over.
    expect(() => validateTopicName('€'.repeat(21_845))).not.toThrow()
    expect(() => validateTopicName(`${'€'.repeat(21_845)}a`)).toThrow(InvalidTopicError)
  })
})

describe('validateTopicFilter', () => {
  it.each(['#', '+', 'a/#', 'a/+/c', '+/+', '/+', 'a/b', '$share/g/a/+'])('accepts %j', (f) => {
    expect(() => validateTopicFilter(f)).not.toThrow()
  })

  it.each(['', 'a/#/b', 'a#', 'a/b#', 'a+/b', 'a/+b', '##', '$share/g', '$share//a', '$share/+/a'])('rejects %j', (f) => {
    expect(() => validateTopicFilter(f)).toThrow(InvalidTopicError)
  })
})

describe('validateTopicFilter reasons', () => {
  it.each([
    ['a/#/b', /# must be the whole last level/],
    ['a#', /# must be the whole last level/],
    ['a+/b', /\+ must be a whole level/],
    ['a/+b', /\+ must be a whole level/],
    ['$share/g', /shared subscription is \$share\/\{group\}\/\{filter\}/],
    ['$share//a', /shared subscription/],
    ['$share/+/a', /shared subscription/],
    ['$share/#', /shared subscription/],
    ['', /empty/],
  ])('rejects %j and says why', (f, why) => {
    const err = topicError(() => validateTopicFilter(f))
    expect(err.code).toBe('INVALID_TOPIC')
    expect(err.topic).toBe(f)
    expect(err.message).toMatch(why)
  })

  it('accepts a shared subscription whose filter is one level', () => {
    expect(() => validateTopicFilter('$share/g/a')).not.toThrow()
    expect(() => validateTopicFilter('$share/g/#')).not.toThrow()
  })
})
