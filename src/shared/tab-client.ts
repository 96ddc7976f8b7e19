/**
 * The tab's side of a shared connection: {@link SharedClient}, a client with MqttClient's whole
 * surface whose connection runs in a host (a SharedWorker, or the leader tab) that it reaches
 * through a {@link HostLink}. It checks every request here, with the same checks and typed errors
 * as MqttClient, so bad input never crosses; keeps its own handlers and message streams, which
 * the host's deliveries name by number; and settles each Promise from the host's answer, the
 * host's errors rebuilt as their classes.
 */
import type { ConnackPacket, IncomingPublishPacket, SubscribeProperties, Subscription } from '../codec/packets.js'
import type { MqttClientApi } from '../client/api.js'
import { TypedEmitter } from '../client/emitter.js'
import { type ClientState, type MqttClientEvents, shownOptions } from '../client/events.js'
import { Message, type MessageHandler } from '../client/message.js'
import { RequestResponse, type RequestOptions, type Responder } from '../client/request-response.js'
import { ClientClosedError, ConnectionClosedError, InvalidArgumentError, ProtocolError, SubscribeError } from '../errors.js'
import { refuseCallbacks } from '../input/callbacks.js'
import type { UrlProvider } from '../input/credentials.js'
import { type ClientOptions, randomHex, type ResolvedOptions, resolveOptions } from '../input/options.js'
import type { Payload } from '../input/payload.js'
import {
  buildFarewell,
  buildPublish,
  buildStream,
  buildSubscriptions,
  buildUnsubscriptions,
  type EndOptions,
  type MessagesOptions,
  type PublishOptions,
  type SubscribeOptions,
  type SubscriptionMap,
} from '../input/requests.js'
import type { NextReconnect, ProtocolStats } from '../protocol/protocol.js'
import { type Granted, isFailure, type PublishResult, type UnsubscribeResult } from '../protocol/reason-codes.js'
import { MessageIterator, type MessageStream } from '../routing/message-iterator.js'
import type { Sink } from '../routing/router.js'
import {
  type ClientSnapshot,
  type HostMessage,
  rebuildError,
  type RequestId,
  type RequestResult,
  type SharedClientOptions,
  type SharedEvent,
  sharedKeyOf,
  type SharedSubscription,
  type SubscribeMessage,
  type SubscriptionId,
  type TabId,
  type TabMessage,
  WIRE_VERSION,
} from './wire.js'

/**
 * A shared client's options: the client's own, and which shared connection to use. `shared` and
 * `sharedKey` live here, not in ClientOptions, so that the script-tag build of a client that does
 * not share carries nothing of sharing (its size budget had 52 bytes left).
 */
export type SharedOptions = ClientOptions & {
  /** How to share: true (or 'worker') in a SharedWorker, 'leader' in one of the tabs; default true. */
  shared?: boolean | 'worker' | 'leader'
  /**
   * Which shared connection: tabs giving the same key share one. Default: the URL and the
   * clientId given (not one made up), so tabs asking for the same broker as the same client share it.
   */
  sharedKey?: string
}

/** `shared` and `sharedKey`, checked as resolveOptions checks the rest. */
function checkSharing({ shared, sharedKey }: { shared?: unknown; sharedKey?: unknown }): void {
  if (shared !== undefined && shared !== true && shared !== 'worker' && shared !== 'leader') {
    throw new InvalidArgumentError(`shared must be true, 'worker' or 'leader' for a shared client, not ${JSON.stringify(shared) ?? String(shared)}`)
  }
  if (sharedKey !== undefined && (typeof sharedKey !== 'string' || sharedKey === '')) throw new InvalidArgumentError('sharedKey must be a non-empty string')
}

/**
 * How a tab reaches the host of its shared connection: a MessagePort (the SharedWorker's, or
 * one of a MessageChannel to the leader tab), or a BroadcastChannel adapter addressed to the host.
 * Messages must arrive in order, as structured clones. The first message a client posts on a
 * link is always its hello, which names its tab id: a host that learns tabs by port can
 * `addTab(hello.tab, port)` on it.
 */
