import { describe, expect, it } from 'vitest'
import { redactUrl, scrubUrl } from '../../../src/transport/redact-url.js'

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

describe('scrubUrl', () => {
  const signed = 'wss://iot.example:443/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=9f86d081884c7d65&token=eyJhbGciOi%2B9x'

  it('shows a signed URL quoted in a message as redactUrl shows it', () => {
    expect(scrubUrl(`connect ECONNREFUSED for ${signed}: refused`, signed)).toBe('connect ECONNREFUSED for wss://iot.example/mqtt?…: refused')
  })

  it('cuts out the query, or a value of it, however the message quotes it: whole, normalised, decoded or in part', () => {
    const said = [
      'a: ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=9f86d081884c7d65&token=eyJhbGciOi%2B9x',
      `b: ${new URL(signed).href}`,
      'c: signature 9f86d081884c7d65',
      'd: token eyJhbGciOi+9x',
    ].join('\n')
    const scrubbed = scrubUrl(said, signed)
    for (const secret of ['9f86d081884c7d65', 'eyJhbGciOi', 'X-Amz-Signature=']) expect(scrubbed).not.toContain(secret)
    expect(scrubbed).toContain('signature …')
  })

  it("cuts out userinfo, and leaves a short value's look-alikes in the message's own words", () => {
    expect(scrubUrl('401 for alice:pa%24%24word and pa$$word', 'ws://alice:pa%24%24word@h:1/?v=1')).toBe('401 for …:… and …')
  })

  it('leaves a message that quotes nothing of the URL as it was', () => {
    expect(scrubUrl('WebSocket connection lost (code 1006)', signed)).toBe('WebSocket connection lost (code 1006)')
  })
})
