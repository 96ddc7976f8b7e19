import { describe, expect, it } from 'vitest'
import { hasWildcard } from '../../src/wildcards.js'

describe('hasWildcard', () => {
  it.each([
    ['a/b', false],
    ['$share/g/a', false],
    ['a/+', true],
    ['+', true],
    ['a/#', true],
    ['#', true],
  ])('%j has wildcards: %s', (f, expected) => {
    expect(hasWildcard(f)).toBe(expected)
  })
})
