import type { DisconnectPacket, ProtocolVersion, PublishPacket, PublishProperties, QoS, Subscription, UserProperties } from '../codec/packets.js'
import { MAX_REMAINING_LENGTH, publishRemainingLength } from '../codec/limits.js'
import { InvalidArgumentError } from '../errors.js'
import { utf8Length } from '../bytes.js'
import { validateTopicFilter, validateTopicName } from './topic-rules.js'
import { checkQos } from './options.js'
import { type Payload, toWire } from './payload.js'
import { checkProperties } from './properties.js'
import { flag, received } from './values.js'
import { refuseUnknownRequestOptions } from './unknown-options.js'

/** Options of {@link MqttClient.publish}. */
export interface PublishOptions {
  /**
   * Delivery guarantee, default 0: 0 at most once (resolves once written), 1 at least once
   * (resolves on PUBACK), 2 exactly once (resolves on PUBCOMP).
   */
  qos?: QoS
  /** Whether the broker keeps it as the topic's retained message, for future subscribers; default false. */
  retain?: boolean
  /** MQTT 5 publish properties; an error on MQTT 3.1.1. topicAlias is the client's own (see the topicAliases option). */
  properties?: PublishProperties
}

/** Options of {@link MqttClient.subscribe}, for every filter it names. */
export interface SubscribeOptions {
  /** The highest QoS to receive messages at, default 0: the broker delivers each at the lower of this and its publish's. */
  qos?: QoS
  /** MQTT 5 No Local: do not receive this client's own messages; default false. */
  nl?: boolean
  /** MQTT 5 Retain As Published: keep the retain flag the publisher set; default false. */
  rap?: boolean
  /** MQTT 5 Retain Handling: 0 send retained messages (default), 1 only for a new subscription, 2 never. */
  rh?: 0 | 1 | 2
  /** MQTT 5 SUBSCRIBE properties */
  properties?: {
    /** A number (1 to 268,435,455) the broker attaches to the messages this subscription delivers. */
    subscriptionIdentifier?: number
    /** Application-defined name/value pairs. */
    userProperties?: UserProperties
  }
}

/** Options of {@link MqttClient.end}; the reason code and properties need MQTT 5. */
export interface EndOptions {
  /** Close at once: queued and in-flight operations are rejected rather than waited for. */
  force?: boolean
  /** MQTT 5: the DISCONNECT reason code; 0x04 asks the broker to publish the will. Default 0. */
  reasonCode?: number
  /** MQTT 5 DISCONNECT properties: a new session expiry, a reason string, user properties. */
  properties?: {
    /** Seconds the broker keeps the session from now; brokers refuse a non-zero value if the CONNECT's was 0. */
    sessionExpiryInterval?: number
    /** A human-readable reason, for the broker's logs. */
    reasonString?: string
    /** Application-defined name/value pairs. */
    userProperties?: UserProperties
  }
}

/**
 * messages(): the subscription's options, and how many messages wait for a consumer that reads
 * slower than they come. A message past the limit is lost to the stream even at QoS 1 and 2:
 * the client acknowledged it to the broker when it arrived, so the broker will not send it
 * again. Handlers (subscribe's callback) get every message as it comes, with no buffer between.
 */
export interface MessagesOptions extends SubscribeOptions {
  /**
   * Most messages held for the consumer, default 1000: room for bursts, a few MB at most for
   * messages of a few KB, and a bound on the memory a consumer that stopped reading can cost.
   */
  bufferLimit?: number
  /**
   * What one more message does when bufferLimit wait (the stream's `dropped` counts them):
   * 'drop-oldest' (default) makes room, so a consumer that catches up sees the newest, as live
   * data wants; 'drop-newest' discards it; 'error' ends the stream, after the messages it holds,
   * with BufferOverflowError, and unsubscribes.
   */
  overflow?: 'drop-oldest' | 'drop-newest' | 'error'
}

export const DEFAULT_BUFFER_LIMIT = 1000

/** Splits messages()'s options into the subscription's and the buffer's; throws a typed error on bad input. */
export function buildStream(options: unknown): { subscribe: SubscribeOptions; bufferLimit: number; overflow: NonNullable<MessagesOptions['overflow']> } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('messages options must be an object')
  refuseUnknownRequestOptions('messages', options)
  const { bufferLimit = DEFAULT_BUFFER_LIMIT, overflow = 'drop-oldest', ...subscribe } = options as MessagesOptions
  if (!Number.isInteger(bufferLimit) || bufferLimit < 1 || bufferLimit > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`bufferLimit must be an integer from 1 to ${2 ** 31 - 1}, not ${received(bufferLimit)}`)
  }
  if (overflow !== 'drop-oldest' && overflow !== 'drop-newest' && overflow !== 'error') {
    throw new InvalidArgumentError(`overflow must be 'drop-oldest', 'drop-newest' or 'error', not ${received(overflow)}`)
  }
  return { subscribe, bufferLimit, overflow }
}

/** The object form of subscribe: filter -> options. */
/** subscribe's filter -> options form, to give each filter its own QoS, nl, rap and rh (properties come from the options argument). */
export type SubscriptionMap = Record<string, SubscribeOptions>


