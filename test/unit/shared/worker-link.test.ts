import { afterEach, describe, expect, it, vi } from 'vitest'
import { type HelloMessage, type HostMessage, type TabMessage, tabLockName, WIRE_VERSION } from '../../../src/shared/wire.js'
import { linkPort } from '../../../src/shared/worker-link.js'
import { FakeLocks } from './fake-locks.js'
import { settled } from './fakes.js'

/** The tab's end of the worker's port: what the link posts is kept. */
class FakeTabPort {
  readonly sent: TabMessage[] = []
  closed = false
  started = false
  private readonly listeners: Array<(event: MessageEvent) => void> = []

  postMessage(message: TabMessage): void {
    if (this.closed) throw new Error('posted on a closed port')
    this.sent.push(message)
  }

  addEventListener(_type: 'message', listener: (event: MessageEvent) => void): void {
    this.listeners.push(listener)
  }

  start(): void {
    this.started = true
  }

  close(): void {
    this.closed = true
  }

  /** The host sends `data`. */
  deliver(data: HostMessage): void {
    for (const listener of this.listeners) listener({ data } as MessageEvent)
  }
}

const hello: HelloMessage = { type: 'hello', wire: WIRE_VERSION, tab: 'T1', key: 'k', url: 'ws://broker.test', options: {} }
const publish: TabMessage = { type: 'publish', id: 1, topic: 't', payload: 'x' }

function link(locks: FakeLocks | undefined) {
  const port = new FakeTabPort()
  return { port, link: linkPort(port as unknown as MessagePort, locks as unknown as LockManager | undefined) }
}

afterEach(() => {
  vi.unstubAllGlobals()
})

describe('linkPort: the tab side of the worker link', () => {
  it("holds the tab's lock before its hello leaves, names it there, and sends what came meanwhile after, in order", async () => {
    const locks = new FakeLocks()
    const { port, link: l } = link(locks)
    l.post(hello)
    l.post(publish)
    expect(port.sent).toEqual([])
    await settled()
    expect(locks.held(tabLockName('T1'))).toBe(true)
    expect(port.sent).toEqual([{ ...hello, lock: tabLockName('T1') }, publish])
    l.post({ type: 'bye' })
    expect(port.sent.at(-1)).toEqual({ type: 'bye' })
  })

  it('keeps the lock until close(), which closes the port and lets it go: the worker then counts the tab gone', async () => {
    const locks = new FakeLocks()
    const { port, link: l } = link(locks)
    l.post(hello)
    await settled()
    let workerHeard = false
    void locks.request(tabLockName('T1'), () => (workerHeard = true))
    await settled()
    expect(workerHeard).toBe(false)
    l.close()
    await settled()
    expect(port.closed).toBe(true)
    expect(workerHeard).toBe(true)
  })

  it('sends the hello without a lock where there are no Web Locks, or the lock is refused', async () => {
    const none = link(undefined)
    none.link.post(hello)
    expect(none.port.sent).toEqual([hello])

    const locks = new FakeLocks()
    locks.refuse.add(tabLockName('T1'))
    const refused = link(locks)
    refused.link.post(hello)
    refused.link.post(publish)
    await settled()
    expect(refused.port.sent).toEqual([hello, publish])
  })

  it("gives the host's messages to the handler, starting the port", () => {
    const { port, link: l } = link(undefined)
    const got: HostMessage[] = []
    l.onMessage((m) => got.push(m))
    expect(port.started).toBe(true)
    const message: HostMessage = { type: 'result', id: 3, value: undefined }
    port.deliver(message)
    expect(got).toEqual([message])
  })

  it('says bye when the page hides, and no longer once closed', () => {
    const listeners = new Map<string, () => void>()
    vi.stubGlobal('addEventListener', (type: string, listener: () => void) => listeners.set(type, listener))
    vi.stubGlobal('removeEventListener', (type: string) => listeners.delete(type))
    const { port, link: l } = link(undefined)
    l.post(hello)
    listeners.get('pagehide')?.()
    expect(port.sent).toEqual([hello, { type: 'bye' }])
    l.close()
    expect(listeners.has('pagehide')).toBe(false)
  })
})
