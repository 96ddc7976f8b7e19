/**
 * What crosses between a tab and the host of a shared connection (a SharedWorker, or the leader
 * tab). Everything here survives structured cloning: plain objects, strings, numbers, booleans,
 * arrays and Uint8Arrays; never a function or a class instance, so errors cross as
 * {@link SerializedError} and are rebuilt as their classes on the other side.
 */
import type { ConnackPacket, DisconnectPacket, IncomingPublishPacket, QoS, SubscribeProperties, Subscription } from '../codec/packets.js'
import type { ClientState } from '../client/events.js'
import {
  BrokerLimitError,
  BufferOverflowError,
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  CredentialsError,
  InvalidArgumentError,
  InvalidTopicError,
  KeepaliveTimeoutError,
  MqttError,
  type MqttErrorCode,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  RequestTimeoutError,
  SessionTakenOverError,
  SubscribeError,
  TransportError,
} from '../errors.js'
import type { ClientOptions } from '../input/options.js'
import type { EndOptions, PublishOptions } from '../input/requests.js'
import type { ProtocolWarning } from '../protocol/protocol.js'
import type { Granted, PublishResult, UnsubscribeResult } from '../protocol/reason-codes.js'

/**
 * The wire's version, sent in every hello. A SharedWorker outlives a deploy while any tab of the
 * old version is open, so a new tab may meet an old host: the host refuses a hello of another
 * version rather than misread its messages.
 */
export const WIRE_VERSION = 1

/**
 * One client proxy in a tab (a page may hold several shared clients, each with its own id): the
 * unit the host counts subscriptions for and releases when it goes.
 */
export type TabId = string

/** A request's number, chosen by the tab, unique among that tab's requests awaiting an answer. */
export type RequestId = number

/**
 * A subscription's number, chosen by the tab, unique in that tab: deliveries name the
 * subscriptions they matched by it, so the tab calls only their handlers.
 */
export type SubscriptionId = number

/**
 * The client options a tab can send the host: those that survive structured cloning. Functions
 * (the credentials and onAuth hooks), a WebSocket constructor and a Store cannot cross; the host
 * connects with its own global WebSocket.
 */
export type SharedClientOptions = Omit<ClientOptions, 'credentials' | 'onAuth' | 'store' | 'WebSocket'>

/** One filter of a tab's subscribe, with the tab's number for it. */
export interface SharedSubscription extends Subscription {
  /** The tab's number for this subscription: deliveries name it. */
  sub: SubscriptionId
}

/** A tab's first message: which shared client it wants, and the options to make it with if it is the first. */
export interface HelloMessage {
  /** The message's kind. */
  type: 'hello'
  /** {@link WIRE_VERSION} of the tab's build. */
  wire: number
  /** The tab's id. */
  tab: TabId
  /** Which shared client: see {@link sharedKeyOf}. */
  key: string
  /** The broker's URL (a url function cannot cross). */
  url: string
  /** The options the client is made with, when this tab is the first to ask for it. */
  options: SharedClientOptions
  /**
   * The Web Lock the tab holds for as long as it lives, {@link tabLockName} of its id: a host in a
   * SharedWorker asks for it too and is granted it once the tab's page is gone, as a port gives
   * no close event. Absent where the tab has no Web Locks (no secure context): then only its
   * `bye` or `end` tells the host it went.
   */
  lock?: string
}

/** The name of the Web Lock a tab holds while it lives (see {@link HelloMessage.lock}). */
export function tabLockName(tab: TabId): string {
  return `ts-mqtt-ws:tab:${tab}`
}

/**
 * What sharing uses of navigator.locks (a tab's own lock, the worker's and the leader's watch on
 * it, the leader election): an exclusive lock, held while the callback's Promise is pending.
 */
export interface WebLocks {
  /** Asks for the lock `name`; `callback` runs once it is granted, and the lock is let go when its result settles. */
  request(name: string, callback: () => unknown): Promise<unknown>
}

/** Asks for a lock and holds it until its release (pushed to `releases`) is called; resolves once granted. */
export function holdLock(locks: WebLocks, name: string, releases: Array<() => void>): Promise<void> {
  return new Promise((granted, failed) => {
    const held = new Promise<void>((release) => releases.push(release))
    locks.request(name, () => (granted(), held)).catch(failed)
  })
}

