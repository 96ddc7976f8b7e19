import { describe, expect, it } from 'vitest'
import { matchTopic } from '../../../src/routing/topic-match.js'

describe('a shared subscription matches as the filter after its group', () => {
  it.each([
    ['$share/group/a/+', 'a/+'],
    ['$share/g/#', '#'],
  ])('%j matches what %j matches', (shared, plain) => {
    for (const topic of ['a', 'a/b', 'a/b/c', 'b/b', '$SYS/x']) expect(matchTopic(shared, topic)).toBe(matchTopic(plain, topic))
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
    ['a/+/#', 'a', false],
    ['a/+/#', 'a/b', true],
    ['a/+/+', 'a/b', false],
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
