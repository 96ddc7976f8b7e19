import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../src/index.js'
import { SharedHost } from '../../../src/shared/host.js'
import { type HelloMessage, type HostMessage, rebuildError, type RefusedMessage, tabLockName, type WebLocks, WIRE_VERSION } from '../../../src/shared/wire.js'
import { ownClientFactory, servePort, type WorkerPort } from '../../../src/shared/worker-ports.js'
import { FakeLocks } from './fake-locks.js'
import { FakeHostedClient, settled } from './fakes.js'

/** A port of the worker: what the tab sends is given to its listener, what the worker posts kept. */
class FakePort implements WorkerPort {
  readonly got: HostMessage[] = []
  started = false
  private listener: ((event: MessageEvent) => void) | undefined

  postMessage(message: HostMessage): void {
    this.got.push(message)
  }

  addEventListener(_type: 'message', listener: (event: MessageEvent) => void): void {
    this.listener = listener
  }

  start(): void {
    this.started = true
  }

  /** The tab sends `data`. */
  send(data: unknown): void {
    this.listener?.({ data } as MessageEvent)
  }
}

function worker(locks: WebLocks | undefined = new FakeLocks()) {
  const clients: FakeHostedClient[] = []
  const host = new SharedHost((url, options) => {
    const client = new FakeHostedClient(url, options)
    clients.push(client)
    return client
  })
  const open = () => {
    const port = new FakePort()
    servePort(host, port, locks)
    return port
  }
  return { host, clients, open }
}

const hello = (tab: string, lock?: string): HelloMessage => ({
  type: 'hello',
  wire: WIRE_VERSION,
  tab,
  key: 'k',
  url: 'ws://broker.test',
  options: {},
  ...(lock === undefined ? {} : { lock }),
})

/** Holds the tab's lock as its page would, until the returned function lets go. */
async function holdTabLock(locks: FakeLocks, tab: string): Promise<() => void> {
  let release!: () => void
  await new Promise<void>((granted) => {
    void locks.request(tabLockName(tab), () => {
      granted()
      return new Promise<void>((r) => (release = r))
    })
  })
  return release
}

describe('servePort: the worker side of a port', () => {
  it("takes the port's hello as its tab's, and routes its requests and the host's answers on that port", async () => {
    const w = worker()
    const port = w.open()
    expect(port.started).toBe(true)
    port.send(hello('A'))
    expect(port.got).toEqual([{ type: 'state', snapshot: expect.objectContaining({ state: 'connecting' }) }])
    port.send({ type: 'publish', id: 1, topic: 't', payload: 'x' })
    const client = w.clients[0] as FakeHostedClient
    client.publishes[0]?.resolve(undefined)
    await settled()
    expect(port.got.at(-1)).toEqual({ type: 'result', id: 1, value: undefined })
  })

  it('refuses anything before a hello, with a typed error and no client made', () => {
    const w = worker()
    const port = w.open()
    port.send({ type: 'publish', id: 1, topic: 't', payload: 'x' })
    const refused = port.got[0] as RefusedMessage
    expect(refused.type).toBe('refused')
    expect(rebuildError(refused.error)).toBeInstanceOf(InvalidArgumentError)
    expect(w.clients).toHaveLength(0)
  })

  it("asks for the tab's lock, and lets the tab go when its page lets go of it: its filters are unsubscribed", async () => {
    const locks = new FakeLocks()
    const w = worker(locks)
    const a = w.open()
    const b = w.open()
    const releaseA = await holdTabLock(locks, 'A')
    await holdTabLock(locks, 'B')
    a.send(hello('A', tabLockName('A')))
    b.send(hello('B', tabLockName('B')))
    a.send({ type: 'subscribe', id: 1, subscriptions: [{ topic: 'a/only', qos: 0, sub: 1 }] })
    b.send({ type: 'subscribe', id: 1, subscriptions: [{ topic: 'b/only', qos: 0, sub: 1 }] })
    const client = w.clients[0] as FakeHostedClient
    client.grant(0)
    client.grant(1)
    await settled()
    expect(locks.asked).toEqual([tabLockName('A'), tabLockName('B'), tabLockName('A'), tabLockName('B')])
    expect(client.unsubscribes).toHaveLength(0)

    releaseA()
    await settled()
    expect(client.unsubscribes.map((u) => u.args)).toEqual([['a/only']])
    expect(client.ends).toHaveLength(0)
    // The worker held the lock only to hear of it: it is free again.
    expect(locks.held(tabLockName('A'))).toBe(false)
  })

  it("asks for no lock a hello does not name, nor for one that is not its tab's", async () => {
    const locks = new FakeLocks()
    const w = worker(locks)
    w.open().send(hello('A'))
    w.open().send(hello('B', 'some-app-lock'))
    await settled()
    expect(locks.asked).toEqual([])
  })

  it('works without Web Locks: bye alone tells', async () => {
    const w = worker(undefined)
    const port = w.open()
    port.send(hello('A', tabLockName('A')))
    port.send({ type: 'bye' })
    await settled()
    expect((w.clients[0] as FakeHostedClient).ends).toEqual([expect.objectContaining({ args: {} })])
  })

  it('a bye lets go of every tab that said hello on the port; a later hello starts a new one there', async () => {
    const w = worker()
    const port = w.open()
    const other = w.open()
    other.send(hello('C'))
    port.send(hello('A'))
    port.send({ type: 'end', id: 1 })
    const client = w.clients[0] as FakeHostedClient
    await settled()
    port.send(hello('B'))
    port.send({ type: 'subscribe', id: 2, subscriptions: [{ topic: 'b', qos: 0, sub: 1 }] })
    client.grant()
    await settled()
    expect(port.got.filter((m) => m.type === 'result').map((m) => (m as { id: number }).id)).toEqual([1, 2])
    port.send({ type: 'bye' })
    await settled()
    expect(client.unsubscribes.map((u) => u.args)).toEqual([['b']])
    // C is still there: the connection stays.
    expect(client.ends).toHaveLength(0)
    port.send({ type: 'publish', id: 3, topic: 't', payload: 'x' })
    expect((port.got.at(-1) as RefusedMessage).type).toBe('refused')
  })
})

describe('ownClientFactory', () => {
  it("makes the worker's client with the tab's options less shared and sharedKey, so it is a connection and not another proxy", () => {
    const made: Array<[string, object]> = []
    const factory = ownClientFactory((url, options) => {
      made.push([url, options])
      return new FakeHostedClient(url, {})
    })
    const options = { clientId: 'c', keepalive: 5, shared: true, sharedKey: 'k' }
    factory('ws://broker.test', options)
    expect(made).toEqual([['ws://broker.test', { clientId: 'c', keepalive: 5 }]])
    // The tab's object is not changed.
    expect(options.shared).toBe(true)
  })
})