export interface HostLink {
  /** Sends the host a message. */
  post(message: TabMessage): void
  /** Takes the handler of every message the host sends this tab; called once, by the client's constructor. */
  onMessage(handler: (message: HostMessage) => void): void
  /** Lets the link go: called once the client is closed. */
  close(): void
  /**
   * Takes the handler to call when the host goes away without a word (the worker failed, the
   * leader tab closed), where the link can tell: the client then fails what is pending and
   * closes. A link that cannot tell leaves it out; its wiring calls {@link SharedClient.hostLost}.
   */
  onClose?(handler: (error?: unknown) => void): void
  /**
   * Takes the handler to call when another host took over after the client's hello went out (a
   * new leader tab): the client then attaches to it as it was (see {@link SharedClient.hostChanged}).
   * A link whose host cannot change leaves it out.
   */
  onHostChanged?(handler: () => void): void
}

/** Options that name something only this context has: a function, a class or a store cannot be cloned to the host. */
const CANNOT_CROSS = {
  credentials: 'the credentials hook is a function, which cannot be sent to the shared host',
  onAuth: 'the onAuth hook is a function, which cannot be sent to the shared host',
  store: 'a store cannot be sent to the shared host, which keeps its own queue',
  WebSocket: 'a WebSocket class cannot be sent to the shared host, which connects with its global WebSocket',
} as const satisfies Partial<Record<keyof ClientOptions, string>>

/**
 * Stands in for the WebSocket in the options the tab checks: resolveOptions asks for one, and the
 * tab opens none (the host connects with its own), so one that would be called is an error.
 */
const NO_SOCKET = class {
  constructor() {
    throw new InvalidArgumentError('a shared client opens no WebSocket: its host connects')
  }
} as unknown as NonNullable<ClientOptions['WebSocket']>

/** A request of this tab awaiting the host's answer. */
interface Pending {
  resolve(value: RequestResult): void
  reject(error: Error): void
  /** An end() is answered when the tab has left; it is not failed by a forced end as requests are. */
  readonly ends: boolean
  /** What was posted for it: sent again to a new host, which never heard it or whose answer was lost with the last. */
  readonly message: TabMessage
}

/** One of this tab's subscriptions: its filter, and the handler or stream its messages go to. */
interface TabSubscription {
  readonly filter: string
  readonly sink: Sink<Message> | undefined
  /** The filter's options and the SUBSCRIBE properties it was asked with: a new host is asked for it the same way. */
  readonly asked: Subscription
  readonly properties: SubscribeProperties | undefined
}

/** Where the client is in its own life, apart from the connection's state the host reports. */
type Phase = 'unopened' | 'open' | 'ending' | 'closed'

const NO_STATS: ProtocolStats = Object.freeze({ queued: 0, inFlight: 0, awaitingRelease: 0, unknownAcks: 0 })

const ignore = (): void => undefined

/**
 * A client whose connection is shared with other tabs (`connect(url, { shared: true })`): the
 * same calls, Promises, events and typed errors as {@link MqttClient}, carried out by a host.
 *
 * What differs, as one connection serves many tabs:
 * - the connection runs on the options of the first tab that asked for it; `options` shows this
 *   tab's (its WebSocket a stand-in that opens nothing), and `clientId` is this tab's clientId
 *   option (or '') until the host has said the connection's;
 * - ending this tab (end(), detach(), its host gone) emits 'close' (when it was connected) and
 *   'end' in this tab only; the connection ends with its last tab;
 * - the 'message' event hears only the messages this tab's subscriptions match; 'packetsend' and
 *   'packetreceive' are never emitted;
 * - a tab that joins a connection already up hears 'connect' once, with its CONNACK;
 * - `stats` is all zeros and `nextReconnect` undefined: the queues and the reconnect plan are the
 *   host's, and the wire does not carry them;
 * - `reauthenticate()` rejects with ProtocolError; `open()` on an open client does nothing;
 * - `end({ force: true })` after a graceful end() still forces it.
 */
