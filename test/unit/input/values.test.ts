import { describe, expect, it } from 'vitest'
import { received } from '../../../src/input/values.js'

describe('received', () => {
  it('shows numbers and booleans as themselves', () => {
    expect(received(1.5)).toBe('1.5')
    expect(received(true)).toBe('true')
    expect(received(false)).toBe('false')
  })

  it('shows a bigint with its n suffix', () => {
    expect(received(5n)).toBe('the bigint 5n')
  })

  it('names anything else by its type', () => {
    expect(received({})).toBe('Object')
    expect(received(null)).toBe('null')
    expect(received(undefined)).toBe('undefined')
  })

  it('quotes a string of up to 40 characters whole', () => {
    const s = 'x'.repeat(40)
    expect(received(s)).toBe(`the string '${s}'`)
  })

  it('cuts a string longer than 40 characters to 37 and an ellipsis', () => {
    expect(received('y'.repeat(41))).toBe(`the string '${'y'.repeat(37)}...'`)
  })
})
