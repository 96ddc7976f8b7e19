import type { QoS, SubscribeProperties, Subscription, UserProperties } from '../codec/packets.js'
import { hasWildcard } from '../wildcards.js'
import { matchTopic } from './topic-match.js'

/**
 * Something that takes the messages of one filter: a subscription's handler, called as is, or an
 * iterator, which is also told when no more messages will come.
 */
export type Sink<M> = ((message: M) => void) | Subscriber<M>

/** A sink that is also told when no more messages will come, and (if it can take it) why not. */
export interface Subscriber<M> {
  deliver(message: M): void
  end(): void
  fail?(error: unknown): void
}

/**
 * A filter's sinks: usually one, held as is; several go in an exact-size array, and none is the
 * shared empty array. Replaced, never changed in place, so a dispatch under way keeps the list it
 * started with when a sink unsubscribes.
 */
type Sinks<M> = Sink<M> | ReadonlyArray<Sink<M>>

/** A subscription as recorded, with the MQTT 5 properties its SUBSCRIBE carried. */
export type RecordedSubscription = Subscription & { properties?: SubscribeProperties }

/** Filters with the same subscription and identifier, packed into one number (see packSubscription). */
type Group<M> = Map<string, Sinks<M>>

/** Where a filter is: its group, its packed subscription, its sinks. */
interface Found<M> {
  group: Group<M>
  flags: number
  sinks: Sinks<M>
}

const NO_SINKS: ReadonlyArray<never> = []

/**
 * The filters this client subscribed to, with the sinks that want their messages. Exact filters
 * are found by key; only wildcard filters are matched one by one.
 *
 * Filters are grouped by their subscription (QoS and MQTT 5 options) rather than each holding
 * its own: a client has few distinct subscriptions and may have thousands of filters, each with a
 * handler, so a filter costs one map entry and no object of its own.
 */
export class Router<M extends { topic: string }> {
  private readonly exact = new Map<number, Group<M>>()
  private readonly wildcard = new Map<number, Group<M>>()
  /** Filters whose SUBSCRIBE the broker has not granted yet: not worth making again on a fresh session. */
  private readonly unconfirmed = new Set<string>()
  /** The user properties of the few filters subscribed with some (MQTT 5), to give them again. */
  private readonly userProperties = new Map<string, UserProperties>()

  /**
   * Records a subscription (its options replace earlier ones for the same filter), the MQTT 5
   * properties of its SUBSCRIBE, and an optional sink.
   */
  add(subscription: Subscription, sink?: Sink<M>, properties?: SubscribeProperties): void {
    const filter = subscription.topic
    const flags = packSubscription(subscription, properties?.subscriptionIdentifier)
    if (properties?.userProperties) this.userProperties.set(filter, properties.userProperties)
    else this.userProperties.delete(filter)
    const found = this.find(filter)
    if (!found) this.unconfirmed.add(filter)
    let sinks: Sinks<M> = found?.sinks ?? NO_SINKS
    if (sink) sinks = withSink(sinks, sink)
    if (found && found.flags !== flags) this.drop(filter, found)
    this.groupFor(filter, flags).set(filter, sinks)
  }

  /** Adds a sink to a recorded filter, leaving its subscription as it is. */
  addSink(filter: string, sink: Sink<M>): void {
    const found = this.find(filter)
    if (found) found.group.set(filter, withSink(found.sinks, sink))
  }

  /** Whether this filter is recorded. */
  has(filter: string): boolean {
    return this.find(filter) !== undefined
  }

  /** Removes one sink; true when the filter has no sinks left. */
  removeSink(filter: string, sink: Sink<M>): boolean {
    const found = this.find(filter)
    if (!found) return true
    const sinks = withoutSink(found.sinks, sink)
    found.group.set(filter, sinks)
    return sinks === NO_SINKS
  }