export class SharedClient extends TypedEmitter<MqttClientEvents> implements MqttClientApi {
  /** This tab's options, defaults filled in, without the password or the URLs' userinfo and query. */
  readonly options: Readonly<Omit<ResolvedOptions, 'password'>>
  /** This client's id on the wire: the host counts subscriptions and answers requests by it. */
  readonly tabId: TabId = randomHex(8)
  /** Which shared connection this tab asks for (see the sharedKey option). */
  readonly sharedKey: string
  private readonly url: string
  private readonly config: ResolvedOptions
  private readonly helloOptions: SharedClientOptions
  private phase: Phase = 'unopened'
  /** What the host last said of the connection; until it has, the tab's own view of a client starting. */
  private snapshot: ClientSnapshot
  /** Messages of requests made before open(), posted after the hello. */
  private readonly unsent: TabMessage[] = []
  private readonly pending = new Map<RequestId, Pending>()
  private readonly subs = new Map<SubscriptionId, TabSubscription>()
  private nextRequest = 1
  private nextSub = 1
  private ending: Promise<void> | undefined
  private endSettled: { resolve(): void; reject(error: Error): void } | undefined
  private endTimer: ReturnType<typeof setTimeout> | undefined
  /** Made on the first request() or respond(). */
  private rpc: RequestResponse | undefined

  /**
   * Checks the options as MqttClient does, and refuses those that cannot cross to the host;
   * open() sends the hello.
   * @throws {@link InvalidArgumentError} (or {@link InvalidTopicError}, for the will's topic) on bad
   * options, and on a url function, credentials, onAuth, store or WebSocket, saying why
   */
  constructor(
    private readonly link: HostLink,
    url: string | UrlProvider,
    options: SharedOptions = {},
  ) {
    super()
    this.helloOptions = crossingOptions(url, options)
    checkSharing(options)
    this.url = url as string
    // The key is the caller's: resolveOptions makes up a client id where none was given, and a random id per tab would share nothing.
    this.sharedKey = sharedKeyOf(this.url, options)
    const { shared: _shared, sharedKey: _key, ...own } = options
    this.config = resolveOptions(url, { ...own, WebSocket: NO_SOCKET })
    this.options = Object.freeze(shownOptions(this.config))
    const version = this.config.protocolVersion === 4 ? 4 : 5
    this.snapshot = { state: 'connecting', clientId: options.clientId ?? '', protocolVersion: version }
    link.onMessage((message) => this.received(message))
    link.onClose?.((error) => this.hostLost(error))
    link.onHostChanged?.(() => this.hostChanged())
  }

  /** The state the host last reported, or 'closed' once this tab has ended (or lost its host). */
  get state(): ClientState {
    return this.phase === 'closed' ? 'closed' : this.snapshot.state
  }

  /** Whether the shared connection is up now (state 'connected'). */
  get connected(): boolean {
    return this.state === 'connected'
  }

  /** The shared connection's client id, as the host reported it; this tab's clientId option (or '') until then. */
  get clientId(): string {
    return this.snapshot.clientId
  }

  /** The CONNACK of the shared connection's current (or last) connection. */
  get connack(): ConnackPacket | undefined {
    return this.snapshot.connack
  }

  /** The MQTT version the shared connection speaks; until the host has said, the one this tab's options ask for. */
  get protocolVersion(): 4 | 5 {
    return this.snapshot.protocolVersion
  }

  /** All zeros: the queues and tables are the host's, and the wire does not carry their sizes. */
  get stats(): ProtocolStats {
    return { ...NO_STATS }
  }

  /** Always undefined: the reconnect plan is the host's, and the wire does not carry it (watch state and the events). */
  get nextReconnect(): NextReconnect | undefined {
    return undefined
  }

  /**
   * Sends the hello, then the requests made before it. Called by connectShared(); on an open
   * client it does nothing (the host's client reconnects by its own plan).
   * @returns this client
   */
  open(): this {
    if (this.phase !== 'unopened') return this
    this.phase = 'open'
    this.post(this.hello())
    for (const message of this.unsent.splice(0)) this.post(message)
    return this
  }

  /**
   * Another host took over (a new leader tab, the last one gone): this tab attaches to it as it
   * was. It says hello again, naming the connection's client id when the caller gave none so the
   * new host's client resumes the same broker session; subscribes again to its live
   * subscriptions under the same numbers, so handlers and streams go on; and sends again every
   * request still unanswered, as the last host may have taken it and gone before answering. A
   * publish the last host had sent may so reach the broker twice, at QoS 2 too (the new
   * connection cannot go on with the last one's packet ids); one it answered is not sent again.
   * The link calls this (see {@link HostLink.onHostChanged}).
   */
  hostChanged(): void {
    if (this.phase !== 'open' && this.phase !== 'ending') return
    const wasConnected = this.snapshot.state === 'connected'
    this.snapshot = { ...this.snapshot, state: 'connecting' }
    if (wasConnected) {
      this.emit('close')
      this.emit('offline')
    }
    const unanswered = [...this.pending]
    this.post(this.hello())
    // A subscription whose subscribe is unanswered is in the request sent again below.
    const inRequests = new Set(unanswered.flatMap(([, { message }]) => (message.type === 'subscribe' ? message.subscriptions.map((s) => s.sub) : [])))
    if (this.phase === 'open') this.resubscribe(inRequests)
    for (const [id, p] of unanswered) this.send(p.message, id)
  }

