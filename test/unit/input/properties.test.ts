import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../src/errors.js'
import { checkProperties } from '../../../src/input/properties.js'
import { thrown } from '../../support/expect-error.js'

const argumentError = (call: () => unknown): InvalidArgumentError => thrown(call, InvalidArgumentError)

describe('checkProperties', () => {
  it.each([
    ['x', 'string'],
    [null, 'null'],
    [[], 'Array'],
    [7, 'number'],
  ])('refuses properties that are not a plain object (%j)', (properties, type) => {
    expect(argumentError(() => checkProperties('publish', properties)).message).toBe(`publish properties must be an object, not ${type}`)
  })

  it('accepts an object without user properties', () => {
    expect(() => checkProperties('publish', { contentType: 'text/plain' })).not.toThrow()
  })

  it.each([
    ['x', 'string'],
    [null, 'null'],
    [[], 'Array'],
  ])('refuses userProperties that are not an object of names (%j)', (user, type) => {
    expect(argumentError(() => checkProperties('will', { userProperties: user })).message).toBe(
      `will userProperties must be an object of name -> string or string[], not ${type}`,
    )
  })

  it('names a user property name that cannot be encoded, quoted', () => {
    expect(argumentError(() => checkProperties('end', { userProperties: { 'a\u0000': 'v' } })).message).toBe(
      'end userProperties: the name "a\\u0000" must not contain U+0000',
    )
  })

  it('shows a property name of up to 40 characters whole', () => {
    const name = 'n'.repeat(40)
    expect(argumentError(() => checkProperties('publish', { userProperties: { [name]: 1 } })).message).toBe(
      `publish userProperties: "${name}" must be a string or an array of strings, not number`,
    )
  })

  it('cuts a property name longer than 40 characters to 37 and an ellipsis', () => {
    const name = 'n'.repeat(41)
    expect(argumentError(() => checkProperties('publish', { userProperties: { [name]: 1 } })).message).toBe(
      `publish userProperties: "${'n'.repeat(37)}..." must be a string or an array of strings, not number`,
    )
  })
})
