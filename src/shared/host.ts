/**
 * The host of shared connections: one client per shared key, used by many tabs. It counts who
 * uses each filter, so the connection subscribes once per filter and unsubscribes when its last
 * user goes; routes each message to the tabs whose filters match; and answers each tab's
 * requests in that tab only. It knows tabs only through {@link TabPort}s and the messages of
 * wire.ts, so the same host runs in a SharedWorker or in a leader tab.
 */
import type { ConnackPacket, IncomingPublishPacket, QoS, SubscribeProperties, Subscription } from '../codec/packets.js'
import type { ClientState, MqttClientEvents } from '../client/events.js'
import { ClientClosedError, InvalidArgumentError, SubscribeError } from '../errors.js'
import type { Payload } from '../input/payload.js'
import type { EndOptions, PublishOptions, SubscribeOptions, SubscriptionMap } from '../input/requests.js'
import { type Granted, isFailure, type PublishResult, type UnsubscribeResult } from '../protocol/reason-codes.js'
import { matchTopic } from '../routing/topic-match.js'
import { RetainedCache } from './retained-cache.js'
import { hasWildcard } from '../wildcards.js'
import {
  atMostQos,
  type ClientSnapshot,
  deliverablePacket,
  type EndMessage,
  type HelloMessage,
  type HostMessage,
  parseTabMessage,
  type PublishMessage,
  type RequestId,
  requestIdOf,
  type RequestResult,
  serializeError,
  type SharedClientOptions,
  type SharedEvent,
  type SharedSubscription,
  type SubscribeMessage,
  type SubscriptionId,
  type TabId,
  type TabMessage,
  type UnsubscribeMessage,
} from './wire.js'

/**
 * What the host uses of a client: a part of MqttClient's surface, which MqttClient has as it
 * is, so that tests can give a fake.
 */
export interface HostedClient {
  /** client.state */
  readonly state: ClientState
  /** client.clientId */
  readonly clientId: string
  /** client.protocolVersion */
  readonly protocolVersion: 4 | 5
  /** client.connack */
  readonly connack: ConnackPacket | undefined
  /** client.subscribe, in its filter -> options form (the tabs' numbers for them stay in the host). */
  subscribe(target: SubscriptionMap, options?: SubscribeOptions): Promise<Granted[]>
  /** client.unsubscribe */
  unsubscribe(target: string[]): Promise<UnsubscribeResult>
  /** client.publish */
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined>
  /** client.end */
  end(options?: EndOptions): Promise<void>
  /** client.on */
  on<K extends keyof MqttClientEvents & string>(event: K, listener: (...args: MqttClientEvents[K]) => void): unknown
}

/** Makes the one client of a shared key, from the first tab's URL and options: `connect` in a worker. */
export type ClientFactory = (url: string, options: SharedClientOptions) => HostedClient

/** How the host reaches one tab: a MessagePort's postMessage, or a BroadcastChannel addressed to it. */
export interface TabPort {
  /** Sends the tab a message; it must arrive as a structured clone, in order. */
  post(message: HostMessage): void
}

/** MQTT 5's "no subscription existed", for a filter the tab unsubscribes that it never had. */
const NO_SUBSCRIPTION_EXISTED = 0x11

/** The tab whose publish a host is handing its client, while it does: see {@link publishingTab}. */
let publishingFor: TabId | undefined

/**
 * The tab whose publish a host is handing its client right now, or undefined. The client stores
 * an accepted QoS 1/2 message during that call, so a store can note which tab it came from (the
 * leader's does, leader-store.ts).
 */
export function publishingTab(): TabId | undefined {
  return publishingFor
}

/** Nothing with the request's outcome: nobody awaits it (a tab that left), and the client reports what it must. */
const ignore = (): void => undefined

/** One tab's use of the host. */
interface Tab {
  readonly id: TabId
  readonly port: TabPort
  /** Set by its hello. */
  session: Session | undefined
  /** Its subscriptions: each one's filter and QoS. */
  readonly subs: Map<SubscriptionId, { filter: string; qos: QoS }>
  /** Its requests awaiting an answer. Cleared when it leaves, so answers that come later go nowhere. */
  readonly pending: Set<RequestId>
  /** Set by a graceful end while its requests settle: the end requests to answer, and the last one's options. */
  ending: { ids: RequestId[]; options: EndOptions } | undefined
}

