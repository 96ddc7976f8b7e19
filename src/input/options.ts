import type { ConnectProperties, ConnectPacket, ProtocolVersion, QoS, WillProperties } from '../codec/packets.js'
import { MAX_REMAINING_LENGTH, MAX_STRING_BYTES } from '../codec/limits.js'
import { InvalidArgumentError } from '../errors.js'
import { validateTopicName } from './topic-rules.js'
import type { WebSocketConstructor } from '../transport/websocket.js'
import { type BackoffOptions, DEFAULT_BACKOFF } from '../protocol/backoff.js'
import { type Payload, toBytes } from './payload.js'
import { checkProperties } from './properties.js'
import { stringFault } from './mqtt-string.js'
import { flag, received } from './values.js'
import { MemoryStore } from '../store/memory-store.js'
import type { Store } from '../store/store.js'

export interface WillOptions {
  topic: string
  payload: Payload
  qos?: QoS
  retain?: boolean
  /** MQTT 5 will properties */
  properties?: WillProperties
}

export interface ReconnectOptions {
  /** ms, default 1000 */
  minDelay?: number
  /** ms, default 30000 */
  maxDelay?: number
  /** default 2 */
  factor?: number
  /** full jitter, default true */
  jitter?: boolean
  /** give up after this many failed attempts in a row; default: never */
  maxAttempts?: number
  /** ms a connection must stay up before the delay falls back to minDelay, default 10000 */
  resetAfter?: number
}

export interface ClientOptions {
  /** default: 'ts-mqtt-ws_' + 8 random hex characters */
  clientId?: string
  /**
   * 4 = MQTT 3.1.1 (default), 5 = MQTT 5.0, 'auto' = 5, falling back to 3.1.1 for the client's
   * life if the broker refuses MQTT 5 (MQTT 5 properties are then not sent).
   */
  protocolVersion?: ProtocolVersion | 'auto'
  /** default true */
  clean?: boolean
  /** seconds, default 60; 0 disables */
  keepalive?: number
  username?: string
  password?: string | Uint8Array
  will?: WillOptions
  /** default: on, with 1 s to 30 s exponential backoff and full jitter */
  reconnect?: false | ReconnectOptions
  /** ms to wait for the WebSocket and the CONNACK, default 30000 */
  connectTimeout?: number
  /** More brokers to fail over to: each reconnect attempt takes the next of [url, ...servers] */
  servers?: string[]
  /** Whether QoS 0 publishes wait in the queue while offline (default true) or reject with OfflineError */
  queueQoS0?: boolean
  /**
   * MQTT 5: send repeated topics as short aliases when the broker takes them ('auto', the
   * default), or always in full (false). Aliases last one connection.
   */
  topicAliases?: 'auto' | false
  /**
   * MQTT 5 enhanced authentication: answers each AUTH challenge of the broker (its
   * authenticationData, under the authenticationMethod given in `properties`) with the next
   * authenticationData. A hook that throws or rejects ends the attempt for good.
   */
  onAuth?: AuthHook
  /**
   * Where accepted QoS 1/2 messages are also kept until acknowledged, so that they survive what
   * the client does not (an IndexedDBStore survives a reload). Default: a MemoryStore the client
   * leaves empty, as its own queue already holds each message until it settles.
   */
  store?: Store
  /** A WebSocket implementation, e.g. the `ws` package in Node 20; default: the global WebSocket */
  WebSocket?: WebSocketConstructor
  /** MQTT 5 CONNECT properties */
  properties?: ConnectProperties
  /** Most QoS 1/2 publishes awaiting acknowledgement at once, default 20 (brokers cap this too) */
  maxInflight?: number
  /** Most operations waiting to be sent while offline or behind the in-flight window, default 100000 */
  queueLimit?: number
  /**
   * Largest packet accepted from the broker, in bytes, default 16 MiB. A larger one is refused as
   * soon as its header arrives, before any of it is buffered: a ProtocolError, DISCONNECT 0x95 on
   * MQTT 5, and a reconnect. MQTT 5 brokers are told the limit and do not send past it; on 3.1.1,
   * raise it if the broker may send (or keep retained) bigger messages.
   */
  maxPacketSize?: number
  /** ms that a graceful end() waits for in-flight messages before it closes anyway, default 10000 */
  endTimeout?: number
  /**
   * Whether packets written together share WebSocket frames (default true), which MQTT allows and
   * which makes small messages much cheaper. Set false for a broker that reads only the first MQTT
   * packet of each frame (some embedded and test brokers): it then answers the first of a burst
   * and silently drops the rest, so publishes and subscriptions hang unacknowledged.
   */
  coalesceWrites?: boolean
  /**
   * The WebSocket subprotocol to ask for, default 'mqtt' (what MQTT 3.1.1 and 5.0 name). Give
   * 'mqttv3.1' for an old broker that accepts only that name, or a list to offer several, most
   * wanted first. A broker that agrees to none of them fails the connection with TransportError.
   * Each name is an RFC 7230 token (letters, digits and !#$%&'*+-.^_`|~), as RFC 6455 asks.
   */
  subprotocol?: string | string[]
}

