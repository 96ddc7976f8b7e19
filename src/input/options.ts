import type { ConnectProperties, ConnectPacket, ProtocolVersion, QoS, WillProperties } from '../codec/packets.js'
import { MAX_REMAINING_LENGTH, MAX_STRING_BYTES } from '../codec/limits.js'
import { InvalidArgumentError } from '../errors.js'
import { validateTopicName } from './topic-rules.js'
import type { WebSocketConstructor } from '../transport/websocket.js'
import { DEFAULT_BACKOFF } from '../protocol/backoff.js'
import { type Payload, toBytes } from './payload.js'
import { checkProperties } from './properties.js'
import { checkLogin, type CredentialsHook, type UrlProvider } from './credentials.js'
import { checkUrl } from './url.js'
import { stringFault } from './mqtt-string.js'
import { flag, received } from './values.js'
import { refuseUnknownOptions } from './unknown-options.js'
import { MemoryStore } from '../store/memory-store.js'
import type { Store } from '../store/store.js'

/**
 * The will (last will and testament): a message the broker publishes for the client if it goes
 * away without a DISCONNECT (a lost connection, a keepalive timeout). A graceful end() does not
 * publish it; on MQTT 5, `end({ reasonCode: 0x04 })` does.
 */
export interface WillOptions {
  /** The topic name to publish it to: no wildcards. */
  topic: string
  /** Its payload: a string (sent as UTF-8) or bytes, at most 65,535 bytes. */
  payload: Payload
  /** Its QoS, default 0. */
  qos?: QoS
  /** Whether the broker retains it, default false. */
  retain?: boolean
  /** MQTT 5 will properties */
  properties?: WillProperties
}

/**
 * How the client reconnects after losing a connection (or failing to make one): after a delay
 * that grows from minDelay by `factor` each failed try, up to maxDelay, picked at random below
 * that ceiling with `jitter`. Refusals retrying cannot fix (bad credentials, not authorized)
 * stop it at once.
 */
export interface ReconnectOptions {
  /** The ceiling of the first delay, in ms; default 1000 */
  minDelay?: number
  /** The most the ceiling grows to, in ms; default 30000 */
  maxDelay?: number
  /** How much the delay's ceiling grows with each failed try (at least 1), default 2 */
  factor?: number
  /** Full jitter: each delay is picked at random below its ceiling, so clients cut off together do not return together; default true */
  jitter?: boolean
  /** Give up (state 'disconnected') after this many failed attempts in a row; default: never */
  maxAttempts?: number
  /** ms a connection must stay up before the delay falls back to minDelay, default 10000 */
  resetAfter?: number
}

/**
 * Options of {@link connect}, {@link connectAsync} and `new MqttClient(url, options)`; every one
 * is optional. A bad value, or an option this client does not have (MQTT.js's among them),
 * throws InvalidArgumentError from connect() before anything is sent.
 */