  /** The hello: on attaching again, naming the connection's client id where the caller gave none. */
  private hello(): TabMessage {
    const { tabId: tab, sharedKey: key, url, helloOptions } = this
    const known = helloOptions.clientId === undefined && this.snapshot.clientId !== ''
    const options = known ? { ...helloOptions, clientId: this.snapshot.clientId } : helloOptions
    return { type: 'hello', wire: WIRE_VERSION, tab, key, url, options }
  }

  /**
   * Asks a new host for this tab's live subscriptions, one subscribe per set of SUBSCRIBE
   * properties they were asked with. One the broker now refuses is dropped, its stream ended.
   */
  private resubscribe(skip: Set<SubscriptionId>): void {
    const groups = new Map<SubscribeProperties | undefined, SharedSubscription[]>()
    for (const [sub, s] of this.subs) {
      if (skip.has(sub)) continue
      const group = groups.get(s.properties) ?? []
      groups.set(s.properties, group)
      group.push({ ...s.asked, sub })
    }
    for (const [properties, subscriptions] of groups) {
      const message = (id: RequestId): SubscribeMessage => {
        const sent: SubscribeMessage = { type: 'subscribe', id, subscriptions }
        if (properties) sent.properties = { ...properties }
        return sent
      }
      this.ask(message, false).catch((error: unknown) => {
        this.dropRefused(subscriptions.map((s) => s.sub), error, true)
        this.report(error)
      })
    }
  }

  /**
   * Publishes a message on the shared connection; see MqttClient.publish. Resolves when the host's
   * client settles it: at QoS 0 once written, at QoS 1 on PUBACK, at QoS 2 on PUBCOMP.
   * @throws (as a rejection; nothing is posted) {@link InvalidTopicError} or
   * {@link InvalidArgumentError} for bad arguments; {@link ClientClosedError} once ending
   * @throws (as a rejection, later) what the host's client rejects with, as its class
   */
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined> {
    const args = arguments
    return this.operation(
      () => {
        refuseCallbacks('publish', args)
        return buildPublish(topic, payload, options, this.protocolVersion)
      },
      (packet, id) => {
        const sent: PublishOptions = { qos: packet.qos, retain: packet.retain }
        if (packet.properties) sent.properties = packet.properties
        return { type: 'publish', id, topic: packet.topic, payload: ownBytes(packet.payload), options: sent }
      },
    ) as Promise<PublishResult | undefined>
  }

  /**
   * Subscribes on the shared connection; see MqttClient.subscribe. The host sends a SUBSCRIBE only
   * for a filter the connection does not hold at the QoS asked; the grants are as this tab asked.
   * @param target - a filter, a list of filters, or filter -> options
   * @param handler - gets each message the filters match
   * @throws (as a rejection; nothing is posted) {@link InvalidTopicError} or {@link InvalidArgumentError}
   * @throws (as a rejection, later) {@link SubscribeError} when the broker refuses a filter, or what
   * else the host's client rejects with
   */
  subscribe(target: string | string[] | SubscriptionMap, handler?: MessageHandler): Promise<Granted[]>
  /**
   * Subscribes with options: see the overload above.
   * @param options - QoS (default 0) for every filter a string or a list names; MQTT 5 nl, rap, rh and properties
   */
  subscribe(target: string | string[] | SubscriptionMap, options?: SubscribeOptions, handler?: MessageHandler): Promise<Granted[]>
  subscribe(
    target: string | string[] | SubscriptionMap,
    optionsOrHandler?: SubscribeOptions | MessageHandler,
    maybeHandler?: MessageHandler,
  ): Promise<Granted[]> {
    const handler = typeof optionsOrHandler === 'function' ? optionsOrHandler : maybeHandler
    const options = typeof optionsOrHandler === 'function' ? undefined : optionsOrHandler
    const args = arguments
    return this.subscribeWith(target, options, handler, [], () => refuseCallbacks('subscribe', args))
  }