/** One shared key: its client, its tabs, and who uses which filter. */
interface Session {
  readonly key: string
  readonly client: HostedClient
  readonly tabs: Set<Tab>
  readonly filters: Map<string, Filter>
  /** The filters a topic must be matched against (wildcards, $share); the others are looked up by it. */
  readonly patterns: Set<string>
  /** The retained messages received and still current: a tab joining a filter held already is given them. */
  readonly retained: RetainedCache
}

/** One filter on the connection and its users. */
interface Filter {
  /** Each tab using it, with its subscriptions on it. */
  readonly users: Map<Tab, Set<SubscriptionId>>
  /** The QoS of the SUBSCRIBE for it that stands (sent or granted), -1 for none: a tab asking for more sends another. */
  qos: number
  /** That SUBSCRIBE's outcome for this filter: what it granted, or its refusal code. */
  grant: Promise<Granted>
  /** What the broker last granted it, while it holds it: what a failed upgrade falls back to. */
  held: Granted | undefined
}

/**
 * Hosts shared clients for many tabs. Give it each tab's port with {@link addTab}, every message
 * the tab sends to {@link receive} (the first must be its hello), and call {@link tabGone} when a
 * tab goes without a word (its page closed or crashed).
 *
 * What the tabs of one connection share and cannot each choose: the client options are the
 * first tab's; a filter's MQTT 5 options (nl, rap, rh) and SUBSCRIBE properties are those of the
 * SUBSCRIBE that stands for it; No Local means "not from this connection", so every tab's
 * publishes; and a tab subscribing to a filter the connection holds already gets no retained
 * messages, as no SUBSCRIBE is sent for it.
 */
export class SharedHost {
  private readonly tabs = new Map<TabId, Tab>()
  private readonly sessions = new Map<string, Session>()

  /** @param createClient - makes a shared key's client; it may throw on options no client can take */
  constructor(private readonly createClient: ClientFactory) {}

  /** Registers a tab's port; its messages then go to {@link receive}, its hello first. A known id starts over as a new tab. */
  addTab(tabId: TabId, port: TabPort): void {
    if (this.tabs.has(tabId)) this.tabGone(tabId)
    this.tabs.set(tabId, { id: tabId, port, session: undefined, subs: new Map(), pending: new Set(), ending: undefined })
  }

  /**
   * Takes one message from a tab. Never throws: a message that is malformed, out of place or
   * fails is answered with its typed error, for its request id when it has one (else as a
   * 'refused' message). Messages of a tab not added, or gone, are dropped: there is nowhere to answer.
   */
  receive(tabId: TabId, message: unknown): void {
    const tab = this.tabs.get(tabId)
    if (!tab) return
    try {
      this.handle(tab, parseTabMessage(message))
    } catch (err) {
      this.refuse(tab, requestIdOf(message), err)
    }
  }

  /**
   * A tab went without end() (closed, crashed, or said bye): its subscriptions are released and
   * its pending requests forgotten; the connection ends (gracefully) if it was the last tab.
   */
  tabGone(tabId: TabId): void {
    const tab = this.tabs.get(tabId)
    if (tab) this.leave(tab, {}).catch(ignore)
  }

  // ---- one message ----

  private handle(tab: Tab, message: TabMessage): void {
    if (message.type === 'hello') return this.hello(tab, message)
    if (message.type === 'bye') return this.tabGone(tab.id)
    const session = tab.session
    if (!session) throw new InvalidArgumentError(`a ${message.type} message before the tab's hello`)
    if (message.type === 'end') return this.end(tab, message)
    if (tab.ending) throw new ClientClosedError('The tab is ending its use of the shared client')
    if (message.type === 'publish') return this.publish(tab, session, message)
    if (message.type === 'subscribe') return this.subscribe(tab, session, message)
    return this.unsubscribe(tab, session, message)
  }

  private hello(tab: Tab, hello: HelloMessage): void {
    if (tab.session) throw new InvalidArgumentError('a second hello from the same tab')
    if (hello.tab !== tab.id) throw new InvalidArgumentError(`a hello naming tab ${JSON.stringify(hello.tab)} from tab ${JSON.stringify(tab.id)}`)
    const session = this.sessions.get(hello.key) ?? this.open(hello)
    session.tabs.add(tab)
    tab.session = session
    this.post(tab, { type: 'state', snapshot: snapshotOf(session.client) })
  }

  private open({ key, url, options }: HelloMessage): Session {
    const session: Session = { key, client: this.createClient(url, options), tabs: new Set(), filters: new Map(), patterns: new Set(), retained: new RetainedCache() }
    this.listen(session)
    this.sessions.set(key, session)
    return session
  }

