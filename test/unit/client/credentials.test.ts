import { describe, expect, it, vi } from 'vitest'
import {
  type ClientOptions,
  connectAsync,
  ConnectTimeoutError,
  type Credentials,
  CredentialsError,
  InvalidArgumentError,
  MqttClient,
  type UrlProvider,
} from '../../../src/index.js'
import { rejection, thrown } from '../../support/expect-error.js'
import { FakeSocket, written } from './fake-socket.js'
import { startedClients, useFakeClock } from './fake-client.js'

/**
 * The url function and the credentials hook over a fake socket and a fake clock: each is asked
 * once per attempt, with the attempt's number, within connectTimeout, and each way it can fail
 * ends that attempt with a typed error and the reconnect plan.
 */
useFakeClock()
const started = startedClients()

const SECRET = 'S3CRET-token-4f9a'
const RECONNECT = { minDelay: 100, maxDelay: 100, jitter: false }

function client(url: string | UrlProvider, options: ClientOptions = {}): MqttClient {
  const c = new MqttClient(url, { WebSocket: FakeSocket, reconnect: RECONNECT, ...options })
  started.push(c)
  return c
}

/** Lets the store's read, the hooks' promises and the transport's flush run (the fake clock stands still). */
const settled = () => written()

/** The broker drops the connection; the reconnect delay (RECONNECT's 100 ms) passes; the next attempt's hooks are asked. */
async function dropAndRetry(): Promise<void> {
  FakeSocket.last.drop()
  vi.advanceTimersByTime(100)
  await settled()
}

function errorsOf(c: MqttClient): Error[] {
  const errors: Error[] = []
  c.on('error', (e) => errors.push(e))
  return errors
}

/** The CONNECT the socket got, as mqtt-packet reads it. */
function connectOn(socket: FakeSocket): { username?: string; password?: Buffer } {
  const connect = socket.written.find((p) => p.cmd === 'connect')
  if (!connect) throw new Error('no CONNECT written')
  return connect as { username?: string; password?: Buffer }
}

/** The broker side of one attempt: the socket opens, CONNECT goes out, and `accept` says whether CONNACK follows. */
async function answer(socket: FakeSocket, accept: boolean): Promise<void> {
  socket.open()
  await written()
  if (accept) socket.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
}