export interface ClientOptions {
  /** The client identifier, unique per broker; default: 'ts-mqtt-ws_' + 8 random hex characters */
  clientId?: string
  /**
   * 4 = MQTT 3.1.1 (default), 5 = MQTT 5.0, 'auto' = 5, falling back to 3.1.1 for the client's
   * life if the broker refuses MQTT 5 (MQTT 5 properties are then not sent).
   */
  protocolVersion?: ProtocolVersion | 'auto'
  /**
   * Start a fresh session (true, the default), or resume the one the broker keeps for this
   * clientId, with its subscriptions and queued messages (false; needs a clientId; on MQTT 5 also
   * a sessionExpiryInterval in `properties`).
   */
  clean?: boolean
  /** Seconds between the client's pings when nothing else is sent, default 60; 0 disables */
  keepalive?: number
  /** The user name of the CONNECT; default none. Not with `credentials`, whose answer gives it. */
  username?: string
  /**
   * The password of the CONNECT (a string is sent as UTF-8); default none. MQTT 3.1.1 takes it
   * only with a username. Not with `credentials`, whose answer gives it.
   */
  password?: string | Uint8Array
  /**
   * Called before every CONNECT, reconnects included, for that attempt's username and password:
   * for short-lived tokens (a JWT for EMQX or HiveMQ). Awaited within `connectTimeout`. Its
   * answer replaces the `username` and `password` options, which cannot be given beside it. A
   * hook that throws, rejects or answers something unusable fails that attempt with a
   * CredentialsError; the client then follows its reconnect plan. See {@link CredentialsHook}.
   */
  credentials?: CredentialsHook
  /** The message the broker publishes if the client goes away without a DISCONNECT; default none. */
  will?: WillOptions
  /** How to reconnect after a connection is lost, or false never to; default: on, with 1 s to 30 s exponential backoff and full jitter */
  reconnect?: false | ReconnectOptions
  /**
   * ms an attempt may take, from asking the url function and credentials hook (when given)
   * through the WebSocket's opening to the CONNACK; default 30000. Past it: ConnectTimeoutError.
   */
  connectTimeout?: number
  /**
   * More brokers to fail over to: each reconnect attempt takes the next of [url, ...servers].
   * Not with a url function, which picks each attempt's broker itself (from its `attempt`).
   */
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
  /** MQTT 5 CONNECT properties (session expiry, receive maximum, authentication method, ...); default none */
  properties?: ConnectProperties
  /**
   * Most QoS 1/2 publishes awaiting acknowledgement at once, default 1000. On MQTT 5 the broker's
   * Receive Maximum lowers it for that connection. Where the broker announces none (MQTT 3.1.1),
   * the window starts at 10 and grows by two with each acknowledgement that comes while it is
   * full, tripling each round trip, up to this cap; a connection that dies with more than half of
   * it in flight halves it (not below 10). Messages go out in order whatever the window.
   */
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
  /** The broker's URL, or the function that gives each attempt's */
  url: string | UrlProvider
  /** url first, then the failover servers; none with a url function, which picks each attempt's */
  servers: string[]
  /** Gives each attempt's username and password, in place of `username` and `password` */
  credentials: CredentialsHook | undefined
  /** Whether QoS 0 publishes wait in the queue while offline */
  queueQoS0: boolean
  /** Whether MQTT 5 topic aliases are used when the broker takes them */
  topicAliases: 'auto' | false
  /** The MQTT 5 enhanced authentication hook, if any */
  onAuth: AuthHook | undefined
  /** Where accepted QoS 1/2 messages are also kept until acknowledged */
  store: Store
  /** The client id the CONNECT carries (see `client.clientId` for one a broker assigned) */
  clientId: string
  /** The MQTT version asked for (see `client.protocolVersion` for the one spoken now) */
  protocolVersion: ProtocolVersion | 'auto'
  /** Clean session (3.1.1) or clean start (5.0) */
  clean: boolean
  /** Keepalive in seconds; 0: off */
  keepalive: number
  /** The user name, if any (not with a credentials hook) */
  username: string | undefined
  /** The password as bytes, if any (never shown in `client.options`) */
  password: Uint8Array | undefined
  /** The will, checked, its payload as bytes */
  will: ConnectPacket['will']
  /** The reconnect plan with every default filled in (maxAttempts Infinity: never give up), or false */
  reconnect: Required<ReconnectOptions> | false
  /** ms to wait for the WebSocket and the CONNACK */
  connectTimeout: number
  /** The WebSocket implementation used */
  WebSocket: WebSocketConstructor
  /** MQTT 5 CONNECT properties, if any (`client.options` leaves out authenticationData) */
  properties: ConnectProperties | undefined
  /** Most QoS 1/2 publishes awaiting acknowledgement at once */
  maxInflight: number
  /** Most operations waiting to be sent */
  queueLimit: number
  /** Largest packet accepted from the broker, in bytes */
  maxPacketSize: number
  /** ms that a graceful end() waits for in-flight messages */
  endTimeout: number
  /** Whether packets written together share WebSocket frames */
  coalesceWrites: boolean
  /** The subprotocols to offer, most wanted first; never empty */
  subprotocols: string[]
}

