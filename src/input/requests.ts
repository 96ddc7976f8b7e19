import type { DisconnectPacket, ProtocolVersion, PublishPacket, PublishProperties, QoS, Subscription, UserProperties } from '../codec/packets.js'
import { MAX_REMAINING_LENGTH, publishRemainingLength } from '../codec/limits.js'
import { InvalidArgumentError } from '../errors.js'
import { utf8Length } from '../bytes.js'
import { validateTopicFilter, validateTopicName } from './topic-rules.js'
import { checkQos } from './options.js'
import { type Payload, toWire } from './payload.js'

export interface PublishOptions {
  qos?: QoS
  retain?: boolean
  /** MQTT 5 publish properties */
  properties?: PublishProperties
}

export interface SubscribeOptions {
  qos?: QoS
  /** MQTT 5: no local */
  nl?: boolean
  /** MQTT 5: retain as published */
  rap?: boolean
  /** MQTT 5: retain handling */
  rh?: 0 | 1 | 2
  /** MQTT 5 SUBSCRIBE properties */
  properties?: { subscriptionIdentifier?: number; userProperties?: UserProperties }
}

export interface EndOptions {
  /** Close at once: queued and in-flight operations are rejected rather than waited for. */
  force?: boolean
  /** MQTT 5: the DISCONNECT reason code; 0x04 asks the broker to publish the will. Default 0. */
  reasonCode?: number
  /** MQTT 5 DISCONNECT properties: a new session expiry, a reason string, user properties. */
  properties?: { sessionExpiryInterval?: number; reasonString?: string; userProperties?: UserProperties }
}

/** The object form of subscribe: filter -> options. */
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
  const qos = opts.qos ?? 0
  checkQos(qos)
  const wire = toWire(payload as Payload)
  const payloadBytes = typeof wire === 'string' ? utf8Length(wire) : wire.byteLength
  const remaining = publishRemainingLength(utf8Length(topic), qos, payloadBytes, 0)
  if (remaining > MAX_REMAINING_LENGTH) {
    throw new InvalidArgumentError(`message of ${remaining} bytes exceeds the MQTT limit of ${MAX_REMAINING_LENGTH}`)
  }
  if (opts.properties && protocolVersion !== 5) throw new InvalidArgumentError('publish properties need MQTT 5')
  if (opts.properties?.topicAlias !== undefined) {
    throw new InvalidArgumentError("topicAlias is the client's to give: it aliases repeated topics itself (the topicAliases option)")
  }
  const packet: PublishPacket = { cmd: 'publish', topic, payload: wire, qos, retain: opts.retain === true, dup: false }
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
  return entries.map(([topic, opts]) => buildSubscription(topic, opts ?? {}, protocolVersion))
}

function buildSubscription(topic: string, opts: SubscribeOptions, protocolVersion: ProtocolVersion): Subscription {
  validateTopicFilter(topic)
  const qos = opts.qos ?? 0
  checkQos(qos)
  const sub: Subscription = { topic, qos }
  if (opts.nl !== undefined || opts.rap !== undefined || opts.rh !== undefined) {
    if (protocolVersion !== 5) throw new InvalidArgumentError('nl, rap and rh subscription options need MQTT 5')
    if (opts.nl !== undefined) sub.nl = opts.nl
    if (opts.rap !== undefined) sub.rap = opts.rap
    if (opts.rh !== undefined) sub.rh = opts.rh
  }
  return sub
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
  const { reasonCode, properties } = options as EndOptions
  if (reasonCode === undefined && properties === undefined) return undefined
  if (protocolVersion !== 5) throw new InvalidArgumentError('a DISCONNECT reason code or properties need MQTT 5')
  const farewell: Omit<DisconnectPacket, 'cmd'> = {}
  if (reasonCode !== undefined) {
    if (!Number.isInteger(reasonCode) || reasonCode < 0 || reasonCode > 0xff) throw new InvalidArgumentError('reasonCode must be an integer from 0 to 255')
    farewell.reasonCode = reasonCode
  }
  if (properties !== undefined) {
    if (typeof properties !== 'object' || properties === null) throw new InvalidArgumentError('end properties must be an object')
    farewell.properties = { ...properties }
  }
  return farewell
}
