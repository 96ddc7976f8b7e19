/**
 * The leader tab of a shared key (issue 15's fallback where SharedWorker is missing, or
 * `shared: 'leader'`): every tab of the origin that uses the key asks for one Web Lock, and
 * the tab that holds it runs the {@link SharedHost}, serving every tab (its own included) over
 * the key's BroadcastChannel. When the leader tab goes its lock passes to the next tab, whose
 * host announces itself; the tabs attach to it again, and its client resumes the broker's
 * session (clean: false) and sends what the store kept, so the connection's messages and
 * subscriptions outlive the tab that held it.
 */
import { type ClientOptions, randomHex } from '../input/options.js'
import { type HostedClient, SharedHost } from './host.js'
import {
  type ChannelLike,
  type ChannelMessage,
  type HostId,
  isChannelMessage,
  leaderChannelName,
  leaderLockName,
  type OpenChannel,
  openBroadcastChannel,
} from './leader-link.js'
import { type SharedClientOptions, type TabId, type TabMessage, tabLockName, type WebLocks } from './wire.js'

/**
 * How long (seconds) an MQTT 5 broker keeps the leader's session after its connection drops,
 * when the options name none: long enough for the next tab to take the lock and connect. MQTT 5
 * ends a session with its connection unless told otherwise, which would drop what is published
 * during a handover.
 */
export const LEADER_SESSION_EXPIRY = 300

/** The Store of ClientOptions, named through it: the shared layer does not import the store layer. */
type Store = NonNullable<ClientOptions['store']>

/**
 * How long (ms) a leader that takes over from another gathers the tabs' messages before its host
 * takes them, by default. The tabs attach again meanwhile, and their hellos and subscribes are
 * then taken in one go, so every filter is known before the broker can send what it queued for
 * the session during the handover (a message that comes before its filter reaches no tab). Tabs
 * attach within a few milliseconds of the announcement.
 */
export const ATTACH_GRACE = 100

/** Options of {@link electLeader}. */
export interface LeaderOptions {
  /** Makes a client and opens it: `connect` in a page; a test gives one over a fake socket. */
  connect(url: string, options: ClientOptions): HostedClient
  /**
   * Where the leader's client keeps accepted QoS 1/2 messages until acknowledged: one every
   * leader of the key reads (an IndexedDBStore named from the key), so the next leader sends what
   * the last left unacknowledged.
   */
  store: Store
  /** The origin's Web Locks (navigator.locks). */
  locks: WebLocks
  /** Opens the key's channel; default {@link openBroadcastChannel}. */
  channel?: OpenChannel
  /** How long (ms) a leader taking over gathers the tabs' messages before its host takes them; default {@link ATTACH_GRACE}. */
  attachGrace?: number
}

/** A tab's part in the election of a key's leader. */
export interface LeaderElection {
  /** Whether this tab leads now. */
  readonly leading: boolean
  /** Resolves when this tab becomes the leader (never, if it closes first). */
  readonly elected: Promise<void>
  /**
   * This tab leaves the election: stops serving (when leading) and lets the lock go to the next
   * tab. Its connection is ended by force after the channel has closed, so the tabs hear nothing
   * of it: they attach to the next leader and send again what was unanswered.
   */
  close(): void
}

/**
 * Enters this tab in the election of the leader of `key`. Every tab that uses the key does;
 * the one granted the lock serves the key until it closes (or its page goes, which lets the
 * lock go with it).
 */
export function electLeader(key: string, options: LeaderOptions): LeaderElection {
  let leader: { stop(): void } | undefined
  let release: (() => void) | undefined
  let closed = false
  // Whether another tab led before: one that takes over waits for the tabs to attach. Heard on a
  // channel of its own, closed at the first announcement so it does not take every tab's traffic.
  const open = options.channel ?? openBroadcastChannel
  let watch: ChannelLike | undefined = open(leaderChannelName(key))
  let takeover = false
  const stopWatching = () => {
    watch?.close()
    watch = undefined
  }
  watch.addEventListener('message', ({ data }: MessageEvent<unknown>) => {
    if (!isChannelMessage(data) || data.kind !== 'leader') return
    takeover = true
    stopWatching()
  })
  let elected: () => void = () => undefined
  const election = {
    leading: false,
    elected: new Promise<void>((resolve) => (elected = resolve)),
    close() {
      if (closed) return
      closed = true
      election.leading = false
      stopWatching()
      leader?.stop()
      release?.()
    },
  }
  const lead = () => {
    // A tab that left while it waited lets the lock pass at once.
    if (closed) return undefined
    stopWatching()
    leader = serveKey(options, open(leaderChannelName(key)), takeover ? (options.attachGrace ?? ATTACH_GRACE) : 0)
    election.leading = true
    elected()
    return new Promise<void>((resolve) => (release = resolve))
  }
  options.locks.request(leaderLockName(key), lead).catch(() => undefined)
  return election
}

