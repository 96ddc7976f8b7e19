import type { QoS, Subscription } from '../codec/packets.js'
import { isWildcardFilter, matchTopic } from './topic-match.js'

/** Something that takes the messages of one filter: a subscription handler or an iterator. */
export interface Sink<M> {
  deliver(message: M): void
  /** The client ended or the filter was unsubscribed: no more messages will come. */
  end(): void
}

interface Route<M> {
  subscription: Subscription
  /**
   * Usually one. Replaced, never changed in place: an exact-size array costs far less than a Set
   * or a grown array when thousands of filters have a handler each, and a dispatch under way
   * keeps the list it started with when a sink unsubscribes.
   */
  sinks: ReadonlyArray<Sink<M>>
  /** The broker granted it (so it is worth making again on a fresh session). */
  confirmed: boolean
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
    const route = this.route(subscription.topic) ?? this.create(subscription)
    route.subscription = subscription
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
    route.sinks = route.sinks.filter((s) => s !== sink)
    return route.sinks.length === 0
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
    for (const sink of route.sinks) sink.end()
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
    if (route) route.confirmed = true
  }

  /** Every subscription recorded (or only those the broker granted), for re-subscribing on a fresh session. */
  subscriptions(options: { confirmedOnly?: boolean } = {}): Subscription[] {
    const routes = [...this.exact.values(), ...this.wildcard.values()]
    return routes.filter((r) => r.confirmed || !options.confirmedOnly).map((r) => r.subscription)
  }

  /** The QoS recorded for a filter. */
  qosOf(filter: string): QoS | undefined {
    return this.route(filter)?.subscription.qos
  }

  /** Ends every sink and forgets every filter. */
  clear(): void {
    for (const route of [...this.exact.values(), ...this.wildcard.values()]) {
      for (const sink of route.sinks) sink.end()
    }
    this.exact.clear()
    this.wildcard.clear()
  }

  private deliverTo(route: Route<M> | undefined, message: M, onError: (err: unknown) => void): void {
    if (!route) return
    for (const sink of route.sinks) {
      try {
        sink.deliver(message)
      } catch (err) {
        onError(err)
      }
    }
  }

  private route(filter: string): Route<M> | undefined {
    return this.table(filter).get(filter)
  }

  private create(subscription: Subscription): Route<M> {
    const route: Route<M> = { subscription, sinks: [], confirmed: false }
    this.table(subscription.topic).set(subscription.topic, route)
    return route
  }

  private table(filter: string): Map<string, Route<M>> {
    // A shared subscription never matches by key, since its filter is not a topic.
    return isWildcardFilter(filter) || filter.startsWith('$share/') ? this.wildcard : this.exact
  }
}

function withSink<M>(sinks: ReadonlyArray<Sink<M>>, sink: Sink<M>): ReadonlyArray<Sink<M>> {
  if (sinks.includes(sink)) return sinks
  // A literal and concat() allocate exactly what they hold; a spread grows a 17-slot store.
  return sinks.length === 0 ? [sink] : sinks.concat(sink)
}