/** Options after defaults and checks: what the client runs on. A fresh object, never the caller's. */
export interface ResolvedOptions {
  url: string
  /** url first, then the failover servers */
  servers: string[]
  queueQoS0: boolean
  topicAliases: 'auto' | false
  onAuth: AuthHook | undefined
  store: Store
  clientId: string
  protocolVersion: ProtocolVersion | 'auto'
  clean: boolean
  keepalive: number
  username: string | undefined
  password: Uint8Array | undefined
  will: ConnectPacket['will']
  reconnect: (BackoffOptions & { maxAttempts: number; resetAfter: number }) | false
  connectTimeout: number
  WebSocket: WebSocketConstructor
  properties: ConnectProperties | undefined
  maxInflight: number
  queueLimit: number
  maxPacketSize: number
  endTimeout: number
  coalesceWrites: boolean
  /** The subprotocols to offer, most wanted first; never empty */
  subprotocols: string[]
}

export function resolveOptions(url: string, options: ClientOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object')
  checkUrl(url)
  const protocolVersion = options.protocolVersion ?? 4
  if (protocolVersion !== 4 && protocolVersion !== 5 && protocolVersion !== 'auto') {
    throw new InvalidArgumentError("protocolVersion must be 4 (MQTT 3.1.1), 5 (MQTT 5.0) or 'auto'")
  }
  const clientId = options.clientId ?? randomClientId()
  if (typeof clientId !== 'string') throw new InvalidArgumentError('clientId must be a string')
  // Longer than 23 bytes is allowed: MQTT 3.1.1 §3.1.3.1 lets a broker accept it (most do), and one
  // that does not answers CONNACK 0x02, which rejects with ConnectionRefusedError.
  checkText('clientId', clientId)
  const clean = flag('clean', options.clean, true)
  if (!clean && clientId === '') throw new InvalidArgumentError('clean: false needs a clientId')
  if (options.password !== undefined && options.username === undefined && protocolVersion === 4) {
    throw new InvalidArgumentError('MQTT 3.1.1 allows a password only with a username')
  }
  if (options.username !== undefined && typeof options.username !== 'string') {
    throw new InvalidArgumentError('username must be a string')
  }
  if (options.username !== undefined) checkText('username', options.username)
  checkProperties('CONNECT', options.properties)
  const servers = [url, ...(options.servers ?? [])]
  servers.forEach(checkUrl)
  if (options.store !== undefined && !isStore(options.store)) throw new InvalidArgumentError('store must have load, put, delete and close')
  return {
    url,
    servers: [...new Set(servers)],
    queueQoS0: flag('queueQoS0', options.queueQoS0, true),
    topicAliases: topicAliasesOption(options.topicAliases),
    onAuth: authHook(options.onAuth),
    store: options.store ?? new MemoryStore(),
    clientId,
    protocolVersion,
    clean,
    keepalive: integer('keepalive', options.keepalive ?? 60, 0, 65_535),
    username: options.username,
    password: options.password === undefined ? undefined : passwordBytes(options.password),
    will: options.will === undefined ? undefined : resolveWill(options.will),
    reconnect: resolveReconnect(options.reconnect),
    connectTimeout: integer('connectTimeout', options.connectTimeout ?? 30_000, 1, 2 ** 31 - 1),
    WebSocket: resolveWebSocket(options.WebSocket),
    properties: options.properties ? { ...options.properties } : undefined,
    maxInflight: integer('maxInflight', options.maxInflight ?? 20, 1, 65_535),
    queueLimit: integer('queueLimit', options.queueLimit ?? 100_000, 0, 2 ** 31 - 1),
    maxPacketSize: integer('maxPacketSize', options.maxPacketSize ?? 16 * 1024 * 1024, 2, MAX_REMAINING_LENGTH + 5),
    endTimeout: integer('endTimeout', options.endTimeout ?? 10_000, 0, 2 ** 31 - 1),
    coalesceWrites: coalesceWritesOption(options.coalesceWrites),
    subprotocols: subprotocolsOption(options.subprotocol),
  }
}

export function checkQos(qos: unknown): asserts qos is QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new InvalidArgumentError(`QoS must be 0, 1 or 2, not ${received(qos)}`)
}

function checkUrl(url: unknown): asserts url is string {
  if (typeof url !== 'string') throw new InvalidArgumentError('url must be a string like ws://host:port/path')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidArgumentError(`Invalid URL ${JSON.stringify(url)}`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new InvalidArgumentError(`URL must start with ws:// or wss://, not ${parsed.protocol}//`)
  }
}

