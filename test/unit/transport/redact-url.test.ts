import { describe, expect, it } from 'vitest'
import { TransportError } from '../../../src/errors.js'
import { redactUrl, scrubUrl } from '../../../src/transport/redact-url.js'
import { type WebSocketConstructor, type WebSocketLike, WebSocketTransport } from '../../../src/transport/websocket.js'
import { thrown } from '../../support/expect-error.js'

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

  it('cuts out a query quoted without its ?, short values and all', () => {
    expect(scrubUrl('bad query a=1&b=2 given', 'ws://h/mqtt?a=1&b=2')).toBe('bad query … given')
  })

  it('cuts out a query value of four characters, the shortest it takes for a secret', () => {
    expect(scrubUrl('pin 4821 refused', 'ws://h/mqtt?pin=4821&v=1')).toBe('pin … refused')
  })

  it('cuts out the longest secret first, so no part of one that holds another is left', () => {
    // The user name is the first part of the token: cut first, it would leave the token's rest.
    expect(scrubUrl('rejected tok1-secret-part', 'ws://tok1@h/?t=tok1-secret-part')).toBe('rejected …')
  })

  it('cuts out userinfo whose percent-escapes do not decode, as it is written', () => {
    expect(scrubUrl('401 for us%E0%A4er', 'ws://us%E0%A4er@h/')).toBe('401 for …')
  })

  it('shows a URL that does not parse as redactUrl does, cut out wherever the message quotes it', () => {
    expect(scrubUrl('cannot open not a url s3cret: bad', 'not a url s3cret')).toBe('cannot open (invalid URL): bad')
  })

  it('leaves a message that quotes nothing of the URL as it was', () => {
    expect(scrubUrl('WebSocket connection lost (code 1006)', signed)).toBe('WebSocket connection lost (code 1006)')
  })
})

describe("a WebSocketTransport's errors about a signed URL", () => {
  const url = 'wss://iot.example/mqtt?X-Amz-Signature=9f86d081884c7d65'
  const noHandlers = { onOpen() {}, onData() {}, onClose() {} }

  /** A socket whose constructor throws `thrown`, as a browser's does for a URL it refuses. */
  function refusing(thrown: unknown): WebSocketConstructor {
    return class {
      constructor() {
        throw thrown
      }
    } as unknown as WebSocketConstructor
  }

  /** A socket that records itself, so a test can fire its events. */
  class StubSocket {
    static last: WebSocketLike
    binaryType = 'blob'
    readyState = 1
    onopen = null
    onmessage = null
    onerror: ((event: never) => unknown) | null = null
    onclose: ((event: never) => unknown) | null = null
    constructor() {
      StubSocket.last = this as unknown as WebSocketLike
    }
    send() {}
    close() {}
  }
  const fire = (handler: ((event: never) => unknown) | null, event: unknown) => (handler as (e: unknown) => void)(event)

  /** Opens a transport whose socket then reports `event` as an error and closes; returns the error the close gives. */
  function failing(event: { message?: string; error?: unknown }): TransportError {
    let closed: unknown
    new WebSocketTransport(url, { ...noHandlers, onClose: (error) => (closed = error) }, StubSocket)
    fire(StubSocket.last.onerror, event)
    fire(StubSocket.last.onclose, { code: 1006, reason: '' })
    expect(closed).toBeInstanceOf(TransportError)
    return closed as TransportError
  }

  it('from a constructor that quotes the URL: shown redacted, and the original error, which quotes it, is not the cause', () => {
    const error = thrown(() => new WebSocketTransport(url, noHandlers, refusing(new SyntaxError(`The URL '${url}' is invalid.`))), TransportError)
    expect(error.message).toBe("Cannot open WebSocket to wss://iot.example/mqtt?…: The URL 'wss://iot.example/mqtt?…' is invalid.")
    expect(error.cause).toBeUndefined()
  })

  it('from a constructor that quotes nothing of it: its message as it is, and its error as the cause', () => {
    const failure = new SyntaxError('The subprotocol is invalid.')
    const error = thrown(() => new WebSocketTransport(url, noHandlers, refusing(failure)), TransportError)
    expect(error.message).toBe('Cannot open WebSocket to wss://iot.example/mqtt?…: The subprotocol is invalid.')
    expect(error.cause).toBe(failure)
  })

  it('from a constructor that throws a string, or nothing: a TransportError all the same, the string scrubbed', () => {
    const error = thrown(() => new WebSocketTransport(url, noHandlers, refusing(`bad address ${url}`)), TransportError)
    expect(error.message).toBe('Cannot open WebSocket to wss://iot.example/mqtt?…: bad address wss://iot.example/mqtt?…')
    expect(thrown(() => new WebSocketTransport(url, noHandlers, refusing(undefined)), TransportError).message).toBe(
      'Cannot open WebSocket to wss://iot.example/mqtt?…: undefined',
    )
  })

  it("from the socket's error event that quotes the URL: scrubbed, with Node's code, and no cause that quotes it", () => {
    const cause = Object.assign(new Error(`connect to ${url} failed`), { code: 'ECONNREFUSED' })
    const error = failing({ error: cause })
    expect(error.message).toBe('WebSocket error: connect to wss://iot.example/mqtt?… failed (ECONNREFUSED)')
    expect(error.cause).toBeUndefined()
  })

  it("from the socket's error event that quotes nothing of it: its message, and its error as the cause", () => {
    const cause = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    const error = failing({ error: cause })
    expect(error.message).toBe('WebSocket error: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)')
    expect(error.cause).toBe(cause)
  })

  it("from a browser's error event, whose message quotes the URL: scrubbed; a code the message already names is not repeated", () => {
    expect(failing({ message: `ECONNRESET on ${url}`, error: { code: 'ECONNRESET' } }).message).toBe('WebSocket error: ECONNRESET on wss://iot.example/mqtt?…')
  })

  it("from a browser's error event with a message and no error: the message alone", () => {
    expect(failing({ message: 'connection refused' }).message).toBe('WebSocket error: connection refused')
  })

  it("from the socket's error event that says nothing: 'WebSocket error' alone", () => {
    const error = failing({})
    expect(error.message).toBe('WebSocket error')
  })

  it('after our own close(): an error event is not news, and the close reports no error', async () => {
    const closes: unknown[] = []
    const t = new WebSocketTransport(url, { ...noHandlers, onClose: (error) => closes.push(error) }, StubSocket)
    t.close()
    fire(StubSocket.last.onerror, { message: 'socket torn down' })
    await Promise.resolve()
    expect(closes).toEqual([undefined])
  })
})