  private listen(session: Session): void {
    const { client } = session
    const forward = (event: SharedEvent) => this.broadcast(session, event)
    client.on('connect', (connack) => forward({ name: 'connect', connack }))
    for (const name of ['reconnect', 'close', 'offline', 'end'] as const) client.on(name, () => forward({ name }))
    client.on('error', (error) => forward({ name: 'error', error: serializeError(error) }))
    client.on('warning', (warning) => forward({ name: 'warning', warning }))
    client.on('disconnect', (packet) => forward({ name: 'disconnect', packet }))
    client.on('message', (_topic, _payload, packet) => this.route(session, packet))
  }

  private publish(tab: Tab, session: Session, { id, topic, payload, options }: PublishMessage): void {
    publishingFor = tab.id
    try {
      this.answer(tab, id, attempt(() => session.client.publish(topic, payload, options)))
    } finally {
      publishingFor = undefined
    }
  }

  // ---- subscriptions ----

  private subscribe(tab: Tab, session: Session, { id, subscriptions, properties }: SubscribeMessage): void {
    checkNewNumbers(tab, subscriptions)
    const raise = new Map<string, Subscription>()
    for (const s of subscriptions) {
      const stands = session.filters.get(s.topic)?.qos ?? -1
      if (s.qos > stands && s.qos > (raise.get(s.topic)?.qos ?? -1)) raise.set(s.topic, s)
    }
    // Taken before this tab is bound: what comes later reaches it live.
    const replay = retainedFor(session, subscriptions.filter((s) => !raise.has(s.topic)))
    if (raise.size > 0) this.sendSubscribe(session, [...raise.values()], properties)
    for (const s of subscriptions) this.bind(session, tab, s)
    const grants = subscriptions.map((s) => (session.filters.get(s.topic) as Filter).grant)
    const outcome = this.grantedTo(session, tab, subscriptions, grants)
    this.answer(tab, id, outcome)
    // After the answer, as a broker sends retained messages after its SUBACK.
    if (replay.size > 0) outcome.then(() => this.replayRetained(session, tab, replay), ignore)
  }

  /**
   * Gives a tab that joined filters the connection held already their retained messages, which
   * the broker sent once, to the first tab: those still current, each once, naming the tab's
   * subscriptions it matches that are still there.
   */
  private replayRetained(session: Session, tab: Tab, replay: Map<IncomingPublishPacket, SharedSubscription[]>): void {
    for (const [packet, subs] of replay) {
      if (!session.retained.current(packet)) continue
      const still = subs.filter((s) => tab.subs.has(s.sub))
      if (still.length === 0) continue
      const qos = Math.max(...still.map((s) => s.qos)) as QoS
      this.post(tab, { type: 'message', packet: atMostQos(packet, qos), subs: still.map((s) => s.sub) })
    }
  }

  /**
   * One SUBSCRIBE for the filters new to the connection or asked at a higher QoS than it holds
   * them. When a filter's highest-QoS user leaves, its QoS is kept rather than lowered: another
   * SUBSCRIBE would cost a round trip and make the broker send its retained messages to every
   * tab again, and each tab still gets messages at no more than the QoS it asked (atMostQos).
   */
  private sendSubscribe(session: Session, subscriptions: Subscription[], properties: SubscribeProperties | undefined): void {
    const map: SubscriptionMap = {}
    for (const { topic, ...options } of subscriptions) map[topic] = subscribeOptions(options)
    const sent = attempt(() => session.client.subscribe(map, properties && { properties }))
    for (const { topic, qos } of subscriptions) {
      const filter = session.filters.get(topic) ?? this.addFilter(session, topic)
      const grant = grantOf(sent, topic)
      filter.qos = qos
      filter.grant = grant
      grant.then(
        (granted) => (isFailure(granted.qos) ? fallBack(filter, grant) : hold(filter, grant, granted)),
        () => fallBack(filter, grant),
      )
    }
  }