/** Checks a publish request and builds its packet; throws a typed error on bad input. */
export function buildPublish(
  topic: unknown,
  payload: unknown,
  options: PublishOptions | undefined,
  protocolVersion: ProtocolVersion,
): PublishPacket {
  validateTopicName(topic)
  const opts = options ?? {}
  if (typeof opts !== 'object') throw new InvalidArgumentError('publish options must be an object')
  refuseUnknownRequestOptions('publish', opts)
  const qos = opts.qos ?? 0
  checkQos(qos)
  const wire = toWire(payload as Payload)
  const payloadBytes = typeof wire === 'string' ? utf8Length(wire) : wire.byteLength
  const remaining = publishRemainingLength(utf8Length(topic), qos, payloadBytes, 0)
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new InvalidArgumentError(`message of ${remaining} bytes exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`)
  }
  const retain = flag('retain', opts.retain, false)
  if (opts.properties && protocolVersion !== 5) throw new InvalidArgumentError('publish properties need MQTT 5')
  checkProperties('publish', opts.properties)
  if (opts.properties?.topicAlias !== undefined) {
    throw new InvalidArgumentError("topicAlias is the client's to give: it aliases repeated topics itself (the topicAliases option)")
  }
  const packet: PublishPacket = { cmd: 'publish', topic, payload: wire, qos, retain, dup: false }
  if (opts.properties) packet.properties = { ...opts.properties }
  return packet
}

/** Turns every accepted form of subscribe's arguments into checked subscriptions. */
export function buildSubscriptions(
  target: unknown,
  options: SubscribeOptions | undefined,
  protocolVersion: ProtocolVersion,
): Subscription[] {
  let entries: Array<[string, SubscribeOptions]>
  if (typeof target === 'string') entries = [[target, options ?? {}]]
  else if (Array.isArray(target)) entries = target.map((t) => [t as string, options ?? {}])
  else if (typeof target === 'object' && target !== null) entries = Object.entries(target as SubscriptionMap)
  else throw new InvalidArgumentError('subscribe takes a filter, an array of filters or an object of filter -> options')
  if (entries.length === 0) throw new InvalidArgumentError('subscribe needs at least one filter')
  refuseUnknownRequestOptions('subscribe', options)
  checkProperties('subscribe', options?.properties)
  return entries.map(([topic, opts]) => buildSubscription(topic, opts ?? {}, protocolVersion))
}

function buildSubscription(topic: string, opts: SubscribeOptions, protocolVersion: ProtocolVersion): Subscription {
  validateTopicFilter(topic)
  refuseUnknownRequestOptions('subscribe', opts)
  const qos = opts.qos ?? 0
  checkQos(qos)
  const sub: Subscription = { topic, qos }
  if (opts.nl !== undefined || opts.rap !== undefined || opts.rh !== undefined) {
    if (protocolVersion !== 5) throw new InvalidArgumentError('nl, rap and rh subscription options need MQTT 5')
    if (opts.nl !== undefined) sub.nl = flag('nl', opts.nl, false)
    if (opts.rap !== undefined) sub.rap = flag('rap', opts.rap, false)
    if (opts.rh !== undefined) sub.rh = retainHandling(opts.rh)
  }
  return sub
}

/** MQTT 5 retain handling (§3.8.3.1): 0 send retained messages, 1 only for a new subscription, 2 never. */
function retainHandling(rh: unknown): 0 | 1 | 2 {
  if (rh === 0 || rh === 1 || rh === 2) return rh
  throw new InvalidArgumentError(`rh (retain handling) must be 0, 1 or 2, not ${received(rh)}`)
}

export function buildUnsubscriptions(target: unknown): string[] {
  const topics = typeof target === 'string' ? [target] : target
  if (!Array.isArray(topics) || topics.length === 0) {
    throw new InvalidArgumentError('unsubscribe takes a filter or a non-empty array of filters')
  }
  for (const topic of topics) validateTopicFilter(topic)
  return topics as string[]
}

/** Checks end()'s options; the DISCONNECT fields they ask for, if any. Throws a typed error on bad input. */
export function buildFarewell(options: unknown, protocolVersion: ProtocolVersion): Omit<DisconnectPacket, 'cmd'> | undefined {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('end options must be an object')
  refuseUnknownRequestOptions('end', options)
  const { reasonCode, properties } = options as EndOptions
  if (reasonCode === undefined && properties === undefined) return undefined
  if (protocolVersion !== 5) throw new InvalidArgumentError('a DISCONNECT reason code or properties need MQTT 5')
  const farewell: Omit<DisconnectPacket, 'cmd'> = {}
  if (reasonCode !== undefined) {
    if (!Number.isInteger(reasonCode) || reasonCode < 0 || reasonCode > 0xff) throw new InvalidArgumentError('reasonCode must be an integer from 0 to 255')
    farewell.reasonCode = reasonCode
  }
  if (properties !== undefined) {
    checkProperties('end', properties)
    farewell.properties = { ...properties }
  }
  return farewell
}
