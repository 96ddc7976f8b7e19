import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { InvalidArgumentError, MqttClient } from '../../../src/index.js'
import { connectShared } from '../../../src/shared/connect-shared.js'
import { leaderChannelName } from '../../../src/shared/leader-link.js'
import { SharedClient } from '../../../src/shared/tab-client.js'
import type { TabMessage } from '../../../src/shared/wire.js'
import { FakeSocket } from '../client/fake-socket.js'
import { FakeLocks } from './fake-locks.js'

/**
 * How connectShared picks the way to the host: the SharedWorker when there is one; the leader
 * tab where there is none, when asked, or when the worker fails before it said a word (a CSP);
 * an own connection where neither can be. The page's globals are stood in for: SharedWorker, Web
 * Locks and WebSocket (for the leader's own client); BroadcastChannel is Node's.
 */

/** A SharedWorker that records what its port is sent, and can fail as a refused one does. */
class FakeWorker {
  static made: FakeWorker[] = []
  static refuse = false
  readonly posted: TabMessage[] = []
  onerror: ((event: unknown) => void) | null = null
  readonly port: MessagePort
  constructor(readonly url: string | URL) {
    if (FakeWorker.refuse) throw new DOMException('refused by the page', 'SecurityError')
    const channel = new MessageChannel()
    this.port = channel.port1
    channel.port2.onmessage = ({ data }: MessageEvent<TabMessage>) => this.posted.push(data)
    this.far = channel.port2
    FakeWorker.made.push(this)
  }
  readonly far: MessagePort
  fail(): void {
    this.onerror?.({ message: 'refused' })
  }
}

const URL = 'ws://broker.test'
let warnings: string[]
const opened: Array<{ end(o?: object): Promise<void> }> = []

beforeEach(() => {
  FakeWorker.made = []
  FakeWorker.refuse = false
  FakeSocket.all.length = 0
  warnings = []
  vi.spyOn(console, 'warn').mockImplementation((line: string) => void warnings.push(line))
  vi.stubGlobal('WebSocket', FakeSocket)
})