  /**
   * Unsubscribes this tab from one or more filters; their handlers and message streams stop at
   * once. The connection unsubscribes only from filters no other tab uses.
   * @throws (as a rejection; nothing is posted) {@link InvalidTopicError} or {@link InvalidArgumentError}
   */
  unsubscribe(target: string | string[]): Promise<UnsubscribeResult> {
    const args = arguments
    return this.operation(
      () => {
        refuseCallbacks('unsubscribe', args)
        return buildUnsubscriptions(target)
      },
      (filters, id) => {
        for (const [sub, s] of this.subs) if (filters.includes(s.filter)) this.dropSub(sub, true)
        return { type: 'unsubscribe', id, filters }
      },
    ) as Promise<UnsubscribeResult>
  }

  /**
   * Messages on `filter`, as an async iterator; see MqttClient.messages. Each stream is a
   * subscription of its own in the host, so a `break` releases only it: the connection keeps the
   * filter while anything else uses it. Ends when the client ends.
   */
  messages(filter: string, options: MessagesOptions = {}): MessageStream<Message> {
    let stream: ReturnType<typeof buildStream>
    try {
      stream = buildStream(options)
    } catch (err) {
      return MessageIterator.failed(err)
    }
    const subs: SubscriptionId[] = []
    const iterator: MessageIterator<Message> = new MessageIterator(
      () => this.releaseStream(filter, subs),
      { limit: stream.bufferLimit, overflow: stream.overflow, filter },
    )
    this.subscribeWith(filter, stream.subscribe, iterator, subs).catch((err: unknown) => iterator.fail(err))
    return iterator
  }

  /**
   * Publishes a request and resolves with its reply; see MqttClient.request. The reply topic is
   * this tab's own, so replies reach this tab only.
   */
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<Message> {
    return this.requestResponse().request(topic, payload, options)
  }

  /** Answers requests on `filter` from this tab; see MqttClient.respond. */
  respond(filter: string, responder: Responder, options?: SubscribeOptions): Promise<Granted[]> {
    return this.requestResponse().respond(filter, responder, options)
  }

  /**
   * Not available on a shared connection: the wire between tabs and host has no message for it
   * (and onAuth, which answers the broker's challenges, cannot cross to the host).
   * @throws (as a rejection) {@link ProtocolError}; {@link ClientClosedError} once ending
   */
  reauthenticate(_authenticationData?: Uint8Array): Promise<undefined> {
    const refusal = this.refusal()
    if (refusal) return Promise.reject(refusal)
    return Promise.reject(new ProtocolError('reauthenticate() is not available on a shared connection'))
  }

  /**
   * Ends this tab's use of the shared connection; the connection itself ends (with these
   * options) when this was its last tab. Graceful by default: the host first settles this tab's
   * requests, for up to endTimeout, after which the end is forced. With `force`, this tab's
   * pending requests reject with ClientClosedError at once. Resolves once the host has answered
   * (or is gone); rejects with InvalidArgumentError on bad options, as MqttClient's does.
   */
  end(options: EndOptions = {}): Promise<void> {
    try {
      refuseCallbacks('end', arguments)
      buildFarewell(options, this.protocolVersion)
    } catch (err) {
      return Promise.reject(err)
    }
    const force = options.force === true
    if (this.ending) {
      if (force && this.phase === 'ending') this.forceEnd(options)
      return this.ending
    }
    this.ending = new Promise<void>((resolve, reject) => (this.endSettled = { resolve, reject }))
    if (this.phase === 'unopened') {
      // No host knows this tab yet: there is nobody to tell.
      this.closeDown(new ClientClosedError())
      return this.ending
    }
    if (this.phase === 'closed') {
      this.endSettled?.resolve()
      return this.ending
    }
    this.phase = 'ending'
    if (force) this.forceEnd(options)
    else {
      this.askEnd(options)
      this.endTimer = setTimeout(() => this.forceEnd({ ...options, force: true }), this.config.endTimeout)
    }
    return this.ending
  }

