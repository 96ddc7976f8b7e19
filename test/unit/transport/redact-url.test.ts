import { describe, expect, it } from 'vitest'
import { redactUrl } from '../../../src/transport/redact-url.js'

describe('redactUrl', () => {
  it('drops userinfo, and shows a query only as ?…', () => {
    expect(redactUrl('wss://alice:s3cret@broker.example:8884/mqtt?token=s3cret&x=1')).toBe('wss://broker.example:8884/mqtt?…')
  })

  it('drops a fragment and a user name given alone', () => {
    expect(redactUrl('ws://token-only@127.0.0.1:9001/#s3cret')).toBe('ws://127.0.0.1:9001/')
  })

  it('leaves an address without credentials as it was', () => {
    expect(redactUrl('ws://[::1]:9001/mqtt')).toBe('ws://[::1]:9001/mqtt')
  })

  it('shows nothing of a string that is not a URL, which might be all secret', () => {
    expect(redactUrl('not a url s3cret')).toBe('(invalid URL)')
  })
})