/** subscribe(): the filters, each with its options and the tab's number for it. */
export interface SubscribeMessage {
  /** The message's kind. */
  type: 'subscribe'
  /** The request's number, which the answer names. */
  id: RequestId
  /** The filters, at least one. */
  subscriptions: SharedSubscription[]
  /** MQTT 5 SUBSCRIBE properties. */
  properties?: SubscribeProperties
}

/**
 * unsubscribe(): by default every subscription the tab has on `filters`, as an unshared
 * client's unsubscribe drops every handler of a filter; with `subs`, only those (a message
 * stream that stops while the filter keeps other handlers in the tab).
 */
export interface UnsubscribeMessage {
  /** The message's kind. */
  type: 'unsubscribe'
  /** The request's number, which the answer names. */
  id: RequestId
  /** The filters as the caller named them: the answer has one reason code for each, in order. */
  filters: string[]
  /** Only these of the tab's subscriptions on `filters`; absent: all of them. */
  subs?: SubscriptionId[]
}

/** publish(): the tab has checked the arguments already; the host's client checks them again. */
export interface PublishMessage {
  /** The message's kind. */
  type: 'publish'
  /** The request's number, which the answer names. */
  id: RequestId
  /** The topic name. */
  topic: string
  /** The payload; the tab sends bytes as a Uint8Array. */
  payload: Uint8Array | string
  /** QoS, retain, MQTT 5 properties. */
  options?: PublishOptions
}

/**
 * end(): the tab stops using the shared client. Graceful (the default), the host first waits for
 * the tab's requests still awaiting an answer; a timeout is the tab's to keep (it can send a
 * forced end). The connection ends with these options when this was its last tab.
 */
export interface EndMessage {
  /** The message's kind. */
  type: 'end'
  /** The request's number, which the answer names once the tab has left (and, if last, the connection closed). */
  id: RequestId
  /** end()'s options. */
  options?: EndOptions
}

/** The tab is going (a page unloading): release everything at once; nothing is answered. */
export interface ByeMessage {
  /** The message's kind. */
  type: 'bye'
}

/** Every message a tab sends the host. */
export type TabMessage = HelloMessage | SubscribeMessage | UnsubscribeMessage | PublishMessage | EndMessage | ByeMessage

/** What a request settles with, as the unshared client's Promise would: by the request's kind. */
export type RequestResult = Granted[] | PublishResult | UnsubscribeResult | undefined

/** The shared client's state, sent with every event so the tab's reads agree with what it hears. */
export interface ClientSnapshot {
  /** client.state */
  state: ClientState
  /** client.clientId */
  clientId: string
  /** client.protocolVersion */
  protocolVersion: 4 | 5
  /** client.connack, once there was one. */
  connack?: ConnackPacket
}

/**
 * The client's events as they cross: those of MqttClientEvents but message (routed per tab as a
 * {@link DeliveryMessage}) and packetsend / packetreceive (debugging aids that would cost every
 * tab a copy of every packet).
 */
export type SharedEvent =
  | {
      /** The event's name. */
      name: 'connect'
      /** The CONNACK. */
      connack: ConnackPacket
    }
  | {
      /** The event's name. */
      name: 'reconnect' | 'close' | 'offline' | 'end'
    }
  | {
      /** The event's name. */
      name: 'error'
      /** The error, to rebuild with {@link rebuildError}. */
      error: SerializedError
    }
  | {
      /** The event's name. */
      name: 'warning'
      /** The warning. */
      warning: ProtocolWarning
    }
  | {
      /** The event's name. */
      name: 'disconnect'
      /** The broker's DISCONNECT. */
      packet: DisconnectPacket
    }

/** The shared client's state, sent to a tab when its hello is taken. */
export interface StateMessage {
  /** The message's kind. */
  type: 'state'
  /** Where the shared client is now. */
  snapshot: ClientSnapshot
}

/** An event of the shared client, for every tab. */
export interface EventMessage {
  /** The message's kind. */
  type: 'event'
  /** The state after the event. */
  snapshot: ClientSnapshot
  /** The event. */
  event: SharedEvent
}

/** A request settled. */
export interface ResultMessage {
  /** The message's kind. */
  type: 'result'
  /** The request's number. */
  id: RequestId
  /** What its Promise resolves with. */
  value: RequestResult
}