  /**
   * The tab is going (`pagehide`, `beforeunload`): tells the host at once, without waiting for an
   * answer that could not arrive, and closes; pending requests reject with ClientClosedError.
   * Call it from the page's unload so a SharedWorker host, which cannot tell a closed tab's port
   * from an idle one, releases this tab's subscriptions now.
   */
  detach(): void {
    if (this.phase === 'closed') return
    if (this.phase !== 'unopened') this.post({ type: 'bye' })
    this.closeDown(new ClientClosedError('The tab left the shared connection'))
  }

  /**
   * The host went away without a word (the link's wiring noticed: a SharedWorker's error, the
   * leader tab gone): pending requests reject with ConnectionClosedError, handlers and streams
   * end, and the client closes ('error', then 'close' if it was connected, then 'end').
   */
  hostLost(cause?: unknown): void {
    this.lose(new ConnectionClosedError("The shared connection's host went away", cause === undefined ? undefined : { cause }))
  }

  /** Nothing more can come from the host: the error is reported and fails what is pending. */
  private lose(error: Error): void {
    if (this.phase === 'closed') return
    this.report(error)
    this.closeDown(error)
  }

  // ---- requests ----

  /**
   * Runs a caller request as MqttClient.operation does: refused when ending or given up, rejected
   * by the checks in `build`; in either case nothing is posted. Otherwise `message` makes what is
   * posted, and the host's answer settles the Promise.
   */
  private operation<T>(build: () => T, message: (request: T, id: RequestId) => TabMessage): Promise<RequestResult> {
    const refusal = this.refusal()
    if (refusal) return Promise.reject(refusal)
    let request: T
    try {
      request = build()
    } catch (err) {
      return Promise.reject(err)
    }
    return this.ask((id) => message(request, id), false)
  }

  private ask(message: (id: RequestId) => TabMessage, ends: boolean): Promise<RequestResult> {
    const id = this.nextRequest++
    return new Promise<RequestResult>((resolve, reject) => {
      const sent = message(id)
      this.pending.set(id, { resolve, reject, ends, message: sent })
      this.send(sent, id)
    })
  }

  /** Posts now, or after the hello when not opened yet; a post that throws (a value that cannot be cloned) fails its request. */
  private send(message: TabMessage, id: RequestId): void {
    if (this.phase === 'unopened') return void this.unsent.push(message)
    try {
      this.link.post(message)
    } catch (err) {
      this.settle(id, (p) => p.reject(err instanceof Error ? err : new Error(String(err))))
    }
  }

  private post(message: TabMessage): void {
    try {
      this.link.post(message)
    } catch (err) {
      this.report(err)
    }
  }

  /** Why no new request is taken now, as Protocol.refusal says it for MqttClient. */
  private refusal(): Error | undefined {
    if (this.phase === 'ending' || this.phase === 'closed') return new ClientClosedError('Client is ending: no new operations are accepted')
    if (this.snapshot.state === 'disconnected') return new ConnectionClosedError('Client is disconnected and will not reconnect')
    return undefined
  }

  /**
   * A subscribe of `sink` to the filters of `target`. Its subscriptions are this tab's before
   * the message is posted, so retained messages that come with the grant find their handler;
   * their numbers go into `subs`. Those the host refused are dropped.
   */
  private subscribeWith(
    target: unknown,
    options: SubscribeOptions | undefined,
    sink: Sink<Message> | undefined,
    subs: SubscriptionId[],
    checkCall?: () => void,
  ): Promise<Granted[]> {
    const sent = this.operation(
      () => {
        checkCall?.()
        return buildSubscriptions(target, options, this.protocolVersion)
      },
      (built: Subscription[], id) => {
        const subscriptions = built.map((s) => ({ ...s, sub: this.addSub(s, sink, options?.properties) }))
        subs.push(...subscriptions.map((s) => s.sub))
        const message: SubscribeMessage = { type: 'subscribe', id, subscriptions }
        if (options?.properties) message.properties = { ...options.properties }
        return message
      },
    ) as Promise<Granted[]>
    return sent.catch((error: unknown) => {
      this.dropRefused(subs, error)
      throw error
    })
  }