export function resolveOptions(url: string | UrlProvider, options: ClientOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object')
  refuseUnknownOptions(options)
  if (typeof url !== 'function') checkUrl(url)
  const protocolVersion = protocolVersionOption(options.protocolVersion)
  const clientId = options.clientId ?? randomClientId()
  if (typeof clientId !== 'string') throw new InvalidArgumentError('clientId must be a string')
  // Longer than 23 bytes is allowed: MQTT 3.1.1 §3.1.3.1 lets a broker accept it (most do), and one
  // that does not answers CONNACK 0x02, which rejects with ConnectionRefusedError.
  checkText('clientId', clientId)
  const clean = flag('clean', options.clean, true)
  if (!clean && clientId === '') throw new InvalidArgumentError('clean: false needs a clientId')
  const login = checkLogin(options.username, options.password, protocolVersion)
  const credentials = credentialsHook(options.credentials, login)
  checkProperties('CONNECT', options.properties)
  const servers = serverList(url, options.servers)
  if (options.store !== undefined && !isStore(options.store)) throw new InvalidArgumentError('store must have load, put, delete and close')
  return {
    url,
    servers,
    credentials,
    queueQoS0: flag('queueQoS0', options.queueQoS0, true),
    topicAliases: topicAliasesOption(options.topicAliases),
    onAuth: authHook(options.onAuth),
    store: options.store ?? new MemoryStore(),
    clientId,
    protocolVersion,
    clean,
    keepalive: integer('keepalive', options.keepalive ?? 60, 0, 65_535),
    username: login.username,
    password: login.password,
    will: options.will === undefined ? undefined : resolveWill(options.will),
    reconnect: resolveReconnect(options.reconnect),
    connectTimeout: integer('connectTimeout', options.connectTimeout ?? 30_000, 1, 2 ** 31 - 1),
    WebSocket: resolveWebSocket(options.WebSocket),
    properties: options.properties ? { ...options.properties } : undefined,
    maxInflight: integer('maxInflight', options.maxInflight ?? 1_000, 1, 65_535),
    queueLimit: integer('queueLimit', options.queueLimit ?? 100_000, 0, 2 ** 31 - 1),
    maxPacketSize: integer('maxPacketSize', options.maxPacketSize ?? 16 * 1024 * 1024, 2, MAX_REMAINING_LENGTH + 5),
    endTimeout: integer('endTimeout', options.endTimeout ?? 10_000, 0, 2 ** 31 - 1),
    coalesceWrites: coalesceWritesOption(options.coalesceWrites),
    subprotocols: subprotocolsOption(options.subprotocol),
  }
}

function protocolVersionOption(value: unknown): ProtocolVersion | 'auto' {
  const version = value ?? 4
  if (version === 4 || version === 5 || version === 'auto') return version
  // MQTT.js takes 3 (with protocolId 'MQIsdp'); most brokers that speak 3.1 speak 3.1.1 too.
  const why = value === 3 ? ': MQTT 3.1 is not supported' : ''
  throw new InvalidArgumentError(`protocolVersion must be 4 (MQTT 3.1.1), 5 (MQTT 5.0) or 'auto', not ${received(value)}${why}`)
}

export function checkQos(qos: unknown): asserts qos is QoS {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new InvalidArgumentError(`QoS must be 0, 1 or 2, not ${received(qos)}`)
}

/** [url, ...servers] without repeats; none for a url function, which picks each attempt's broker itself. */
function serverList(url: string | UrlProvider, servers: unknown): string[] {
  if (typeof url !== 'function') {
    const list = [url, ...((servers as string[] | undefined) ?? [])]
    list.forEach(checkUrl)
    return [...new Set(list)]
  }
  if (servers !== undefined && (!Array.isArray(servers) || servers.length > 0)) {
    throw new InvalidArgumentError('servers cannot be given with a url function: the function picks each attempt\'s broker (from its attempt number)')
  }
  return []
}

function credentialsHook(hook: unknown, login: { username: unknown; password: unknown }): CredentialsHook | undefined {
  if (hook === undefined) return undefined
  if (typeof hook !== 'function') throw new InvalidArgumentError('credentials must be a function returning { username, password }')
  if (login.username !== undefined || login.password !== undefined) {
    throw new InvalidArgumentError('username and password cannot be given with credentials: its answer gives them for each attempt')
  }
  return hook as CredentialsHook
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
  const r = reconnectObject(reconnect)
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

/** Reconnect's settings: true (untyped, but read as on) and undefined are the defaults. */
function reconnectObject(value: unknown): ReconnectOptions {
  if (value === undefined || value === true) return {}
  // A number here is MQTT.js's reconnectPeriod by another name: read as {}, it would be ignored.
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(`reconnect must be false or an object like { minDelay, maxDelay }, not ${received(value)}`)
  }
  return value
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

/**
 * MQTT 5 enhanced authentication (the onAuth option): given the broker's AUTH challenge, answers
 * with the next authenticationData (or a Promise of it; undefined sends none).
 */
export type AuthHook = (challenge: {
  /** The AUTH packet's reason code: 0x18 continue authentication. */
  reasonCode: number
  /** The broker's challenge data, if it sent any. */
  authenticationData?: Uint8Array
}) => Uint8Array | undefined | Promise<Uint8Array | undefined>

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