  /**
   * Forgets a filter the broker refused: every sink that can be told why fails with `reason`,
   * the others end. The sink that asked for the filter hears it again from its own request; one
   * that joined the filter while it was pending has only this.
   */
  forget(filter: string, reason: unknown): void {
    const found = this.find(filter)
    if (found) this.drop(filter, found)
    this.unconfirmed.delete(filter)
    this.userProperties.delete(filter)
    if (!found) return
    for (const sink of isList(found.sinks) ? found.sinks : [found.sinks]) {
      if (typeof sink !== 'function') sink.fail ? sink.fail(reason) : sink.end()
    }
  }

  /** Forgets a filter, ending every sink that listened to it. */
  remove(filter: string): void {
    const found = this.find(filter)
    if (!found) return
    this.drop(filter, found)
    this.unconfirmed.delete(filter)
    this.userProperties.delete(filter)
    endAll(found.sinks)
  }

  /**
   * Calls every sink whose filter matches the message's topic. A throwing sink does not stop the
   * others. A message that names subscription identifiers (MQTT 5) goes only to the filters with
   * those identifiers, or with none, and to each sink once however many of its filters match.
   */
  dispatch(message: M, onError: (err: unknown) => void, identifiers?: readonly number[]): void {
    if (identifiers && identifiers.length > 0) return this.dispatchIdentified(message, onError, identifiers)
    for (const group of this.exact.values()) {
      const sinks = group.get(message.topic)
      if (sinks !== undefined) {
        deliverAll(sinks, message, onError)
        break
      }
    }
    for (const group of this.wildcard.values()) {
      for (const [filter, sinks] of group) if (matchTopic(filter, message.topic)) deliverAll(sinks, message, onError)
    }
  }

  private dispatchIdentified(message: M, onError: (err: unknown) => void, identifiers: readonly number[]): void {
    const chosen = new Set<Sink<M>>()
    for (const groups of [this.exact, this.wildcard]) {
      for (const [flags, group] of groups) {
        const id = identifierOf(flags)
        if (id !== 0 && !identifiers.includes(id)) continue
        for (const [filter, sinks] of group) {
          if (!matchTopic(filter, message.topic)) continue
          for (const sink of isList(sinks) ? sinks : [sinks]) chosen.add(sink)
        }
      }
    }
    for (const sink of chosen) deliverOne(sink, message, onError)
  }

  /** Marks a filter as granted by the broker. */
  confirm(filter: string): void {
    this.unconfirmed.delete(filter)
  }

  /**
   * Every subscription recorded (or only those the broker granted), for re-subscribing on a
   * fresh session; each with the identifier and user properties it was made with, if any.
   */
  subscriptions(options: { confirmedOnly?: boolean } = {}): RecordedSubscription[] {
    const out: RecordedSubscription[] = []
    for (const groups of [this.exact, this.wildcard]) {
      for (const [flags, group] of groups) {
        for (const filter of group.keys()) {
          if (options.confirmedOnly && this.unconfirmed.has(filter)) continue
          const recorded: RecordedSubscription = unpackSubscription(filter, flags)
          const properties = propertiesOf(flags, this.userProperties.get(filter))
          if (properties) recorded.properties = properties
          out.push(recorded)
        }
      }
    }
    return out
  }

  /** Ends every sink and forgets every filter. */
  clear(): void {
    for (const groups of [this.exact, this.wildcard]) {
      for (const group of groups.values()) for (const sinks of group.values()) endAll(sinks)
      groups.clear()
    }
    this.unconfirmed.clear()
    this.userProperties.clear()
  }

  private find(filter: string): Found<M> | undefined {
    for (const [flags, group] of this.groups(filter)) {
      const sinks = group.get(filter)
      if (sinks !== undefined) return { group, flags, sinks }
    }
    return undefined
  }

  private groupFor(filter: string, flags: number): Group<M> {
    const groups = this.groups(filter)
    let group = groups.get(flags)
    if (!group) {
      group = new Map()
      groups.set(flags, group)
    }
    return group
  }

  private drop(filter: string, found: Found<M>): void {
    found.group.delete(filter)
    if (found.group.size === 0) this.groups(filter).delete(found.flags)
  }