/** A request failed. */
export interface FailureMessage {
  /** The message's kind. */
  type: 'failure'
  /** The request's number. */
  id: RequestId
  /** What its Promise rejects with, to rebuild with {@link rebuildError}. */
  error: SerializedError
}

/** A message for the tab: sent once however many of its subscriptions match. */
export interface DeliveryMessage {
  /** The message's kind. */
  type: 'message'
  /** The PUBLISH, its QoS no higher than the tab's matching subscriptions asked for. */
  packet: IncomingPublishPacket
  /** The tab's subscriptions it matched. */
  subs: SubscriptionId[]
}

/**
 * A message the host could not take that named no request to answer: a malformed one, or a hello
 * it refused (another wire version, options no client can be made with). The tab reports it, or
 * falls back to a client of its own.
 */
export interface RefusedMessage {
  /** The message's kind. */
  type: 'refused'
  /** Why, to rebuild with {@link rebuildError}. */
  error: SerializedError
}

/** Every message the host sends a tab. */
export type HostMessage = StateMessage | EventMessage | ResultMessage | FailureMessage | DeliveryMessage | RefusedMessage

/**
 * The shared key of a client: an explicit one, or the URL and client id, so that tabs asking for
 * the same broker as the same client share one connection. Without a client id every tab of the
 * origin that asks for that URL shares one (a random id per tab would share nothing).
 */
export function sharedKeyOf(url: string, options: { clientId?: string; sharedKey?: string } = {}): string {
  return options.sharedKey ?? `${url}\n${options.clientId ?? ''}`
}

/**
 * The packet to post to tabs. A received payload is a view on the frame it came in, and
 * structured cloning copies a view's whole buffer (a frame may hold hundreds of messages), so a
 * partial view is copied once here, to its own bytes, before the per-tab copies the browser makes.
 */
export function deliverablePacket(packet: IncomingPublishPacket): IncomingPublishPacket {
  const { payload } = packet
  if (payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength) return packet
  return { ...packet, payload: payload.slice() }
}

/** The same packet delivered at no more than `qos`, as a subscription of that QoS would get it. */
export function atMostQos(packet: IncomingPublishPacket, qos: QoS): IncomingPublishPacket {
  return packet.qos <= qos ? packet : { ...packet, qos }
}

// ---- errors ----

/** An error as it crosses: what its class needs to be rebuilt, with its own fields. */
export interface SerializedError {
  /** The class's name, e.g. 'InvalidTopicError': MqttError's literal, kept in minified builds. */
  name: string
  /** The message. */
  message: string
  /** The MqttError code, which names the class to rebuild; absent for an error of another kind. */
  code?: string
  /** The class's own fields (topic, reasonCode, granted, ...), each clone-safe. */
  fields: { [field: string]: unknown }
  /** The error underneath, when it was an Error. */
  cause?: SerializedError
  /** The stack where it was made (in the host), for debugging. */
  stack?: string
}

/** The class of each code: the rebuilt error is an instance of it, so `instanceof` holds in the tab. */
const CLASS_OF: Record<MqttErrorCode, abstract new (...args: never[]) => MqttError> = {
  INVALID_TOPIC: InvalidTopicError,
  INVALID_ARGUMENT: InvalidArgumentError,
  CONNECTION_REFUSED: ConnectionRefusedError,
  CONNECT_TIMEOUT: ConnectTimeoutError,
  SUBSCRIBE_REFUSED: SubscribeError,
  REASON_CODE: ReasonCodeError,
  CLIENT_CLOSED: ClientClosedError,
  CONNECTION_CLOSED: ConnectionClosedError,
  KEEPALIVE_TIMEOUT: KeepaliveTimeoutError,
  PROTOCOL_ERROR: ProtocolError,
  QUEUE_FULL: QueueFullError,
  BUFFER_OVERFLOW: BufferOverflowError,
  OFFLINE: OfflineError,
  TRANSPORT_ERROR: TransportError,
  BROKER_LIMIT: BrokerLimitError,
  REQUEST_TIMEOUT: RequestTimeoutError,
  SESSION_TAKEN_OVER: SessionTakenOverError,
  CREDENTIALS_FAILED: CredentialsError,
}