  /** After a failed subscribe: a SubscribeError drops the refused filters' subscriptions, any other failure all of them, as the host does. */
  private dropRefused(subs: SubscriptionId[], error: unknown, endStreams = false): void {
    const refused = error instanceof SubscribeError ? new Set(error.granted.filter((g) => isFailure(g.qos)).map((g) => g.topic)) : undefined
    for (const sub of subs) {
      const s = this.subs.get(sub)
      if (s && (!refused || refused.has(s.filter))) this.dropSub(sub, endStreams)
    }
  }

  /** A stream stopped (break, or overflow under 'error'): its subscription goes, and only it, unless the client is ending. */
  private releaseStream(filter: string, subs: SubscriptionId[]): void {
    const sub = subs[0]
    if (sub === undefined || !this.subs.delete(sub) || this.refusal()) return
    this.ask((id) => ({ type: 'unsubscribe', id, filters: [filter], subs: [sub] }), false).catch(ignore)
  }

  private addSub(asked: Subscription, sink: Sink<Message> | undefined, properties: SubscribeProperties | undefined): SubscriptionId {
    const sub = this.nextSub++
    this.subs.set(sub, { filter: asked.topic, sink, asked: { ...asked }, properties })
    return sub
  }

  /** Forgets a subscription; its stream, if it had one, ends. */
  private dropSub(sub: SubscriptionId, endStream: boolean): void {
    const s = this.subs.get(sub)
    if (!s) return
    this.subs.delete(sub)
    if (endStream && s.sink && typeof s.sink !== 'function') s.sink.end()
  }

  private requestResponse(): RequestResponse {
    return (this.rpc ??= new RequestResponse(this, (err) => this.report(err)))
  }

  // ---- ending ----

  private askEnd(options: EndOptions): void {
    this.ask((id) => ({ type: 'end', id, options: endOptionsOf(options) }), true).then(
      () => this.closeDown(new ClientClosedError()),
      (error: Error) => {
        // The host has let this tab go all the same; the error says its DISCONNECT options were not used.
        this.closeDown(new ClientClosedError(), error)
      },
    )
  }

  /** Fails this tab's pending requests now, and asks the host to let the tab go without waiting for them. */
  private forceEnd(options: EndOptions): void {
    clearTimeout(this.endTimer)
    this.endTimer = undefined
    const closed = new ClientClosedError()
    for (const [id, p] of this.pending) {
      if (p.ends) continue
      this.pending.delete(id)
      p.reject(closed)
    }
    this.askEnd({ ...options, force: true })
    // A host that does not answer (a hung worker) must not hold the tab: after endTimeout it leaves as detach() does.
    this.endTimer = setTimeout(() => this.detach(), this.config.endTimeout)
  }