  private groups(filter: string): Map<number, Group<M>> {
    // A shared subscription never matches by key, since its filter is not a topic.
    return hasWildcard(filter) || filter.startsWith('$share/') ? this.wildcard : this.exact
  }
}

// Bits of a packed subscription: QoS in the lowest two, then each MQTT 5 option with a bit
// saying it was given (an option left out stays left out).
const NL_GIVEN = 1 << 3
const NL = 1 << 4
const RAP_GIVEN = 1 << 5
const RAP = 1 << 6
const RH_GIVEN = 1 << 7
const RH_SHIFT = 8
/** The subscription identifier (MQTT 5, up to 268,435,455) is kept above the option bits, by arithmetic: 38 bits in all. */
const IDENTIFIER_UNIT = 1 << 10

function packSubscription(s: Subscription, identifier = 0): number {
  let flags: number = s.qos
  if (s.nl !== undefined) flags |= NL_GIVEN | (s.nl ? NL : 0)
  if (s.rap !== undefined) flags |= RAP_GIVEN | (s.rap ? RAP : 0)
  if (s.rh !== undefined) flags |= RH_GIVEN | (s.rh << RH_SHIFT)
  return flags + identifier * IDENTIFIER_UNIT
}

function identifierOf(packed: number): number {
  return Math.floor(packed / IDENTIFIER_UNIT)
}

function propertiesOf(packed: number, userProperties: UserProperties | undefined): SubscribeProperties | undefined {
  const id = identifierOf(packed)
  if (id === 0 && !userProperties) return undefined
  const properties: SubscribeProperties = {}
  if (id !== 0) properties.subscriptionIdentifier = id
  if (userProperties) properties.userProperties = userProperties
  return properties
}

function unpackSubscription(topic: string, packed: number): Subscription {
  const flags = packed % IDENTIFIER_UNIT
  const subscription: Subscription = { topic, qos: (flags & 3) as QoS }
  if (flags & NL_GIVEN) subscription.nl = (flags & NL) !== 0
  if (flags & RAP_GIVEN) subscription.rap = (flags & RAP) !== 0
  if (flags & RH_GIVEN) subscription.rh = ((flags >> RH_SHIFT) & 3) as 0 | 1 | 2
  return subscription
}

function isList<M>(sinks: Sinks<M>): sinks is ReadonlyArray<Sink<M>> {
  return Array.isArray(sinks)
}

/** Adds a sink. An iterator is added once; a handler once per subscribe() that gave it. */
function withSink<M>(sinks: Sinks<M>, sink: Sink<M>): Sinks<M> {
  const list = isList(sinks) ? sinks : [sinks]
  if (typeof sink !== 'function' && list.includes(sink)) return sinks
  return list.length === 0 ? sink : list.concat([sink])
}

/** Removes one occurrence of a sink. */
function withoutSink<M>(sinks: Sinks<M>, sink: Sink<M>): Sinks<M> {
  const list = isList(sinks) ? sinks : [sinks]
  const at = list.indexOf(sink)
  if (at < 0) return sinks
  const rest = list.slice(0, at).concat(list.slice(at + 1))
  return rest.length === 0 ? NO_SINKS : rest.length === 1 ? (rest[0] as Sink<M>) : rest
}

function deliverAll<M>(sinks: Sinks<M>, message: M, onError: (err: unknown) => void): void {
  if (!isList(sinks)) return deliverOne(sinks, message, onError)
  for (const sink of sinks) deliverOne(sink, message, onError)
}

function deliverOne<M>(sink: Sink<M>, message: M, onError: (err: unknown) => void): void {
  try {
    if (typeof sink === 'function') sink(message)
    else sink.deliver(message)
  } catch (err) {
    onError(err)
  }
}

function endAll<M>(sinks: Sinks<M>): void {
  for (const sink of isList(sinks) ? sinks : [sinks]) if (typeof sink !== 'function') sink.end()
}
