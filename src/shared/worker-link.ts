/**
 * The tab's end of a shared connection hosted in a SharedWorker: the worker made, its port
 * wrapped as a link, the tab's Web Lock held so the worker learns when the page is gone, and a
 * `bye` sent when the page hides. Kept small and apart from the worker: it is the one part of
 * shared mode an app's main bundle carries, and only when it is imported.
 */
import { TransportError } from '../errors.js'
import { type HostMessage, holdLock, type TabMessage, tabLockName } from './wire.js'

/**
 * A tab's channel to the host of a shared connection: the shape `connectShared` takes (its
 * HostLink). Messages go as structured clones, in order.
 */
export interface WorkerLink {
  /** Sends the host a message. */
  post(message: TabMessage): void
  /** Calls `handler` with each message the host sends. */
  onMessage(handler: (message: HostMessage) => void): void
  /** Closes the port and lets go of the tab's lock: the host counts the tab gone (send `end` first). */
  close(): void
  /** Takes the handler to call when the host cannot be reached: a worker that failed to start. */
  onClose?(handler: (error?: unknown) => void): void
}

/**
 * Opens a port to the shared connections' SharedWorker. With no URL the worker is the package's
 * own `shared-worker.js`, beside this module, in the form Vite and webpack 5 find and emit with
 * no set-up; a script-tag page gives the URL of `ts-mqtt-ws.shared-worker.js` on its own origin
 * (a SharedWorker must be same-origin, so not a CDN's copy). Tabs share one worker when they
 * give the same URL.
 * @param workerUrl - the worker script, loaded as a classic script
 * @example
 * ```ts
 * const link = openWorkerLink(new URL('/js/ts-mqtt-ws.shared-worker.js', location.href))
 * ```
 */
export function openWorkerLink(workerUrl?: string | URL): WorkerLink {
  const worker =
    workerUrl === undefined
      ? new SharedWorker(new URL('./shared-worker.js', import.meta.url), { type: 'module', name: 'ts-mqtt-ws' })
      : new SharedWorker(workerUrl, { name: 'ts-mqtt-ws' })
  return {
    ...linkPort(worker.port),
    // A worker that cannot start (not found, refused by a CSP) would leave the tab waiting for answers that never come.
    onClose(handler) {
      worker.onerror = () => handler(new TransportError('The shared worker could not start'))
    },
  }
}

/**
 * A link over a port to the worker. Each hello takes the tab's Web Lock first and says so; what
 * is posted meanwhile waits, so the worker never asks for a lock the tab does not yet hold (it
 * would be granted at once, and the tab taken for gone).
 */
export function linkPort(port: MessagePort, locks: LockManager | undefined = globalThis.navigator?.locks): WorkerLink {
  const releases: Array<() => void> = []
  let waiting: TabMessage[] | undefined
  const send = (message: TabMessage) => (waiting ? waiting.push(message) : port.postMessage(message))
  const flush = () => {
    const queued = waiting ?? []
    waiting = undefined
    for (const message of queued) port.postMessage(message)
  }
  // The page going is the tab going: bye says so at once, where the lock's release may come later.
  const bye = () => send({ type: 'bye' })
  globalThis.addEventListener?.('pagehide', bye)
  return {
    post(message) {
      if (message.type !== 'hello' || !locks || waiting) return void send(message)
      const lock = tabLockName(message.tab)
      waiting = [{ ...message, lock }]
      holdLock(locks, lock, releases).then(flush, () => {
        // No lock to be had (an opaque origin): the hello goes without, and bye alone tells.
        if (waiting?.[0]?.type === 'hello') waiting[0] = message
        flush()
      })
    },
    onMessage(handler) {
      port.addEventListener('message', (event: MessageEvent<HostMessage>) => handler(event.data))
      port.start()
    },
    close() {
      globalThis.removeEventListener?.('pagehide', bye)
      port.close()
      for (const release of releases.splice(0)) release()
    },
  }
}
