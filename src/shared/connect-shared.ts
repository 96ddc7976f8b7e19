/**
 * `connectShared()`, the public door to one connection for all tabs of an origin: it picks how
 * this page reaches the host (the SharedWorker, or a leader tab where there is none, where a
 * Content-Security-Policy refuses the worker, or when asked for) and hands the tab's client a
 * link that stays the same while the way behind it changes.
 */
import type { MqttClientApi } from '../client/api.js'
import { connect } from '../client/connect.js'
import { InvalidArgumentError } from '../errors.js'
import { openPageLeaderLink, leaderModeAvailable } from './page-leader.js'
import { type HostLink, SharedClient, type SharedOptions } from './tab-client.js'
import type { HostMessage, TabMessage } from './wire.js'
import { openWorkerLink } from './worker-link.js'

/** The options of {@link connectShared}: the client's, how to share, and where the worker is. */
export type ConnectSharedOptions = SharedOptions & {
  /**
   * The SharedWorker script, for pages whose bundler does not emit it: a script-tag page gives the
   * URL of `ts-mqtt-ws.shared-worker.js` on its own origin (the script-tag build
   * `ts-mqtt-ws.shared.iife.js` finds it beside itself). Default: the package's own
   * `shared-worker.js`, which Vite and webpack 5 emit with no set-up.
   */
  workerUrl?: string | URL
}

/**
 * Connects this tab to the one MQTT connection that every tab of the origin asking for the same
 * shared key uses (by default the same URL and clientId; see `sharedKey`). The client it returns
 * has the whole surface of {@link MqttClient}: publish, subscribe with handlers, messages(),
 * unsubscribe, end, events, state and typed errors. Subscriptions are counted across tabs; each
 * message reaches only the tabs and handlers whose filters match; a publish settles in the tab
 * that made it; `end()` ends this tab's use, and the connection closes with its last tab.
 *
 * The connection lives in a SharedWorker. Where there is none (Chrome on Android, older Safari),
 * where a Content-Security-Policy refuses it (a console warning says so), or with
 * `shared: 'leader'`, one tab, chosen by a Web Lock, holds it and the others reach it over a
 * BroadcastChannel; when that tab goes, the next one takes the session over (clean: false, its
 * messages kept in IndexedDB). Where neither is possible (Node, a browser without Web Locks) the
 * client connects on its own, as `connect()` would, with a console warning.
 *
 * The options cross to the host as structured clones: a url function, `credentials`, `onAuth`,
 * `store` and `WebSocket` cannot, and are refused.
 * @example
 * ```ts
 * import { connectShared } from 'ts-mqtt-ws'
 * const client = connectShared('wss://broker.example/mqtt', { clientId: 'dashboard-7' })
 * await client.subscribe('plant/+/temp', (m) => show(m.topic, m.text()))
 * ```
 * @throws {@link InvalidArgumentError} (or {@link InvalidTopicError}) on bad options or options that cannot cross
 */
export function connectShared(url: string, options: ConnectSharedOptions = {}): MqttClientApi {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object')
  const { workerUrl, ...own } = options
  if (workerUrl !== undefined && typeof workerUrl !== 'string' && !(workerUrl instanceof URL)) {
    throw new InvalidArgumentError('workerUrl must be a string or a URL')
  }
  const wantsWorker = own.shared !== 'leader' && typeof SharedWorker === 'function'
  if (!wantsWorker && !leaderModeAvailable()) {
    // Checked as a shared client's options first, so code that works here works in a browser too.
    new SharedClient(idleLink, url, own)
    const { shared: _shared, sharedKey: _key, ...alone } = own
    console.warn('ts-mqtt-ws: this page has neither SharedWorker nor Web Locks and BroadcastChannel, so this client connects on its own')
    return connect(url, alone)
  }
  return new SharedClient(new PageLink(wantsWorker, workerUrl), url, own).open()
}

/** A link that posts nothing: for checking options with no host to reach. */
const idleLink: HostLink = { post() {}, onMessage() {}, close() {} }

/**
 * The tab's link as the client sees it: opened on the client's first message (its hello, which
 * names the key), to the SharedWorker when asked for, else to the key's leader tab. A worker that
 * fails before it has said a word (refused by a CSP, not found) is given up for the leader mode,
 * and the client attaches there as to any new host. One that fails later is lost, as a host is.
 */
class PageLink implements HostLink {
  private link: HostLink | undefined
  private heard = false
  private closed = false
  private handle: (message: HostMessage) => void = () => undefined
  private lost: (error?: unknown) => void = () => undefined
  private changed: () => void = () => undefined

  constructor(
    private readonly worker: boolean,
    private readonly workerUrl: string | URL | undefined,
  ) {}

  post(message: TabMessage): void {
    if (this.closed) return
    if (!this.link) {
      if (message.type !== 'hello') return
      this.link = this.worker ? this.openWorker(message.key) : this.openLeader(message.key)
    }
    this.link.post(message)
  }

  onMessage(handler: (message: HostMessage) => void): void {
    this.handle = handler
  }

  onClose(handler: (error?: unknown) => void): void {
    this.lost = handler
  }

  onHostChanged(handler: () => void): void {
    this.changed = handler
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.link?.close()
  }

  private openWorker(key: string): HostLink {
    let link: HostLink
    try {
      link = openWorkerLink(this.workerUrl)
    } catch (error) {
      warnFallback(error)
      return this.openLeader(key)
    }
    link.onMessage((message) => {
      this.heard = true
      this.handle(message)
    })
    link.onClose?.((error) => {
      if (this.closed || this.link !== link) return
      if (this.heard || !leaderModeAvailable()) return this.lost(error)
      warnFallback(error)
      link.close()
      this.link = this.openLeader(key)
      // Attached to nothing yet: the client says hello again, and sends what it had asked.
      this.changed()
    })
    return link
  }

  private openLeader(key: string): HostLink {
    const link = openPageLeaderLink(key)
    link.onMessage((message) => this.handle(message))
    link.onHostChanged(() => this.changed())
    return link
  }
}

function warnFallback(error: unknown): void {
  const why = error instanceof Error ? error.message : String(error)
  console.warn(`ts-mqtt-ws: the shared worker could not start (${why}); sharing the connection through a leader tab instead`)
}