/** The built-in classes an error of another kind may be rebuilt as, by name. */
const BUILT_IN: Record<string, ErrorConstructor> = { Error, TypeError, RangeError, SyntaxError }

/** Own fields that every error has or that the rebuild sets itself. */
const NOT_FIELDS = new Set(['name', 'code', 'message', 'stack', 'cause'])

/** How deep a cause chain crosses: enough for a CredentialsError's cause and its own. */
const CAUSE_DEPTH = 3

/**
 * An error as it can cross: its name, code, message and own fields (those that survive
 * structured cloning), and its cause when that is an Error. Anything thrown that is not an Error
 * crosses as an Error saying what it was.
 */
export function serializeError(error: unknown, depth = CAUSE_DEPTH): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), fields: {} }
  const out: SerializedError = { name: error.name, message: error.message, fields: ownFields(error) }
  if (error instanceof MqttError) out.code = error.code
  if (typeof error.stack === 'string') out.stack = error.stack
  if (error.cause instanceof Error && depth > 1) out.cause = serializeError(error.cause, depth - 1)
  return out
}

function ownFields(error: Error): { [field: string]: unknown } {
  const fields: { [field: string]: unknown } = {}
  for (const [key, value] of Object.entries(error)) {
    if (!NOT_FIELDS.has(key) && isCloneSafe(value, 4)) fields[key] = value
  }
  return fields
}

/** Whether a value crosses structured cloning as itself: no functions, symbols or class instances. */
function isCloneSafe(value: unknown, depth: number): boolean {
  if (value === null || value === undefined) return true
  const type = typeof value
  if (type === 'string' || type === 'number' || type === 'boolean' || type === 'bigint') return true
  if (type !== 'object' || depth === 0) return false
  if (value instanceof Uint8Array) return true
  if (Array.isArray(value)) return value.every((v) => isCloneSafe(v, depth - 1))
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  return Object.values(value as object).every((v) => isCloneSafe(v, depth - 1))
}

/**
 * The error a {@link SerializedError} stood for, as an instance of its class (InvalidTopicError,
 * SubscribeError, ...: an unknown code gives an MqttError, an unknown name an Error) with its
 * message, code, name and fields as they were. The class's constructor is not run, as it would
 * word the message again from arguments the wire does not carry.
 */
export function rebuildError(serialized: SerializedError): Error {
  const Class = classOf(serialized)
  const cause = serialized.cause ? { cause: rebuildError(serialized.cause) } : undefined
  const error = Reflect.construct(Error, [serialized.message, cause], Class) as Error
  const own: { [field: string]: unknown } = { ...serialized.fields, name: serialized.name }
  if (serialized.code !== undefined) own.code = serialized.code
  for (const [field, value] of Object.entries(own)) define(error, field, value)
  if (serialized.stack !== undefined) error.stack = serialized.stack
  return error
}

/**
 * Sets an own field as a class field would be. Defined rather than assigned, so a field named
 * `__proto__` or `message` stays a plain field and cannot reach the prototype or Error's own.
 */
function define(error: Error, field: string, value: unknown): void {
  if (field === 'message' || field === 'stack' || field === 'cause') return
  Object.defineProperty(error, field, { value, writable: true, enumerable: true, configurable: true })
}

function classOf(serialized: SerializedError): abstract new (...args: never[]) => Error {
  if (serialized.code === undefined) return BUILT_IN[serialized.name] ?? Error
  return Object.hasOwn(CLASS_OF, serialized.code) ? CLASS_OF[serialized.code as MqttErrorCode] : MqttError
}

// ---- reading what a tab sent ----

/**
 * Reads a tab's message, checking its shape only (the kinds of its fields): what MQTT makes of
 * the values (topic rules, QoS, payload size) is checked in the tab and again by the host's
 * client. A host must not fail on a tab that sends something else.
 * @throws {@link InvalidArgumentError} saying what is wrong
 */