afterEach(async () => {
  for (const client of opened.splice(0)) await client.end({ force: true }).catch(() => undefined)
  for (const worker of FakeWorker.made) worker.far.close()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

const withWorker = () => vi.stubGlobal('SharedWorker', FakeWorker)
const withLocks = () => vi.stubGlobal('navigator', { locks: new FakeLocks() })

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 3000
  while (Date.now() < deadline) {
    if (done()) return
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  throw new Error(`never: ${what}`)
}

/** What crosses the key's BroadcastChannel: a tab talking to a leader. */
function listen(key: string): { kinds: string[]; close(): void } {
  const channel = new BroadcastChannel(leaderChannelName(key))
  const kinds: string[] = []
  channel.onmessage = ({ data }: MessageEvent<{ kind: string; message?: { type: string } }>) =>
    void kinds.push(data.message ? `${data.kind} ${data.message.type}` : data.kind)
  return { kinds, close: () => channel.close() }
}

const open = <C extends { end(o?: object): Promise<void> }>(client: C): C => {
  opened.push(client)
  return client
}

describe('connectShared picks the way to the shared connection', () => {
  it('uses the SharedWorker when the page has one: the hello goes to its port, at the URL given', async () => {
    withWorker()
    withLocks()
    const client = open(connectShared(URL, { clientId: 'a', workerUrl: '/js/ts-mqtt-ws.shared-worker.js', endTimeout: 50 }))
    expect(client).toBeInstanceOf(SharedClient)
    await until(() => (FakeWorker.made[0]?.posted.length ?? 0) > 0, 'hello at the worker')
    expect(String(FakeWorker.made[0]?.url)).toBe('/js/ts-mqtt-ws.shared-worker.js')
    expect(FakeWorker.made[0]?.posted[0]).toMatchObject({ type: 'hello', url: URL, options: { clientId: 'a' } })
    expect(warnings).toEqual([])
    // The fake worker never answers: a forced end still settles, after endTimeout, with a bye to the host.
    await client.end({ force: true })
    expect(client.state).toBe('closed')
    await until(() => FakeWorker.made[0]?.posted.at(-1)?.type === 'bye', 'the bye')
  })

  it("takes the leader mode for shared: 'leader', with no worker made: this page leads and connects", async () => {
    withWorker()
    withLocks()
    const channel = listen(`${URL}\nb`)
    const client = open(connectShared(URL, { clientId: 'b', shared: 'leader' }))
    await until(() => FakeSocket.all.length === 1, 'the leader connects')
    await until(() => channel.kinds.includes('to-host hello'), 'the hello on the channel')
    expect(FakeWorker.made).toEqual([])
    expect(client.state).toBe('connecting')
    channel.close()
  })

  it('takes the leader mode where the page has no SharedWorker, without a warning', async () => {
    withLocks()
    open(connectShared(URL, { clientId: 'c' }))
    await until(() => FakeSocket.all.length === 1, 'the leader connects')
    expect(warnings).toEqual([])
  })

  it('falls back to the leader mode with a console warning when the worker cannot be made (a CSP throwing)', async () => {
    withWorker()
    withLocks()
    FakeWorker.refuse = true
    open(connectShared(URL, { clientId: 'd' }))
    await until(() => FakeSocket.all.length === 1, 'the leader connects')
    expect(warnings).toEqual([expect.stringMatching(/shared worker could not start \(refused by the page\); sharing the connection through a leader tab/)])
  })

  it('falls back to the leader mode when the worker fails before saying a word, and sends its hello and requests there', async () => {
    withWorker()
    withLocks()
    const channel = listen(`${URL}\ne`)
    const client = open(connectShared(URL, { clientId: 'e' }))
    const subscribed = client.subscribe('t/e').catch((error: unknown) => error)
    await until(() => (FakeWorker.made[0]?.posted.length ?? 0) >= 2, 'hello and subscribe at the worker')
    FakeWorker.made[0]?.fail()
    await until(() => FakeSocket.all.length === 1, 'the leader connects')
    await until(() => channel.kinds.includes('to-host subscribe'), 'the subscribe reaches the leader')
    expect(channel.kinds.filter((k) => k === 'to-host hello')).toHaveLength(1)
    expect(warnings).toHaveLength(1)
    expect(client.state).not.toBe('closed')
    channel.close()
    void subscribed
  })

  it('counts a worker that fails after it answered as a lost host: the client closes, no fallback', async () => {
    withWorker()
    withLocks()
    const client = open(connectShared(URL, { clientId: 'f' }))
    const closed = new Promise<void>((resolve) => client.once('end', () => resolve()))
    await until(() => (FakeWorker.made[0]?.posted.length ?? 0) > 0, 'hello at the worker')
    const worker = FakeWorker.made[0] as FakeWorker
    const connected = new Promise<void>((resolve) => client.once('connect', () => resolve()))
    const connack = { cmd: 'connack', returnCode: 0, sessionPresent: false }
    worker.far.postMessage({ type: 'state', snapshot: { state: 'connected', clientId: 'f', protocolVersion: 4, connack } })
    await connected
    worker.fail()
    await closed
    expect(client.state).toBe('closed')
    expect(FakeSocket.all).toEqual([])
    expect(warnings).toEqual([])
  })

  it('connects on its own, with a console warning, where the page has neither a SharedWorker nor Web Locks', async () => {
    const client = open(connectShared(URL, { clientId: 'g' }))
    expect(client).toBeInstanceOf(MqttClient)
    await until(() => FakeSocket.all.length === 1, 'its own socket')
    expect(warnings).toEqual([expect.stringMatching(/neither SharedWorker nor Web Locks.*connects on its own/)])
  })

  it('refuses bad options with a typed error before anything is made, in every way', () => {
    withWorker()
    expect(() => connectShared(URL, null as never)).toThrow(/^options must be an object$/)
    expect(() => connectShared(URL, 'shared' as never)).toThrow(InvalidArgumentError)
    expect(() => connectShared(URL, { workerUrl: 7 } as never)).toThrow(/^workerUrl must be a string or a URL$/)
    expect(() => connectShared(URL, { store: {} } as never)).toThrow(/store cannot be given with shared/)
    vi.unstubAllGlobals()
    vi.stubGlobal('WebSocket', FakeSocket)
    expect(() => connectShared(URL, { keepalive: -1 })).toThrow(InvalidArgumentError)
    expect(FakeWorker.made).toEqual([])
    expect(FakeSocket.all).toEqual([])
  })

  it('after end() posts nothing more to the worker, and a late worker error changes nothing', async () => {
    withWorker()
    withLocks()
    const client = connectShared(URL, { clientId: 'h', endTimeout: 20 })
    await until(() => (FakeWorker.made[0]?.posted.length ?? 0) > 0, 'hello at the worker')
    const worker = FakeWorker.made[0] as FakeWorker
    await client.end({ force: true })
    await until(() => worker.posted.at(-1)?.type === 'bye', 'the bye')
    const posted = worker.posted.length
    await client.publish('t', 'x').catch(() => undefined)
    worker.fail()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(worker.posted.length).toBe(posted)
    expect(FakeSocket.all).toEqual([])
    expect(warnings).toEqual([])
  })
})

describe('the leader mode in a page: one election per key, however many clients use it', () => {
  const leaderLock = (key: string) => `ts-mqtt-ws:leader:${key}`

  it('enters the election once for two clients of one key, stays while one is left, and leaves with the last', async () => {
    withLocks()
    const locks = (globalThis.navigator as unknown as { locks: FakeLocks }).locks
    const key = `${URL}\nshared-i`
    const first = connectShared(URL, { clientId: 'shared-i', shared: 'leader', endTimeout: 50 })
    const second = connectShared(URL, { clientId: 'shared-i', shared: 'leader', endTimeout: 50 })
    await until(() => FakeSocket.all.length === 1, 'the leader connects')
    expect(locks.asked.filter((name) => name === leaderLock(key))).toHaveLength(1)
    await first.end({ force: true })
    // Another page asking now waits: this page still leads for the second client.
    let granted = false
    void locks.request(leaderLock(key), () => {
      granted = true
    })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(granted).toBe(false)
    await second.end({ force: true })
    await until(() => granted, 'the lock passed on once the last client ended')
  })

  it('does not take the leader mode without BroadcastChannel or without Web Locks', async () => {
    withLocks()
    vi.stubGlobal('BroadcastChannel', undefined)
    expect(open(connectShared(URL, { clientId: 'j' }))).toBeInstanceOf(MqttClient)
    vi.unstubAllGlobals()
    vi.stubGlobal('WebSocket', FakeSocket)
    vi.stubGlobal('navigator', {})
    expect(open(connectShared(URL, { clientId: 'k' }))).toBeInstanceOf(MqttClient)
    expect(warnings).toHaveLength(2)
  })
})