describe('the credentials hook', () => {
  it("is called once per attempt, with the attempt's number, and each CONNECT carries that attempt's answer", async () => {
    const attempts: number[] = []
    const c = client('ws://broker.test', {
      credentials: async (attempt) => {
        attempts.push(attempt)
        return { username: 'device', password: `token-${attempts.length}` }
      },
    }).open()
    await settled()
    await answer(FakeSocket.last, true) // accepted
    await dropAndRetry()
    await answer(FakeSocket.last, false) // this try fails before its CONNACK
    await dropAndRetry()
    await answer(FakeSocket.last, true)
    await dropAndRetry()
    await answer(FakeSocket.last, true)
    expect(c.state).toBe('connected')
    // 0 for the first connection, then the tries since the last accepted one.
    expect(attempts).toEqual([0, 1, 2, 1])
    expect(FakeSocket.all.map((s) => [connectOn(s).username, String(connectOn(s).password)])).toEqual([
      ['device', 'token-1'],
      ['device', 'token-2'],
      ['device', 'token-3'],
      ['device', 'token-4'],
    ])
  })

  it('may give a password alone on MQTT 5, and bytes as a password', async () => {
    const password = new Uint8Array([0, 1, 2, 255])
    client('ws://broker.test', { protocolVersion: 5, credentials: () => ({ password }) }).open()
    await settled()
    FakeSocket.last.open()
    await written()
    const connect = FakeSocket.last.written[0] as { username?: string; password?: Buffer }
    expect(connect.username).toBeUndefined()
    expect(new Uint8Array(connect.password as Buffer)).toEqual(password)
  })

  it('that throws gives a CredentialsError with the cause, then the reconnect plan asks it again', async () => {
    const failure = new Error('token service answered 503')
    let calls = 0
    const c = client('ws://broker.test', {
      credentials: () => {
        calls++
        if (calls === 1) throw failure
        return { username: 'device', password: 'fresh' }
      },
    })
    const errors = errorsOf(c)
    c.open()
    await settled()
    expect(FakeSocket.all).toHaveLength(0) // nothing opened for the failed attempt
    expect(errors).toHaveLength(1)
    const error = errors[0] as CredentialsError
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error).toMatchObject({ code: 'CREDENTIALS_FAILED', source: 'credentials', message: 'The credentials hook failed: token service answered 503' })
    expect(error.cause).toBe(failure)
    expect(c.state).toBe('reconnecting')
    vi.advanceTimersByTime(100)
    await settled()
    expect(calls).toBe(2)
    await answer(FakeSocket.last, true)
    expect(c.state).toBe('connected')
    expect(String(connectOn(FakeSocket.last).password)).toBe('fresh')
  })

  it('that keeps failing uses up maxAttempts like any failed attempt, then the client gives up', async () => {
    let calls = 0
    const c = client('ws://broker.test', {
      reconnect: { ...RECONNECT, maxAttempts: 2 },
      credentials: () => {
        calls++
        return Promise.reject(new Error('no token'))
      },
    })
    const errors = errorsOf(c)
    c.open()
    for (let i = 0; i < 3; i++) {
      await settled()
      vi.advanceTimersByTime(100)
    }
    await settled()
    expect(calls).toBe(3)
    expect(errors.filter((e) => e instanceof CredentialsError)).toHaveLength(3)
    expect(c.state).toBe('disconnected')
    expect(FakeSocket.all).toHaveLength(0)
  })

  it.each<[string, unknown, string]>([
    ['no object', null, 'credentials must be an object like { username, password }'],
    ['a string', `device:${SECRET}`, 'credentials must be an object like { username, password }'],
    ['a user name that is a number', { username: 5, password: SECRET }, 'username must be a string'],
    ['a password that is a number', { username: 'u', password: 42 }, 'password must be a string or Uint8Array'],
    ['a password without a user name on MQTT 3.1.1', { password: SECRET }, 'MQTT 3.1.1 allows a password only with a username'],
    ['a password over 65,535 bytes', { username: 'u', password: SECRET.repeat(5000) }, 'password must be at most 65535 bytes'],
    ['a user name with U+0000', { username: `a\u0000${SECRET}` }, 'username must not contain U+0000'],
  ])('that answers %s fails that attempt with a CredentialsError that names the fault and not the value', async (_, given, fault) => {
    const c = client('ws://broker.test', { reconnect: false, credentials: () => given as Credentials })
    const errors = errorsOf(c)
    c.open()
    await settled()
    expect(FakeSocket.all).toHaveLength(0)
    const error = errors[0] as CredentialsError
    expect(error).toBeInstanceOf(CredentialsError)
    expect(error.source).toBe('credentials')
    expect(error.message).toBe(`The credentials hook answered what the client cannot connect with: ${fault}`)
    expect(error.cause).toBeInstanceOf(InvalidArgumentError)
    expect(c.state).toBe('disconnected')
  })

  it('slower than connectTimeout fails the attempt with ConnectTimeoutError, and its late answer opens no socket', async () => {
    const answers: Array<(c: Credentials) => void> = []
    const c = client('ws://broker.test', {
      connectTimeout: 1_000,
      credentials: () => new Promise<Credentials>((resolve) => answers.push(resolve)),
    })
    const errors = errorsOf(c)
    c.open()
    await settled()
    expect(answers).toHaveLength(1)
    vi.advanceTimersByTime(999)
    expect(errors).toEqual([])
    vi.advanceTimersByTime(1)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(ConnectTimeoutError)
    expect(c.state).toBe('reconnecting')
    answers[0]?.({ username: 'late', password: 'late' })
    await settled()
    expect(FakeSocket.all).toHaveLength(0)
    // The next try asks afresh, and its answer is the one sent.
    vi.advanceTimersByTime(100)
    await settled()
    expect(answers).toHaveLength(2)
    answers[1]?.({ username: 'device', password: 'on-time' })
    await settled()
    expect(FakeSocket.all).toHaveLength(1)
    await answer(FakeSocket.last, true)
    expect(connectOn(FakeSocket.last).username).toBe('device')
    expect(c.state).toBe('connected')
  })

  it('slower than connectTimeout and then failing: its late CredentialsError is not reported, the timeout is the error', async () => {
    const refusals: Array<(err: Error) => void> = []
    const c = client('ws://broker.test', {
      connectTimeout: 1_000,
      credentials: () => new Promise<Credentials>((_, reject) => refusals.push(reject)),
    })
    const errors = errorsOf(c)
    c.open()
    await settled()
    vi.advanceTimersByTime(1_000)
    expect(c.state).toBe('reconnecting')
    refusals[0]?.(new Error('token service answered 503'))
    await settled()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(ConnectTimeoutError)
    expect(c.state).toBe('reconnecting')
  })

  it('pending when end() is called: end() settles, and the answer that comes after opens nothing', async () => {
    let give: ((c: Credentials) => void) | undefined
    const c = client('ws://broker.test', { credentials: () => new Promise<Credentials>((resolve) => (give = resolve)) })
    const errors = errorsOf(c)
    c.open()
    await settled()
    expect(give).toBeDefined()
    await c.end()
    expect(c.state).toBe('closed')
    give?.({ username: 'late', password: 'late' })
    await settled()
    expect(FakeSocket.all).toHaveLength(0)
    expect(errors).toEqual([])
  })

  it("leaves the broker to the reconnect plan: with servers, each try's socket opens at the next one", async () => {
    client('ws://one.test', { servers: ['ws://two.test'], credentials: () => ({ username: 'device' }) }).open()
    await settled()
    await dropAndRetry()
    expect(FakeSocket.all.map((s) => s.url)).toEqual(['ws://one.test', 'ws://two.test'])
  })

  it('cannot be given beside the username or password options, whose place it takes', () => {
    for (const login of [{ username: 'u' }, { password: 'p', protocolVersion: 5 as const }]) {
      const error = thrown(() => new MqttClient('ws://broker.test', { WebSocket: FakeSocket, credentials: () => ({}), ...login }), InvalidArgumentError)
      expect(error.message).toBe('username and password cannot be given with credentials: its answer gives them for each attempt')
    }
    expect(thrown(() => new MqttClient('ws://broker.test', { WebSocket: FakeSocket, credentials: 'token' as never }), InvalidArgumentError).message).toBe(
      'credentials must be a function returning { username, password }',
    )
  })
})