  /**
   * What the tab's subscribe resolves with, as an unshared client's would: each filter's grant at
   * no more than the QoS the tab asked (the broker granted the highest any tab asked). A refused
   * filter rejects it with a SubscribeError naming the tab's own filters; any other failure with
   * that failure. The failed subscriptions are dropped.
   */
  private async grantedTo(session: Session, tab: Tab, subscriptions: SharedSubscription[], grants: Array<Promise<Granted>>): Promise<Granted[]> {
    const settled = await Promise.allSettled(grants)
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failure) {
      for (const s of subscriptions) this.forget(session, tab, s.sub)
      throw failure.reason
    }
    const granted = settled.map((r, i) => grantedAsked((r as PromiseFulfilledResult<Granted>).value, subscriptions[i] as SharedSubscription))
    const refused = granted.filter((g) => isFailure(g.qos))
    if (refused.length === 0) return granted
    subscriptions.forEach((s, i) => isFailure(granted[i]?.qos) && this.forget(session, tab, s.sub))
    throw new SubscribeError(
      granted.map(({ topic, qos }) => ({ topic, qos })),
      refused[0]?.properties,
    )
  }

  private unsubscribe(tab: Tab, session: Session, { id, filters, subs }: UnsubscribeMessage): void {
    const had = filters.map((f) => [...tab.subs.values()].some((s) => s.filter === f))
    const released = [...tab.subs].filter(([sub, s]) => filters.includes(s.filter) && (!subs || subs.includes(sub)))
    const unused = new Set<string>()
    for (const [sub] of released) {
      const filter = this.unbind(session, tab, sub)
      if (filter !== undefined) unused.add(filter)
    }
    // A filter nobody held goes to the broker too, as an unshared client's would (it may hold it from a kept session).
    const toBroker = [...new Set(filters.filter((f) => unused.has(f) || !session.filters.has(f)))]
    for (const f of unused) this.removeFilter(session, f)
    const sent = toBroker.length > 0 ? attempt(() => session.client.unsubscribe(toBroker)) : Promise.resolve({ reasonCodes: [] })
    this.answer(
      tab,
      id,
      sent.then((result) => unsubscribed(session.client.protocolVersion, filters, toBroker, had, result)),
    )
  }

  private addFilter(session: Session, topic: string): Filter {
    const filter: Filter = { users: new Map(), qos: -1, grant: Promise.resolve({ topic, qos: 0 }), held: undefined }
    session.filters.set(topic, filter)
    if (hasWildcard(topic) || topic.startsWith('$share/')) session.patterns.add(topic)
    return filter
  }

  private removeFilter(session: Session, topic: string): void {
    session.filters.delete(topic)
    session.patterns.delete(topic)
    session.retained.keepOnly(session.filters.keys())
  }

  /** Records a tab's subscription on a filter the connection has (sent or granted). */
  private bind(session: Session, tab: Tab, { sub, topic, qos }: SharedSubscription): void {
    const filter = session.filters.get(topic) as Filter
    tab.subs.set(sub, { filter: topic, qos })
    const users = filter.users.get(tab) ?? new Set()
    filter.users.set(tab, users.add(sub))
  }

  /** Drops a tab's subscription; the filter's name when that was its last user, for the caller to unsubscribe. */
  private unbind(session: Session, tab: Tab, sub: SubscriptionId): string | undefined {
    const s = tab.subs.get(sub)
    if (!s) return undefined
    tab.subs.delete(sub)
    const filter = session.filters.get(s.filter)
    const users = filter?.users.get(tab)
    if (!filter || !users) return undefined
    users.delete(sub)
    if (users.size === 0) filter.users.delete(tab)
    return filter.users.size === 0 ? s.filter : undefined
  }

  /**
   * Drops a subscription whose SUBSCRIBE failed. A filter left with no user is unsubscribed only
   * if the broker holds it from an earlier grant: one it never granted needs no UNSUBSCRIBE.
   */
  private forget(session: Session, tab: Tab, sub: SubscriptionId): void {
    const unused = this.unbind(session, tab, sub)
    if (unused === undefined) return
    const held = session.filters.get(unused)?.held
    this.removeFilter(session, unused)
    if (held) attempt(() => session.client.unsubscribe([unused])).catch(ignore)
  }

  // ---- messages ----

  /** Posts a message once to each tab that has a matching subscription, naming all of them. */
  private route(session: Session, packet: IncomingPublishPacket): void {
    const reached = new Map<Tab, { subs: SubscriptionId[]; qos: QoS }>()
    const exact = session.patterns.has(packet.topic) ? undefined : session.filters.get(packet.topic)
    if (exact) reach(reached, exact)
    for (const pattern of session.patterns) {
      const filter = session.filters.get(pattern)
      if (filter && matchTopic(pattern, packet.topic)) reach(reached, filter)
    }
    // A retained message is kept for tabs that join later, as bytes of its own (a view would keep its whole frame).
    const retained = packet.retain ? deliverablePacket(packet) : undefined
    session.retained.seen(retained ?? packet, Date.now())
    if (reached.size === 0) return
    // Not transferred: the same bytes go to every tab, and the browser copies them once per tab.
    const delivered = retained ?? deliverablePacket(packet)
    for (const [tab, { subs, qos }] of reached) this.post(tab, { type: 'message', packet: atMostQos(delivered, qos), subs })
  }

  private broadcast(session: Session, event: SharedEvent): void {
    const message: HostMessage = { type: 'event', snapshot: snapshotOf(session.client), event }
    for (const tab of session.tabs) this.post(tab, message)
  }

  // ---- answers and leaving ----

  /** Answers the tab's request with its outcome once it settles, unless the tab has left by then. */
  private answer(tab: Tab, id: RequestId, outcome: Promise<RequestResult>): void {
    tab.pending.add(id)
    outcome.then(
      (value) => this.settle(tab, id, { type: 'result', id, value }),
      (error: unknown) => this.settle(tab, id, { type: 'failure', id, error: serializeError(error) }),
    )
  }

  private settle(tab: Tab, id: RequestId, message: HostMessage): void {
    if (!tab.pending.delete(id)) return
    this.post(tab, message)
    if (tab.ending && tab.pending.size === 0) this.finishEnd(tab, tab.ending)
  }

  private refuse(tab: Tab, id: RequestId | undefined, error: unknown): void {
    const serialized = serializeError(error)
    this.post(tab, id === undefined ? { type: 'refused', error: serialized } : { type: 'failure', id, error: serialized })
  }

  /** A graceful end waits for the tab's requests to settle (its timeout is the tab's: a forced end); a forced one does not. */
  private end(tab: Tab, { id, options = {} }: EndMessage): void {
    tab.ending ??= { ids: [], options }
    tab.ending.ids.push(id)
    tab.ending.options = options
    if (options.force === true || tab.pending.size === 0) this.finishEnd(tab, tab.ending)
  }

  private finishEnd(tab: Tab, { ids, options }: { ids: RequestId[]; options: EndOptions }): void {
    this.leave(tab, options).then(
      () => ids.forEach((id) => this.post(tab, { type: 'result', id, value: undefined })),
      (error: unknown) => ids.forEach((id) => this.refuse(tab, id, error)),
    )
  }

  /**
   * The tab leaves: its pending requests are forgotten and its subscriptions released, the
   * filters nobody else uses unsubscribed. The last tab ends the connection instead, with its
   * end()'s options; the Promise settles when the connection has closed.
   */
  private leave(tab: Tab, options: EndOptions): Promise<void> {
    if (this.tabs.get(tab.id) === tab) this.tabs.delete(tab.id)
    tab.pending.clear()
    const session = tab.session
    if (!session) return Promise.resolve()
    tab.session = undefined
    session.tabs.delete(tab)
    const unused = [...tab.subs.keys()].map((sub) => this.unbind(session, tab, sub)).filter((f) => f !== undefined)
    if (session.tabs.size === 0) return this.close(session, options)
    for (const f of unused) this.removeFilter(session, f)
    if (unused.length > 0) attempt(() => session.client.unsubscribe(unused)).catch(ignore)
    return Promise.resolve()
  }

  /**
   * Ends a connection no tab uses. Should its end() refuse the options (the tab checks them,
   * but a tab of another build may not), the client is ended by force all the same: no tab is
   * left to end it later.
   */
  private close(session: Session, options: EndOptions): Promise<void> {
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key)
    return attempt(() => session.client.end(options)).catch((error: unknown) => {
      attempt(() => session.client.end({ force: true })).catch(ignore)
      throw error
    })
  }

  /** Posts to a tab; a port that fails (closed, or a value it cannot clone) must not stop the host serving the others. */
  private post(tab: Tab, message: HostMessage): void {
    try {
      tab.port.post(message)
    } catch {
      // Nothing to tell the tab through a port that failed.
    }
  }
}

