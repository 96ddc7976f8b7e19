import { type ClientOptions, IndexedDBStore, type QoS } from 'ts-mqtt-ws'
import { byId } from './dom.js'

/**
 * The connection settings form: what it starts with (the address may preset any field, e.g.
 * ?broker=ws://host:8888&clientId=me&keepalive=5&version=5&shared=leader&autoconnect) and the
 * ClientOptions it gives. Every tab gets a client id of its own, so two tabs never take each
 * other's session; with "Share across tabs" on, every tab gets the same one, as tabs share a
 * connection only when they ask for the same URL and client id.
 */

const params = new URLSearchParams(location.search)
const input = (id: string) => byId<HTMLInputElement>(id)
const select = (id: string) => byId<HTMLSelectElement>(id)

/** A client id no other tab has: 'demo-' and 8 random hex characters. */
export function randomClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4))
  return `demo-${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

/** The client id every tab shares with, unless the address names one. */
export const SHARED_CLIENT_ID = 'demo-shared'

export type SharingMode = 'worker' | 'leader'

/** The tab's own client id, made once: switching sharing off gives it back. */
const ownClientId = randomClientId()
/** The client id the form last filled in by itself: one the user typed is left alone. */
let presetId = ''

function presetClientId(): void {
  const field = input('client-id')
  if (params.has('clientId') || field.value !== presetId) return
  presetId = input('shared').checked ? SHARED_CLIENT_ID : ownClientId
  field.value = presetId
}

/** What Clean session said before the leader-tab mode took it over, given back when it lets go. */
let cleanAsked: boolean | undefined

/** The mode select means something only with the switch on. */
function followSharing(): void {
  select('shared-mode').disabled = !input('shared').checked || input('shared').disabled
  presetClientId()
  followLeaderSession()
}

/**
 * The leader-tab mode resumes one session from tab to tab, so it connects with clean: false
 * whatever the form says: the box shows that rather than a choice it would not honour.
 */
function followLeaderSession(): void {
  const clean = input('clean')
  const leader = sharingMode() === 'leader'
  if (leader && cleanAsked === undefined) {
    cleanAsked = clean.checked
    clean.checked = false
  } else if (!leader && cleanAsked !== undefined) {
    clean.checked = cleanAsked
    cleanAsked = undefined
  }
  // Locked while a client runs, as every field is (the switch's own lock says so).
  clean.disabled = leader || input('shared').disabled
  clean.title = leader ? 'The leader-tab mode keeps the session (clean: false), so the next tab can take it over' : ''
}

/** Fills the form from the address, with a fresh client id unless the address names one. */
export function presetSettings(): void {
  input('broker').value = params.get('broker') ?? `ws://${location.hostname || 'localhost'}:8888`
  const shared = params.get('shared')
  if (shared !== null && shared !== 'false') {
    input('shared').checked = true
    select('shared-mode').value = shared === 'leader' ? 'leader' : 'worker'
  }
  if (params.get('clean') === 'false') input('clean').checked = false
  input('client-id').value = params.get('clientId') ?? ''
  presetClientId()
  input('shared').addEventListener('change', followSharing)
  select('shared-mode').addEventListener('change', followSharing)
  followSharing()
  input('topic').value = params.get('topic') ?? input('topic').value
  for (const [param, id] of [['username', 'username'], ['keepalive', 'keepalive'], ['version', 'version']] as const) {
    const value = params.get(param)
    if (value !== null) (byId<HTMLInputElement | HTMLSelectElement>(id)).value = value
  }
}

/** Whether the address asks the page to connect on its own. */
export const autoconnect = (): boolean => params.has('autoconnect')

export const brokerUrl = (): string => input('broker').value.trim()

/** How the form asks to share the connection, or undefined for a connection of the tab's own. */
export function sharingMode(): SharingMode | undefined {
  if (!input('shared').checked) return undefined
  return select('shared-mode').value === 'leader' ? 'leader' : 'worker'
}

function protocolVersion(): ClientOptions['protocolVersion'] {
  const value = select('version').value
  return value === 'auto' ? 'auto' : value === '5' ? 5 : 4
}

/** The form as ClientOptions. Bad values are left for the client to refuse, with its own error. */
export function clientOptions(): ClientOptions {
  // The reconnect delays are kept short so a broker restart shows its countdown without a long wait.
  const minDelay = Number(params.get('minDelay') ?? 500)
  const options: ClientOptions = {
    clientId: input('client-id').value,
    protocolVersion: protocolVersion(),
    clean: input('clean').checked,
    keepalive: Number(input('keepalive').value),
    reconnect: { minDelay, maxDelay: Math.max(5000, minDelay) },
  }
  if (input('username').value) options.username = input('username').value
  if (input('password').value) options.password = input('password').value
  const willTopic = input('will-topic').value
  if (willTopic) {
    options.will = { topic: willTopic, payload: input('will-payload').value, qos: Number(select('will-qos').value) as QoS, retain: input('will-retain').checked }
  }
  // With a store in IndexedDB, accepted QoS 1/2 messages survive a reload of the page. A shared
  // connection's host keeps its own queue: a store cannot cross to it, and connectShared refuses one.
  if (params.get('store') === 'indexeddb' && !sharingMode()) options.store = new IndexedDBStore(options.clientId ?? 'demo')
  return options
}

/** Locks the form while a client runs: its settings went out in the CONNECT and cannot change now. */
export function lockSettings(locked: boolean): void {
  for (const field of byId<HTMLFieldSetElement>('settings-fields').elements) (field as HTMLInputElement).disabled = locked
  followSharing()
}
