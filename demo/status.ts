import type { MqttClientApi } from 'ts-mqtt-ws'
import { byId, describeError, note, setText } from './dom.js'
import type { SharingMode } from './settings.js'

/**
 * The status panel: the client's state, whether its connection is the tab's own or shared by the
 * tabs, the reconnect attempt with a countdown to the next one, the queued and in-flight counts
 * (a shared connection's are its host's, which the tab cannot see), and the last error the client reported. It reads the client
 * on every event and a few times a second, as the countdown and the counts move between events.
 */

const state = byId('status')
const reconnect = byId('reconnect')
const queued = byId('queued')
const inFlight = byId('in-flight')
const clientId = byId('shown-client-id')
const connectionKind = byId('connection-kind')
const lastError = byId('last-error')

const REFRESH_MS = 200

/** The attempt under way since the last 'reconnect' event, shown while connecting again. */
let attemptUnderWay: number | undefined
let watched: MqttClientApi | undefined
let watchedSharing: SharingMode | undefined

const SHARING_SHOWN: Record<SharingMode, string> = { worker: 'shared by tabs (worker)', leader: 'shared by tabs (leader tab)' }

function showState(text: string, key: string): void {
  // Only real changes: tests and screen readers follow this element's text.
  setText(state, text)
  state.dataset.state = key
}

function showReconnect(client: MqttClientApi): void {
  const next = client.nextReconnect
  if (next) {
    attemptUnderWay = next.attempt
    const when = next.in === undefined ? 'when the network is back' : `in ${(next.in / 1000).toFixed(1)} s`
    setText(reconnect, `attempt ${next.attempt} ${when}`)
    reconnect.dataset.attempt = String(next.attempt)
    return
  }
  if (client.state === 'connecting' && attemptUnderWay !== undefined) {
    setText(reconnect, `attempt ${attemptUnderWay} under way`)
    return
  }
  if (client.state !== 'connecting') attemptUnderWay = undefined
  setText(reconnect, '–')
  delete reconnect.dataset.attempt
}

/** Shows where the client is now; with no client, shows `idle` (never connected) or `closed`. */
export function refreshStatus(client: MqttClientApi | undefined, closed = false, sharing?: SharingMode): void {
  if (!client) {
    showState(closed ? 'closed' : 'not connected', closed ? 'closed' : 'idle')
    for (const field of [reconnect, queued, inFlight, clientId, connectionKind]) setText(field, '–')
    delete connectionKind.dataset.shared
    return
  }
  showState(client.state, client.state)
  setText(clientId, client.clientId || '(assigned by the broker)')
  setText(connectionKind, sharing ? SHARING_SHOWN[sharing] : "this tab's own")
  connectionKind.dataset.shared = sharing ?? 'no'
  if (sharing) {
    // A shared client reports zeros and no countdown: the queue and the reconnect plan are the host's.
    for (const field of [reconnect, queued, inFlight]) setText(field, '–')
    return
  }
  showReconnect(client)
  const stats = client.stats
  setText(queued, String(stats.queued))
  setText(inFlight, String(stats.inFlight))
}

/** The last error the client reported, in its own place: `String(err)` keeps its class name. */
export function showLastError(err: unknown): void {
  note(lastError, describeError(err))
}

export function clearLastError(): void {
  note(lastError, '')
}

/** Follows one client: its events and a short refresh, until the next watch() or unwatch(). */
export function watchStatus(client: MqttClientApi, sharing?: SharingMode): void {
  watched = client
  watchedSharing = sharing
  attemptUnderWay = undefined
  const refresh = () => watched === client && refreshStatus(client, false, sharing)
  for (const event of ['connect', 'reconnect', 'close', 'offline', 'end'] as const) client.on(event, refresh)
  client.on('error', (err) => watched === client && showLastError(err))
  refresh()
}

export function unwatchStatus(closed: boolean): void {
  watched = undefined
  refreshStatus(undefined, closed)
}

setInterval(() => {
  if (watched) refreshStatus(watched, false, watchedSharing)
}, REFRESH_MS)