/** A call whose throw becomes a rejection, so a fake or a future client that throws cannot break the host. */
function attempt<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call()
  } catch (err) {
    return Promise.reject(err)
  }
}

function snapshotOf(client: HostedClient): ClientSnapshot {
  const snapshot: ClientSnapshot = { state: client.state, clientId: client.clientId, protocolVersion: client.protocolVersion }
  const connack = client.connack
  if (connack) snapshot.connack = connack
  return snapshot
}

/** A tab's numbers for its new subscriptions must be new to it, or deliveries would name two subscriptions alike. */
function checkNewNumbers(tab: Tab, subscriptions: SharedSubscription[]): void {
  const seen = new Set<SubscriptionId>()
  for (const { sub } of subscriptions) {
    if (tab.subs.has(sub) || seen.has(sub)) throw new InvalidArgumentError(`subscription number ${sub} is in use in this tab`)
    seen.add(sub)
  }
}

/** The options of one filter in subscribe's filter -> options form: only those given, as 3.1.1 refuses nl, rap and rh. */
function subscribeOptions({ qos, nl, rap, rh }: Omit<Subscription, 'topic'>): SubscribeOptions {
  const options: SubscribeOptions = { qos }
  if (nl !== undefined) options.nl = nl
  if (rap !== undefined) options.rap = rap
  if (rh !== undefined) options.rh = rh
  return options
}