/**
 * Serves the key's tabs from this tab: a SharedHost whose clients resume one session, the
 * channel's messages for this leader handed to it, and each tab's Web Lock watched. Announces
 * itself, so that tabs attached to the last leader attach to this one.
 */
function serveKey(options: LeaderOptions, channel: ChannelLike, grace: number): { stop(): void } {
  const id: HostId = randomHex(8)
  const clients: HostedClient[] = []
  const factory = leaderClientFactory((url, own) => {
    const client = options.connect(url, own)
    clients.push(client)
    return client
  }, options.store)
  const host = new SharedHost(factory)
  const served = serveChannel(host, channel, id, options.locks, grace)
  return {
    stop() {
      // The channel first: the tabs must not hear this connection end, which would end their clients too.
      served.stop()
      channel.close()
      for (const client of clients.splice(0)) client.end({ force: true }).catch(() => undefined)
    },
  }
}

/**
 * Hands a SharedHost the channel's messages addressed to leader `id`, under the tab ids they
 * name, and posts its replies addressed to each tab. A tab's messages before its hello to this
 * leader are dropped: it attaches on hearing the announcement, sending again what is
 * unanswered. Each tab's lock (its hello's `lock`) is asked for, and granted when the tab is gone.
 * With a `grace` (ms), what comes in that time is taken in one go when it ends (see {@link ATTACH_GRACE}).
 */
export function serveChannel(host: SharedHost, channel: ChannelLike, id: HostId, locks: WebLocks | undefined, grace = 0): { stop(): void } {
  const attached = new Set<TabId>()
  const watched = new Set<TabId>()
  let stopped = false
  let gathered: Array<{ tab: TabId; message: TabMessage }> | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  if (grace > 0) {
    gathered = []
    timer = setTimeout(() => {
      const burst = gathered ?? []
      gathered = undefined
      for (const { tab, message } of burst) take(tab, message)
    }, grace)
  }
  const announce = () => channel.postMessage({ kind: 'leader', host: id })
  const watch = (tab: TabId) => {
    if (!locks || watched.has(tab)) return
    watched.add(tab)
    const gone = () => {
      watched.delete(tab)
      attached.delete(tab)
      if (!stopped) host.tabGone(tab)
    }
    locks.request(tabLockName(tab), gone).catch(() => undefined)
  }
  channel.addEventListener('message', ({ data }: MessageEvent<ChannelMessage>) => {
    if (stopped || !isChannelMessage(data)) return
    if (data.kind === 'who') return announce()
    if (data.kind !== 'to-host' || data.host !== id) return
    if (gathered) gathered.push({ tab: data.tab, message: data.message })
    else take(data.tab, data.message)
  })
  function take(tab: TabId, message: TabMessage): void {
    if (stopped) return
    if (message.type === 'hello') {
      attached.add(tab)
      host.addTab(tab, { post: (reply) => channel.postMessage({ kind: 'to-tab', host: id, tab, message: reply }) })
      if (message.lock === tabLockName(tab)) watch(tab)
    }
    if (message.type === 'bye') {
      attached.delete(tab)
      host.tabGone(tab)
    } else if (attached.has(tab)) host.receive(tab, message)
  }
  announce()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}

/**
 * The leader's client factory: the first tab's options, less those that asked for sharing, made
 * to resume one session from leader to leader: clean: false, the key's store, and on MQTT 5 a
 * session that outlives its connection ({@link LEADER_SESSION_EXPIRY} unless the options name
 * an expiry). With no clientId given the broker's session could not be found again: the tabs
 * attaching to a new leader name the one the last leader's connection had.
 */
export function leaderClientFactory<C extends HostedClient>(connect: (url: string, options: ClientOptions) => C, store: Store): (url: string, options: SharedClientOptions) => C {
  return (url, options) => {
    const own: ClientOptions & { shared?: unknown; sharedKey?: unknown } = { ...options, clean: false, store }
    delete own.shared
    delete own.sharedKey
    const v5 = own.protocolVersion === 5 || own.protocolVersion === 'auto'
    if (v5 && own.properties?.sessionExpiryInterval === undefined) {
      own.properties = { ...own.properties, sessionExpiryInterval: LEADER_SESSION_EXPIRY }
    }
    return connect(url, own)
  }
}