export function parseTabMessage(value: unknown): TabMessage {
  if (!isObject(value)) throw new InvalidArgumentError('a shared client message must be an object')
  switch (value.type) {
    case 'hello':
      return parseHello(value)
    case 'subscribe':
      return parseSubscribe(value)
    case 'unsubscribe':
      return parseUnsubscribe(value)
    case 'publish':
      return parsePublish(value)
    case 'end':
      return { type: 'end', id: requestId(value), ...optional('options', value.options, isObject) } as EndMessage
    case 'bye':
      return { type: 'bye' }
    default:
      throw new InvalidArgumentError(`unknown shared client message type ${describe(value.type)}`)
  }
}

/** The request id of a message, when it has one that can be answered: even a malformed request is answered by it. */
export function requestIdOf(value: unknown): RequestId | undefined {
  return isObject(value) && isRequestId(value.id) ? value.id : undefined
}

type Fields = { [key: string]: unknown }

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isRequestId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

function requestId(value: Fields): RequestId {
  if (!isRequestId(value.id)) throw new InvalidArgumentError(`a ${String(value.type)} message needs an id, a non-negative integer`)
  return value.id
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value
}

function string(value: Fields, field: string): string {
  const v = value[field]
  if (typeof v !== 'string') throw new InvalidArgumentError(`${String(value.type)}.${field} must be a string, not ${describe(v)}`)
  return v
}

/** `{ [field]: value }` when the value is present and of its kind, `{}` when absent. */
function optional(field: string, v: unknown, is: (v: unknown) => boolean): Fields {
  if (v === undefined) return {}
  if (!is(v)) throw new InvalidArgumentError(`${field} has the wrong kind: ${describe(v)}`)
  return { [field]: v }
}

function parseHello(value: Fields): HelloMessage {
  if (value.wire !== WIRE_VERSION) {
    throw new InvalidArgumentError(`this shared host speaks wire version ${WIRE_VERSION}, the tab ${typeof value.wire === 'number' ? value.wire : 'none'}`)
  }
  if (!isObject(value.options)) throw new InvalidArgumentError('hello.options must be an object')
  return {
    type: 'hello',
    wire: WIRE_VERSION,
    tab: string(value, 'tab'),
    key: string(value, 'key'),
    url: string(value, 'url'),
    options: value.options as SharedClientOptions,
    ...optional('lock', value.lock, (v) => typeof v === 'string'),
  }
}

function parseSubscribe(value: Fields): SubscribeMessage {
  const id = requestId(value)
  const list = value.subscriptions
  if (!Array.isArray(list) || list.length === 0) throw new InvalidArgumentError('subscribe.subscriptions must be a non-empty array')
  const subscriptions = list.map(parseSubscription)
  return { type: 'subscribe', id, subscriptions, ...optional('properties', value.properties, isObject) }
}

function parseSubscription(value: unknown): SharedSubscription {
  if (!isObject(value)) throw new InvalidArgumentError('each subscription must be an object')
  const qos = value.qos
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new InvalidArgumentError(`a subscription's qos must be 0, 1 or 2, not ${describe(qos)}`)
  if (!Number.isSafeInteger(value.sub)) throw new InvalidArgumentError(`a subscription's sub must be an integer, not ${describe(value.sub)}`)
  const out: SharedSubscription = { topic: string(value, 'topic'), qos, sub: value.sub as number }
  const isFlag = (v: unknown) => typeof v === 'boolean'
  Object.assign(out, optional('nl', value.nl, isFlag), optional('rap', value.rap, isFlag))
  Object.assign(out, optional('rh', value.rh, (v) => v === 0 || v === 1 || v === 2))
  return out
}

function parseUnsubscribe(value: Fields): UnsubscribeMessage {
  const id = requestId(value)
  const filters = value.filters
  if (!Array.isArray(filters) || filters.length === 0 || !filters.every((f) => typeof f === 'string')) {
    throw new InvalidArgumentError('unsubscribe.filters must be a non-empty array of strings')
  }
  const subs = optional('subs', value.subs, (v) => Array.isArray(v) && v.every((s) => Number.isSafeInteger(s)))
  return { type: 'unsubscribe', id, filters: filters as string[], ...subs }
}

function parsePublish(value: Fields): PublishMessage {
  const id = requestId(value)
  const payload = value.payload
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) {
    throw new InvalidArgumentError(`publish.payload must be a string or a Uint8Array, not ${describe(payload)}`)
  }
  return { type: 'publish', id, topic: string(value, 'topic'), payload, ...optional('options', value.options, isObject) }
}
