import { describe, expect, it } from 'vitest'
import { InvalidTopicError } from '../../src/errors.js'
import { matchTopic, validateTopicFilter, validateTopicName } from '../../src/routing/topic.js'

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

describe('matchTopic', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+', 'a', false],
    ['a/+', 'a/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['#', 'anything/at/all', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/+/player1', 'sport/tennis/player1', true],
    ['#', '$SYS/broker', false],
    ['+/broker', '$SYS/broker', false],
    ['$SYS/#', '$SYS/broker', true],
    ['$share/group/a/+', 'a/b', true],
    ['$share/group/a/+', 'b/b', false],
  ])('%j matches %j: %s', (filter, topic, expected) => {
    expect(matchTopic(filter, topic)).toBe(expected)
  })
})