describe('the url function', () => {
  it("is called once per attempt with its number, and each socket opens at that attempt's URL", async () => {
    const attempts: number[] = []
    const c = client(async (attempt) => {
      attempts.push(attempt)
      return `wss://iot.example/mqtt?X-Amz-Signature=sig${attempts.length}`
    }).open()
    await settled()
    await answer(FakeSocket.last, true)
    await dropAndRetry()
    await answer(FakeSocket.last, true)
    expect(attempts).toEqual([0, 1])
    expect(FakeSocket.all.map((s) => s.url)).toEqual(['wss://iot.example/mqtt?X-Amz-Signature=sig1', 'wss://iot.example/mqtt?X-Amz-Signature=sig2'])
    expect(c.state).toBe('connected')
  })

  it('and the credentials hook are both asked for the same attempt, and the socket waits for both', async () => {
    let giveUrl: ((url: string) => void) | undefined
    const seen: string[] = []
    client(
      (attempt) => {
        seen.push(`url ${attempt}`)
        return new Promise<string>((resolve) => (giveUrl = resolve))
      },
      { credentials: (attempt) => (seen.push(`credentials ${attempt}`), { username: 'u' }) },
    ).open()
    await settled()
    expect(seen).toEqual(['url 0', 'credentials 0'])
    expect(FakeSocket.all).toHaveLength(0)
    giveUrl?.('ws://broker.test/signed?sig=1')
    await settled()
    expect(FakeSocket.all.map((s) => s.url)).toEqual(['ws://broker.test/signed?sig=1'])
  })

  it.each<[string, unknown, string]>([
    ['an http URL', `http://iot.example/mqtt?token=${SECRET}`, 'URL must start with ws:// or wss://, not http://'],
    ['a URL that does not parse', `not a url?token=${SECRET}`, 'Invalid URL: it does not parse (not shown, as it may carry credentials)'],
    ['no string', 42, 'url must be a string like ws://host:port/path'],
  ])('that answers %s fails that attempt with a CredentialsError that does not quote it', async (_, given, fault) => {
    const c = client(() => given as string, { reconnect: false })
    const errors = errorsOf(c)
    c.open()
    await settled()
    expect(FakeSocket.all).toHaveLength(0)
    const error = errors[0] as CredentialsError
    expect(error).toMatchObject({ name: 'CredentialsError', source: 'url', message: `The url function answered what the client cannot connect with: ${fault}` })
    expect(error.message).not.toContain(SECRET)
    expect(c.state).toBe('disconnected')
  })

  it('that rejects fails the attempt with a CredentialsError, and connectAsync rejects with it on the first attempt', async () => {
    const failure = new Error('signing key unavailable')
    const error = await rejection(connectAsync(() => Promise.reject(failure), { WebSocket: FakeSocket }), CredentialsError)
    expect(error).toMatchObject({ source: 'url', message: 'The url function failed: signing key unavailable' })
    expect(error.cause).toBe(failure)
    expect(FakeSocket.all).toHaveLength(0)
  })

  it('cannot be given with servers: the function picks each attempt\'s broker', () => {
    const error = thrown(() => new MqttClient(() => 'ws://a', { WebSocket: FakeSocket, servers: ['ws://b'] }), InvalidArgumentError)
    expect(error.message).toBe("servers cannot be given with a url function: the function picks each attempt's broker (from its attempt number)")
    expect(new MqttClient(() => 'ws://a', { WebSocket: FakeSocket, servers: [] }).options.servers).toEqual([])
  })

  it('is what client.options shows as the url', () => {
    const url: UrlProvider = () => 'ws://a'
    expect(new MqttClient(url, { WebSocket: FakeSocket }).options.url).toBe(url)
  })
})