/**
 * One filter's part of a SUBSCRIBE's outcome: its grant, or its refusal code (a SubscribeError
 * names each filter's code); any other failure rejects.
 */
function grantOf(sent: Promise<Granted[]>, topic: string): Promise<Granted> {
  return sent.then(
    // A SUBACK has a code for every filter; one missing from a client's answer counts as refused.
    (granted) => granted.find((g) => g.topic === topic) ?? { topic, qos: 0x80 },
    (error: unknown) => {
      const code = error instanceof SubscribeError ? error.granted.find((g) => g.topic === topic) : undefined
      if (!code) throw error
      const { properties } = error as SubscribeError
      return properties ? { ...code, properties } : { ...code }
    },
  )
}

/** A filter's latest SUBSCRIBE was granted: the broker holds it so, until a later one says otherwise. */
function hold(filter: Filter, grant: Promise<Granted>, granted: Granted): void {
  if (filter.grant === grant) filter.held = granted
}

/**
 * A filter whose latest SUBSCRIBE failed falls back to what the broker holds for it, if
 * anything, so the next tab that asks sends another rather than wait on the failure.
 */
function fallBack(filter: Filter, failed: Promise<Granted>): void {
  if (filter.grant !== failed) return
  const held = filter.held
  filter.qos = held ? held.qos : -1
  if (held) filter.grant = Promise.resolve(held)
}

/** A grant as the tab sees it: no higher than the QoS it asked, as the broker would have granted it alone. */
function grantedAsked(granted: Granted, asked: SharedSubscription): Granted {
  const qos = isFailure(granted.qos) ? granted.qos : Math.min(granted.qos, asked.qos)
  return { ...granted, topic: asked.topic, qos }
}

/**
 * The retained messages each of a tab's subscriptions to filters held already is due, as a broker
 * would send them on its SUBSCRIBE: none with Retain Handling 2 (send none at subscribe).
 */
function retainedFor(session: Session, joining: SharedSubscription[]): Map<IncomingPublishPacket, SharedSubscription[]> {
  const due = new Map<IncomingPublishPacket, SharedSubscription[]>()
  const now = Date.now()
  for (const s of joining) {
    if (s.rh === 2 || !session.filters.has(s.topic)) continue
    for (const packet of session.retained.matching(s.topic, now)) due.set(packet, [...(due.get(packet) ?? []), s])
  }
  return due
}

function reach(reached: Map<Tab, { subs: SubscriptionId[]; qos: QoS }>, filter: Filter): void {
  for (const [tab, subs] of filter.users) {
    let delivery = reached.get(tab)
    if (!delivery) reached.set(tab, (delivery = { subs: [], qos: 0 }))
    for (const sub of subs) {
      delivery.subs.push(sub)
      delivery.qos = Math.max(delivery.qos, tab.subs.get(sub)?.qos ?? 0) as QoS
    }
  }
}

/**
 * What an unsubscribe resolves with for the tab: on MQTT 5 one code per filter it named, the
 * broker's where the connection unsubscribed, success where other tabs still use it, and "no
 * subscription existed" where the tab had none; on 3.1.1 none, as from the broker.
 */
function unsubscribed(version: 4 | 5, filters: string[], toBroker: string[], had: boolean[], result: UnsubscribeResult): UnsubscribeResult {
  if (version !== 5) return result
  const reasonCodes = filters.map((f, i) => {
    const at = toBroker.indexOf(f)
    return at >= 0 ? (result.reasonCodes[at] ?? 0) : had[i] ? 0 : NO_SUBSCRIPTION_EXISTED
  })
  return result.properties ? { reasonCodes, properties: result.properties } : { reasonCodes }
}
