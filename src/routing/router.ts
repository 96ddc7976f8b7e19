import type { QoS, Subscription } from '../codec/packets.js'
import { isWildcardFilter, matchTopic } from './topic-match.js'

/**
 * Something that takes the messages of one filter: a subscription's handler, called as is, or an
 * iterator, which is also told when no more messages will come.
 */
export type Sink<M> = ((message: M) => void) | Subscriber<M>

/** A sink that is also told when no more messages will come. */
export interface Subscriber<M> {
  deliver(message: M): void
  end(): void
}

/**
 * One filter. Its subscription is not kept as the object given but packed into one number
 * (see packSubscription), with the bit that says the broker granted it: with thousands of
 * filters a handler each, every object and every field per route shows in the heap.
 */
interface Route<M> {
  /** QoS, MQTT 5 options, and CONFIRMED once the broker granted the filter (so it is worth making again on a fresh session). */
  flags: number
  /**
   * Usually one sink, held as is; several go in an exact-size array. Replaced, never changed in
   * place: with thousands of filters a handler each, every object per route shows in the heap,
   * and a dispatch under way keeps the list it started with when a sink unsubscribes.
   */
  sinks: Sink<M> | ReadonlyArray<Sink<M>> | undefined
}

/**
 * The filters this client subscribed to, with the sinks that want their messages. Exact filters
 * are found by key; only wildcard filters are matched one by one.
 */
export class Router<M extends { topic: string }> {
  private readonly exact = new Map<string, Route<M>>()
  private readonly wildcard = new Map<string, Route<M>>()

  /** Records a subscription (its options replace earlier ones for the same filter) and an optional sink. */
  add(subscription: Subscription, sink?: Sink<M>): void {
    const route = this.route(subscription.topic) ?? this.create(subscription.topic)
    route.flags = (route.flags & CONFIRMED) | packSubscription(subscription)
    if (sink) route.sinks = withSink(route.sinks, sink)
  }

  /** Adds a sink to a recorded filter, leaving its subscription as it is. */
  addSink(filter: string, sink: Sink<M>): void {
    const route = this.route(filter)
    if (route) route.sinks = withSink(route.sinks, sink)
  }

  /** Whether this filter is recorded. */
  has(filter: string): boolean {
    return this.route(filter) !== undefined
  }

  /** Removes one sink; true when the filter has no sinks left. */
  removeSink(filter: string, sink: Sink<M>): boolean {
    const route = this.route(filter)
    if (!route) return true
    route.sinks = withoutSink(route.sinks, sink)
    return route.sinks === undefined
  }

  /** Forgets a filter without ending its sinks (they are told why by other means). */
  forget(filter: string): void {
    this.table(filter).delete(filter)
  }

  /** Forgets a filter, ending every sink that listened to it. */
  remove(filter: string): void {
    const route = this.route(filter)
    if (!route) return
    this.table(filter).delete(filter)
    endAll(route.sinks)
  }

  /** Calls every sink whose filter matches the message's topic. A throwing sink does not stop the others. */
  dispatch(message: M, onError: (err: unknown) => void): void {
    this.deliverTo(this.exact.get(message.topic), message, onError)
    for (const [filter, route] of this.wildcard) {
      if (matchTopic(filter, message.topic)) this.deliverTo(route, message, onError)
    }
  }

  /** Marks a filter as granted by the broker. */
  confirm(filter: string): void {
    const route = this.route(filter)
    if (route) route.flags |= CONFIRMED
  }

  /** Every subscription recorded (or only those the broker granted), for re-subscribing on a fresh session. */
  subscriptions(options: { confirmedOnly?: boolean } = {}): Subscription[] {
    const out: Subscription[] = []
    for (const [topic, route] of [...this.exact, ...this.wildcard]) {
      if (route.flags & CONFIRMED || !options.confirmedOnly) out.push(unpackSubscription(topic, route.flags))
    }
    return out
  }

  /** Ends every sink and forgets every filter. */
  clear(): void {
    for (const route of [...this.exact.values(), ...this.wildcard.values()]) endAll(route.sinks)
    this.exact.clear()
    this.wildcard.clear()
  }

  private deliverTo(route: Route<M> | undefined, message: M, onError: (err: unknown) => void): void {
    const sinks = route?.sinks
    if (sinks === undefined) return
    if (!isList(sinks)) return deliverOne(sinks, message, onError)
    for (const sink of sinks) deliverOne(sink, message, onError)
  }

  private route(filter: string): Route<M> | undefined {
    return this.table(filter).get(filter)
  }

  private create(filter: string): Route<M> {
    const route: Route<M> = { flags: 0, sinks: undefined }
    this.table(filter).set(filter, route)
    return route
  }

  private table(filter: string): Map<string, Route<M>> {
    // A shared subscription never matches by key, since its filter is not a topic.
    return isWildcardFilter(filter) || filter.startsWith('$share/') ? this.wildcard : this.exact
  }
}

// Bits of a route's flags: QoS in the lowest two, then whether the broker granted the filter,
// then each MQTT 5 option with a bit saying it was given (an option left out stays left out).
const CONFIRMED = 1 << 2
const NL_GIVEN = 1 << 3
const NL = 1 << 4
const RAP_GIVEN = 1 << 5
const RAP = 1 << 6
const RH_GIVEN = 1 << 7
const RH_SHIFT = 8

function packSubscription(s: Subscription): number {
  let flags: number = s.qos
  if (s.nl !== undefined) flags |= NL_GIVEN | (s.nl ? NL : 0)
  if (s.rap !== undefined) flags |= RAP_GIVEN | (s.rap ? RAP : 0)
  if (s.rh !== undefined) flags |= RH_GIVEN | (s.rh << RH_SHIFT)
  return flags
}

function unpackSubscription(topic: string, flags: number): Subscription {
  const subscription: Subscription = { topic, qos: (flags & 3) as QoS }
  if (flags & NL_GIVEN) subscription.nl = (flags & NL) !== 0
  if (flags & RAP_GIVEN) subscription.rap = (flags & RAP) !== 0
  if (flags & RH_GIVEN) subscription.rh = ((flags >> RH_SHIFT) & 3) as 0 | 1 | 2
  return subscription
}

function isList<M>(sinks: Sink<M> | ReadonlyArray<Sink<M>>): sinks is ReadonlyArray<Sink<M>> {
  return Array.isArray(sinks)
}

/** Adds a sink. An iterator is added once; a handler once per subscribe() that gave it. */
function withSink<M>(sinks: Route<M>['sinks'], sink: Sink<M>): Route<M>['sinks'] {
  const list = sinks === undefined ? [] : isList(sinks) ? sinks : [sinks]
  if (typeof sink !== 'function' && list.includes(sink)) return sinks
  return list.length === 0 ? sink : list.concat([sink])
}

/** Removes one occurrence of a sink. */
function withoutSink<M>(sinks: Route<M>['sinks'], sink: Sink<M>): Route<M>['sinks'] {
  const list = sinks === undefined ? [] : isList(sinks) ? sinks : [sinks]
  const at = list.indexOf(sink)
  if (at < 0) return sinks
  const rest = list.slice(0, at).concat(list.slice(at + 1))
  return rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : rest
}

function deliverOne<M>(sink: Sink<M>, message: M, onError: (err: unknown) => void): void {
  try {
    if (typeof sink === 'function') sink(message)
    else sink.deliver(message)
  } catch (err) {
    onError(err)
  }
}

function endAll<M>(sinks: Route<M>['sinks']): void {
  if (sinks === undefined) return
  for (const sink of isList(sinks) ? sinks : [sinks]) if (typeof sink !== 'function') sink.end()
}
