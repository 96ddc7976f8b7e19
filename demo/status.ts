import type { MqttClient } from 'ts-mqtt-ws'
import { byId, describeError, note, setText } from './dom.js'

/**
 * The status panel: the client's state, the reconnect attempt with a countdown to the next one,
 * the queued and in-flight counts, and the last error the client reported. It reads the client
 * on every event and a few times a second, as the countdown and the counts move between events.
 */

const state = byId('status')
const reconnect = byId('reconnect')
const queued = byId('queued')
const inFlight = byId('in-flight')
const clientId = byId('shown-client-id')
const lastError = byId('last-error')

const REFRESH_MS = 200

/** The attempt under way since the last 'reconnect' event, shown while connecting again. */
let attemptUnderWay: number | undefined
let watched: MqttClient | undefined

function showState(text: string, key: string): void {
  // Only real changes: tests and screen readers follow this element's text.
  setText(state, text)
  state.dataset.state = key
}

function showReconnect(client: MqttClient): void {
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
export function refreshStatus(client: MqttClient | undefined, closed = false): void {
  if (!client) {
    showState(closed ? 'closed' : 'not connected', closed ? 'closed' : 'idle')
    for (const field of [reconnect, queued, inFlight, clientId]) setText(field, '–')
    return
  }
  showState(client.state, client.state)
  showReconnect(client)
  const stats = client.stats
  setText(queued, String(stats.queued))
  setText(inFlight, String(stats.inFlight))
  setText(clientId, client.clientId || '(assigned by the broker)')
}

/** The last error the client reported, in its own place: `String(err)` keeps its class name. */
export function showLastError(err: unknown): void {
  note(lastError, describeError(err))
}

export function clearLastError(): void {
  note(lastError, '')
}

/** Follows one client: its events and a short refresh, until the next watch() or unwatch(). */
export function watchStatus(client: MqttClient): void {
  watched = client
  attemptUnderWay = undefined
  const refresh = () => watched === client && refreshStatus(client)
  for (const event of ['connect', 'reconnect', 'close', 'offline', 'end'] as const) client.on(event, refresh)
  client.on('error', (err) => watched === client && showLastError(err))
  refresh()
}

export function unwatchStatus(closed: boolean): void {
  watched = undefined
  refreshStatus(undefined, closed)
}

setInterval(() => {
  if (watched) refreshStatus(watched)
}, REFRESH_MS)
