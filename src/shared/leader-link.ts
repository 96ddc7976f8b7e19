/**
 * The tab's end of a shared connection hosted by a leader tab (issue 15's fallback where
 * SharedWorker is missing, or `shared: 'leader'`): a {@link HostLink} over a BroadcastChannel
 * named from the shared key. A BroadcastChannel reaches every tab of the origin at once, so each
 * message names who it is for: a tab's messages name the host they are for and the tab they are
 * from, the host's replies name the tab. Leaders come and go (a leader tab closes, the next tab
 * takes its lock), so each leader has an id of its own and announces it; the link tells its
 * client when a new one takes over, and the client attaches to it again.
 */
import type { HostLink } from './tab-client.js'
import { type HostMessage, holdLock, type TabId, type TabMessage, tabLockName, type WebLocks } from './wire.js'

/** A leader's id: new for each tab that takes the lead, so that a tab can tell one leader from the next. */
export type HostId = string

/** What crosses the BroadcastChannel of a shared key: the wire's messages, addressed, and the leader's announcements. */
export type ChannelMessage =
  | {
      /** A leader serves the key now: tabs attach to it (again). */
      kind: 'leader'
      /** The leader's id. */
      host: HostId
    }
  | {
      /** A tab that has just opened asks the leader, if there is one, to announce itself. */
      kind: 'who'
    }
  | {
      /** A tab's message for the leader. */
      kind: 'to-host'
      /** The leader it is for: a message meant for an earlier leader is not taken by the next. */
      host: HostId
      /** The tab it is from. */
      tab: TabId
      /** The message. */
      message: TabMessage
    }
  | {
      /** The leader's message for one tab. */
      kind: 'to-tab'
      /** The leader it is from. */
      host: HostId
      /** The tab it is for: every other tab drops it. */
      tab: TabId
      /** The message. */
      message: HostMessage
    }

/** The name of the BroadcastChannel of a shared key's tabs and their leader. */
export function leaderChannelName(key: string): string {
  return `ts-mqtt-ws:shared:${key}`
}

/** The name of the Web Lock whose holder is the leader of a shared key. */
export function leaderLockName(key: string): string {
  return `ts-mqtt-ws:leader:${key}`
}

/** What the leader mode uses of a BroadcastChannel: the browser's (and Node's) has it as it is. */
export interface ChannelLike {
  /** Sends to every other instance of the channel's name, in this context and in the origin's others. */
  postMessage(message: ChannelMessage): void
  /** Where the other instances' messages arrive. */
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  /** Stops sending and receiving. */
  close(): void
}

/** Opens a channel by name: `new BroadcastChannel(name)` unless a test gives another. */
export type OpenChannel = (name: string) => ChannelLike

/** The global BroadcastChannel; in Node it is unref'd, so an open channel does not keep a process alive. */
export const openBroadcastChannel: OpenChannel = (name) => {
  const channel = new BroadcastChannel(name)
  ;(channel as { unref?(): void }).unref?.()
  return channel as ChannelLike
}

/** A tab's link to the leader, with the hook a SharedClient needs to hear of a new leader. */
export interface LeaderLink extends HostLink {
  /** Takes the handler called when a new leader took over after this tab's hello went out. */
  onHostChanged(handler: () => void): void
}

/** Options of {@link openLeaderLink}. */
export interface LeaderLinkOptions {
  /** Where the tab's lock is held; default navigator.locks. Without, the leader hears of the tab going only by its `bye`. */
  locks?: WebLocks | undefined
  /** Opens the channel; default {@link openBroadcastChannel}. */
  channel?: OpenChannel
}

/**
 * Opens a tab's link to the leader of a shared key. Nothing leaves until the link knows a leader
 * (it asks on opening; a new leader announces itself) and holds the tab's Web Lock, whose
 * release tells the leader the tab is gone; then the hello goes first, naming the lock, and the
 * rest follows in order. A message posted while the leader changes may be lost on the way: the
 * client sends again what is unanswered when it attaches to the next one.
 */
export function openLeaderLink(key: string, options: LeaderLinkOptions = {}): LeaderLink {
  const locks = 'locks' in options ? options.locks : (globalThis.navigator as Navigator | undefined)?.locks
  const channel = (options.channel ?? openBroadcastChannel)(leaderChannelName(key))
  const releases: Array<() => void> = []
  let tab: TabId | undefined
  let host: HostId | undefined
  let lock: string | undefined
  let lockSettled = locks === undefined
  // Messages wait here until a leader is known and the tab's lock held (or refused); then undefined: attached.
  let waiting: TabMessage[] | undefined = []
  let closed = false
  let onMessage: (message: HostMessage) => void = () => undefined
  let onHostChanged: () => void = () => undefined

  const send = (message: TabMessage) => {
    if (tab === undefined || host === undefined) return
    const named = message.type === 'hello' && lock !== undefined ? { ...message, lock } : message
    channel.postMessage({ kind: 'to-host', host, tab, message: named })
  }
  const flush = () => {
    if (closed || !waiting || host === undefined || tab === undefined || !lockSettled) return
    const queued = waiting
    waiting = undefined
    for (const message of queued) send(message)
  }
  // Held before the hello that names it leaves, so the leader never asks for a lock the tab does not yet hold.
  const takeLock = (locks: WebLocks, id: TabId) => {
    const name = tabLockName(id)
    holdLock(locks, name, releases).then(
      () => (lock = name),
      // No lock to be had (an opaque origin): the hello goes without, and bye alone tells.
      () => undefined,
    ).finally(() => {
      lockSettled = true
      flush()
    })
  }
  const leaderHeard = (id: HostId) => {
    if (id === host) return
    const attached = waiting === undefined
    host = id
    // Attached to the one before: attach again. Still waiting: what waits goes to this one.
    if (attached) onHostChanged()
    else flush()
  }
  const post = (message: TabMessage) => {
    if (closed) return
    if (message.type === 'hello' && tab === undefined) {
      tab = message.tab
      if (locks) takeLock(locks, message.tab)
    }
    if (waiting) {
      waiting.push(message)
      flush()
    } else send(message)
  }

  channel.addEventListener('message', ({ data }: MessageEvent<ChannelMessage>) => {
    if (closed || !isChannelMessage(data)) return
    if (data.kind === 'leader') return leaderHeard(data.host)
    if (data.kind === 'to-tab' && data.tab === tab && data.host === host) onMessage(data.message)
  })
  // The page going is the tab going: bye says so at once, where the lock's release may come later.
  const bye = () => post({ type: 'bye' })
  globalThis.addEventListener?.('pagehide', bye)
  channel.postMessage({ kind: 'who' })

  return {
    post,
    onMessage(handler) {
      onMessage = handler
    },
    onHostChanged(handler) {
      onHostChanged = handler
    },
    close() {
      if (closed) return
      closed = true
      globalThis.removeEventListener?.('pagehide', bye)
      channel.close()
      for (const release of releases.splice(0)) release()
    },
  }
}

/**
 * Whether a message on the channel has the shape of one: another build of the library (a tab
 * left open across a deploy) may share the channel, and nothing it sends may throw here.
 */
export function isChannelMessage(data: unknown): data is ChannelMessage {
  if (typeof data !== 'object' || data === null) return false
  const { kind, host, tab, message } = data as { kind?: unknown; host?: unknown; tab?: unknown; message?: unknown }
  if (kind === 'who') return true
  if (typeof host !== 'string') return false
  if (kind === 'leader') return true
  return (kind === 'to-host' || kind === 'to-tab') && typeof tab === 'string' && typeof message === 'object' && message !== null
}
