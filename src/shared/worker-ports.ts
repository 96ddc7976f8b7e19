/**
 * The SharedWorker's side of its ports: each port's messages to one {@link SharedHost}, under
 * the tab ids its hellos name, and each tab's Web Lock watched so the host hears when the tab's
 * page is gone. A SharedWorker's port has no close event: a page that closes or crashes without
 * its `bye` would otherwise keep its filters subscribed for as long as the worker lives.
 */
import type { ClientOptions } from '../input/options.js'
import { InvalidArgumentError } from '../errors.js'
import type { ClientFactory, HostedClient, SharedHost, TabPort } from './host.js'
import { type HostMessage, serializeError, type SharedClientOptions, type TabId, tabLockName, type WebLocks } from './wire.js'

/** What the worker uses of a port: a MessagePort's, which a test can give in Node. */
export interface WorkerPort {
  /** Sends the tab a message. */
  postMessage(message: HostMessage): void
  /** Where the tab's messages arrive. */
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  /** Starts the delivery of queued messages. */
  start(): void
}

/**
 * Serves one port. The port's messages go to the host as from the tab its latest hello named:
 * the wire's requests carry no tab id, so one tab client talks on a port at a time (a page's
 * several clients open a port each), and a port's next hello starts the next. A `bye` lets go
 * of every tab that spoke on the port; so does the release of each tab's lock, its hello's
 * {@link HelloMessage.lock}, which the worker asks for and is granted once the tab is gone.
 */
export function servePort(host: SharedHost, port: WorkerPort, locks: WebLocks | undefined): void {
  const tabs = new Set<TabId>()
  let current: TabId | undefined
  const tabPort: TabPort = { post: (message) => port.postMessage(message) }
  port.addEventListener('message', ({ data }: MessageEvent) => {
    const hello = helloOf(data)
    if (hello && hello.tab !== current) {
      current = hello.tab
      tabs.add(current)
      host.addTab(current, tabPort)
      if (locks && hello.lock === tabLockName(current)) watchTab(host, locks, current)
    }
    if (isBye(data)) {
      for (const tab of tabs) host.tabGone(tab)
      tabs.clear()
      current = undefined
    } else if (current === undefined) {
      const error = new InvalidArgumentError('the first message on a port to the shared worker must be a hello')
      port.postMessage({ type: 'refused', error: serializeError(error) })
    } else {
      host.receive(current, data)
    }
  })
  port.start()
}

/**
 * Asks for the tab's lock: granted once the tab lets go of it (its page closed, crashed or
 * navigated, or its link closed), which is when the tab is gone. The tab took the lock before
 * its hello left, so the worker's request waits behind it.
 */
function watchTab(host: SharedHost, locks: WebLocks, tab: TabId): void {
  locks.request(tabLockName(tab), () => host.tabGone(tab)).catch(() => undefined)
}

/** The tab id and lock of a message that is a hello; the host reads the rest. */
function helloOf(data: unknown): { tab: string; lock?: unknown } | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const { type, tab, lock } = data as { type?: unknown; tab?: unknown; lock?: unknown }
  return type === 'hello' && typeof tab === 'string' ? { tab, lock } : undefined
}

function isBye(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'bye'
}

/**
 * The worker's client factory: `connect` with the first tab's options, less those that asked
 * for sharing, so the worker's own client is a connection and not another shared proxy.
 */
export function ownClientFactory(connect: (url: string, options: ClientOptions) => HostedClient): ClientFactory {
  return (url, options: SharedClientOptions) => {
    const own: ClientOptions & { shared?: unknown; sharedKey?: unknown } = { ...options }
    delete own.shared
    delete own.sharedKey
    return connect(url, own)
  }
}