function resolveWill(will: WillOptions): NonNullable<ConnectPacket['will']> {
  if (typeof will !== 'object' || will === null) throw new InvalidArgumentError('will must be an object')
  if (will.topic === undefined) throw new InvalidArgumentError('will needs a topic to be published on (will.topic)')
  validateTopicName(will.topic)
  const qos = will.qos ?? 0
  checkQos(qos)
  const payload = toBytes(will.payload)
  // Unlike a PUBLISH payload, the will's has a two-byte length in CONNECT (MQTT §3.1.3.4).
  if (payload.byteLength > MAX_STRING_BYTES) {
    throw new InvalidArgumentError(`will.payload must be at most ${MAX_STRING_BYTES} bytes, not ${payload.byteLength}`)
  }
  checkProperties('will', will.properties)
  const resolved: NonNullable<ConnectPacket['will']> = {
    topic: will.topic,
    payload,
    qos,
    retain: flag('will.retain', will.retain, false),
  }
  if (will.properties) resolved.properties = { ...will.properties }
  return resolved
}

function resolveReconnect(reconnect: ClientOptions['reconnect']): ResolvedOptions['reconnect'] {
  if (reconnect === false) return false
  const r = reconnect ?? {}
  const minDelay = integer('reconnect.minDelay', r.minDelay ?? DEFAULT_BACKOFF.minDelay, 0, 2 ** 31 - 1)
  const maxDelay = integer('reconnect.maxDelay', r.maxDelay ?? Math.max(DEFAULT_BACKOFF.maxDelay, minDelay), minDelay, 2 ** 31 - 1)
  const factor = r.factor ?? DEFAULT_BACKOFF.factor
  if (typeof factor !== 'number' || !(factor >= 1)) throw new InvalidArgumentError('reconnect.factor must be a number >= 1')
  return {
    minDelay,
    maxDelay,
    factor,
    jitter: r.jitter ?? DEFAULT_BACKOFF.jitter,
    maxAttempts: r.maxAttempts === undefined ? Infinity : integer('reconnect.maxAttempts', r.maxAttempts, 0, 2 ** 31 - 1),
    resetAfter: integer('reconnect.resetAfter', r.resetAfter ?? 10_000, 0, 2 ** 31 - 1),
  }
}

function resolveWebSocket(impl: WebSocketConstructor | undefined): WebSocketConstructor {
  const found = impl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (typeof found !== 'function') {
    throw new InvalidArgumentError(
      'No WebSocket implementation: pass one as options.WebSocket (in Node 20: import WebSocket from "ws")',
    )
  }
  return found
}

function isStore(store: unknown): store is Store {
  const s = store as Partial<Store>
  return typeof s === 'object' && s !== null && [s.load, s.put, s.delete, s.close].every((f) => typeof f === 'function')
}

function passwordBytes(password: string | Uint8Array): Uint8Array {
  const bytes = typeof password === 'string' ? new TextEncoder().encode(password) : password
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('password must be a string or Uint8Array')
  // Binary data with a two-byte length (MQTT §1.5.6); the message says the size only, never the password.
  if (bytes.byteLength > MAX_STRING_BYTES) throw new InvalidArgumentError(`password must be at most ${MAX_STRING_BYTES} bytes`)
  return bytes
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, not ${received(value)}`)
  }
  return value
}

/** A client id or user name: an MQTT UTF-8 string (§1.5.3), or CONNECT could not be encoded. */
function checkText(name: string, value: string): void {
  const fault = stringFault(value)
  if (fault) throw new InvalidArgumentError(`${name} ${fault}`)
}

function randomClientId(): string {
  return `ts-mqtt-ws_${randomHex(4)}`
}

/** `bytes` random bytes as hex: for client ids and reply topics no other client guesses. */
export function randomHex(bytes: number): string {
  const random = new Uint8Array(bytes)
  globalThis.crypto.getRandomValues(random)
  return Array.from(random, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** What the broker sent in an AUTH challenge, and what the hook answers with. */
export type AuthHook = (challenge: { reasonCode: number; authenticationData?: Uint8Array }) => Uint8Array | undefined | Promise<Uint8Array | undefined>

function authHook(value: unknown): AuthHook | undefined {
  if (value === undefined || typeof value === 'function') return value as AuthHook | undefined
  throw new InvalidArgumentError('onAuth must be a function')
}

function topicAliasesOption(value: unknown): 'auto' | false {
  if (value === undefined || value === 'auto') return 'auto'
  if (value === false) return false
  throw new InvalidArgumentError("topicAliases must be 'auto' or false")
}

function coalesceWritesOption(value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgumentError('coalesceWrites must be true or false')
  return value ?? true
}

/** An RFC 7230 token, which RFC 6455 §4.1 makes each subprotocol: a WebSocket throws a SyntaxError on anything else. */
const TOKEN = /^[\w!#$%&'*+.^`|~-]+$/

function subprotocolsOption(value: unknown): string[] {
  const list: unknown[] = value === undefined ? ['mqtt'] : Array.isArray(value) ? [...value] : [value]
  // A name given twice is a SyntaxError to the WebSocket too: said here, in our terms, before any socket.
  if (list.length === 0 || new Set(list).size < list.length || !list.every((name) => typeof name === 'string' && TOKEN.test(name))) {
    throw new InvalidArgumentError('subprotocol must be a token (RFC 7230) or a list of distinct tokens')
  }
  return list as string[]
}