  /**
   * The client closes: what is pending rejects with `reason`, handlers and streams end, the link
   * goes, and an end() under way settles (rejecting with `endError` when the host refused it).
   */
  private closeDown(reason: Error, endError?: Error): void {
    if (this.phase === 'closed') return
    const wasConnected = this.connected
    this.phase = 'closed'
    clearTimeout(this.endTimer)
    this.endTimer = undefined
    this.unsent.length = 0
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const p of pending) p.reject(reason)
    this.endStreams()
    try {
      this.link.close()
    } catch {
      // A link that fails to close is gone already.
    }
    if (wasConnected) this.emit('close')
    this.emit('end')
    if (endError) this.endSettled?.reject(endError)
    else this.endSettled?.resolve()
  }

  /** Every handler and stream lets go: nothing will reach them again. */
  private endStreams(): void {
    const subs = [...this.subs.keys()]
    for (const sub of subs) this.dropSub(sub, true)
  }

  // ---- what the host sends ----

  private received(message: HostMessage): void {
    if (this.phase === 'closed') return
    switch (message.type) {
      case 'state':
        return this.joined(message.snapshot)
      case 'event':
        return this.heard(message.snapshot, message.event)
      case 'result':
        return this.settle(message.id, (p) => p.resolve(message.value))
      case 'failure':
        return this.settle(message.id, (p) => p.reject(rebuildError(message.error)))
      case 'message':
        return this.deliver(message.packet, message.subs)
      case 'refused': {
        // Only a hello goes unanswered by id: the host would not take this tab.
        const cause = rebuildError(message.error)
        return this.lose(new ConnectionClosedError(`The shared host refused this tab: ${cause.message}`, { cause }))
      }
    }
  }

  private settle(id: RequestId, how: (pending: Pending) => void): void {
    const pending = this.pending.get(id)
    if (!pending) return
    this.pending.delete(id)
    how(pending)
  }

  /** The hello was taken. A tab joining a connection already up hears 'connect' for it, as its own client would. */
  private joined(snapshot: ClientSnapshot): void {
    this.snapshot = snapshot
    if (snapshot.state === 'connected' && snapshot.connack) this.emit('connect', snapshot.connack)
  }

  private heard(snapshot: ClientSnapshot, event: SharedEvent): void {
    const gaveUp = snapshot.state === 'disconnected' && this.snapshot.state !== 'disconnected'
    this.snapshot = snapshot
    // Given up, as MqttClient's router clears: nothing will reach the handlers and streams again.
    if (gaveUp) this.endStreams()
    switch (event.name) {
      case 'connect':
        return void this.emit('connect', event.connack)
      case 'error':
        return this.report(rebuildError(event.error))
      case 'warning':
        return void this.emit('warning', event.warning)
      case 'disconnect':
        return void this.emit('disconnect', event.packet)
      case 'end':
        // The connection ended under this tab (a host ending it by force): nothing more can be done on it.
        return this.closeDown(new ClientClosedError('The shared connection was ended by its host'))
      default:
        return void this.emit(event.name)
    }
  }

  /** One delivery, to the 'message' event and then to each of this tab's subscriptions it names. */
  private deliver(packet: IncomingPublishPacket, subs: SubscriptionId[]): void {
    const message = new Message(packet)
    try {
      this.emit('message', message.topic, message.payload, packet)
    } catch (err) {
      this.report(err)
    }
    for (const sub of subs) {
      const sink = this.subs.get(sub)?.sink
      if (!sink) continue
      try {
        if (typeof sink === 'function') sink(message)
        else sink.deliver(message)
      } catch (err) {
        this.report(err)
      }
    }
  }

  /** A failure nobody awaits: a handler that threw, the connection's errors. */
  private report(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new Error(String(err)))
  }
}

/**
 * Makes the tab's client of a shared connection and sends its hello: what `connect(url, { shared })`
 * calls once it has a link to the host.
 * @throws {@link InvalidArgumentError} (or {@link InvalidTopicError}) on bad options or options that cannot cross
 */
export function connectShared(url: string | UrlProvider, options: SharedOptions, link: HostLink): SharedClient {
  return new SharedClient(link, url, options).open()
}

/**
 * The options the hello carries: the caller's, without `shared` and `sharedKey` (the host's
 * client is an ordinary one), checked to survive structured cloning. Those that cannot cross are
 * refused, saying why.
 */
function crossingOptions(url: string | UrlProvider, options: unknown): SharedClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object')
  if (typeof url === 'function') {
    throw new InvalidArgumentError('a shared connection needs the URL as a string: a url function cannot be sent to the shared host')
  }
  const given = options as SharedOptions
  for (const [key, why] of Object.entries(CANNOT_CROSS)) {
    if (given[key as keyof typeof CANNOT_CROSS] !== undefined) throw new InvalidArgumentError(`${key} cannot be given with shared: ${why}`)
  }
  const { shared: _shared, sharedKey: _key, credentials: _c, onAuth: _a, store: _s, WebSocket: _w, ...crossing } = given
  try {
    return structuredClone(crossing)
  } catch {
    throw new InvalidArgumentError('shared connection options must be plain data (strings, numbers, objects, Uint8Arrays) to reach the host')
  }
}

/** end()'s options as they cross: only those given. */
function endOptionsOf({ force, reasonCode, properties }: EndOptions): EndOptions {
  const out: EndOptions = {}
  if (force !== undefined) out.force = force
  if (reasonCode !== undefined) out.reasonCode = reasonCode
  if (properties !== undefined) out.properties = { ...properties }
  return out
}

/**
 * A payload whose bytes are the whole of their buffer. Structured cloning copies a view's whole
 * buffer, and a view may sit on a much larger one (a Node Buffer from its pool, a slice of a
 * file), so a partial view is copied to bytes of its own first.
 */
function ownBytes(payload: string | Uint8Array): string | Uint8Array {
  if (typeof payload === 'string') return payload
  if (payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength) return payload
  return new Uint8Array(payload)
}
