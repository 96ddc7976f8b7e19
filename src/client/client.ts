import type { AuthPacket, ConnackPacket, IncomingPacket, PublishPacket, SubscribePacket, Subscription } from '../codec/packets.js'
import { type MqttError, SubscribeError } from '../errors.js'
import { askHook } from './authentication.js'
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
import { type ClientOptions, type ResolvedOptions, resolveOptions } from '../input/options.js'
import { refuseCallbacks } from '../input/callbacks.js'
import type { Login, UrlProvider } from '../input/credentials.js'
import type { Payload } from '../input/payload.js'
import { type NetworkWatch, watchNetwork } from '../platform/network.js'
import { type SessionClaims, watchSessionClaims } from '../platform/session-claims.js'
import { now, plainTimers, type TimerHandle, type Timers } from '../platform/timers.js'
import { acquireTimers, releaseTimers } from '../platform/worker-timers.js'
import { hasSocket, type LifeState } from '../protocol/lifecycle.js'
import { type Action, type NextReconnect, Protocol, type ProtocolStats } from '../protocol/protocol.js'
import { type Granted, isFailure, type PublishResult, type UnsubscribeResult } from '../protocol/reason-codes.js'
import { MessageIterator, type MessageStream } from '../routing/message-iterator.js'
import { Router, type Sink } from '../routing/router.js'
import { Outbox } from '../store/outbox.js'
import { redactUrl } from '../transport/redact-url.js'
import type { MqttClientApi } from './api.js'
import { ConnectInputs } from './connect-inputs.js'
import { Connection } from './connection.js'
import { TypedEmitter } from './emitter.js'
import { type ClientState, type MqttClientEvents, redact, SHOWN, shownOptions } from './events.js'
import { Message, type MessageHandler } from './message.js'
import { RequestResponse, type RequestOptions, type Responder } from './request-response.js'

/**
 * One caller operation: the function that settles its Promise, and nothing more, as the
 * protocol keeps one per queued message. Only the resolving function is kept: a failure settles
 * it with a rejected promise, which it adopts.
 */
type PendingOp = (outcome: Outcome | Promise<never>) => void
type Outcome = Granted[] | PublishResult | UnsubscribeResult | undefined

type ClientAction = Action<PendingOp>

export type { EndOptions }


/**
 * An MQTT client over WebSocket: a thin translator. The protocol core (protocol/) decides
 * everything and answers with actions; this class carries them out on a Connection, a timer and
 * the caller's Promises, and turns its state moves into events.
 */
export class MqttClient extends TypedEmitter<MqttClientEvents> implements MqttClientApi {
  /**
   * The options the client runs on, defaults filled in: frozen, and without the password, the
   * MQTT 5 authenticationData, or the userinfo and query of the URLs.
   */
  readonly options: Readonly<Omit<ResolvedOptions, 'password'>>
  private readonly config: ResolvedOptions
  private readonly router = new Router<Message>()
  private readonly protocol: Protocol<PendingOp>
  private readonly outbox: Outbox<PendingOp>
  /** Plain until the first open(); a Worker's from then on where the platform has one. */
  private timers: Timers = plainTimers
  /** Set by the first open(), with the timers. */
  private network: NetworkWatch | undefined
  /** Tells the other clients in this browser which session this one holds, and hears them take it. */
  private claims: SessionClaims | undefined
  private connection: Connection | undefined
  /** The caller's url function and credentials hook, asked before each attempt. */
  private readonly inputs: ConnectInputs
  /** The attempt whose URL or credentials are awaited: an answer for any other comes too late and is dropped. */
  private preparing: object | undefined
  /** The one timer: it serves whichever of the protocol's deadlines comes first. */
  private deadlineTimer: TimerHandle | undefined
  private deadlineAt = Infinity
  private ending: Promise<void> | undefined
  /** Made on the first request() or respond(). */
  private rpc: RequestResponse | undefined
  private ended: (() => void) | undefined

  /**
   * Makes a client; open() starts connecting. `url` is the broker's ws:// or wss:// URL, or a
   * function giving each attempt's (see {@link UrlProvider}).
   * @throws {@link InvalidArgumentError} (or {@link InvalidTopicError}, for the will's topic) on bad options
   */
  constructor(url: string | UrlProvider, options: ClientOptions = {}) {
    super()
    this.config = resolveOptions(url, options)
    this.inputs = new ConnectInputs(this.config.url, this.config.credentials)
    this.options = Object.freeze(shownOptions(this.config))
    this.protocol = new Protocol(this.config, { granted: () => this.router.subscriptions({ confirmedOnly: true }) })
    // A store the caller did not give is one nobody else can read: the protocol's queue already
    // holds each message until it settles, so nothing is put in it.
    this.outbox = new Outbox(options.store ? this.config.store : undefined, (err) => this.report(err))
  }

  /** Where the client is now: 'connecting', 'connected', 'reconnecting', 'disconnected' (gave up) or 'closed' (ended). */
  get state(): ClientState {
    return SHOWN[this.protocol.state]
  }

  /** Whether the client is connected now (state 'connected'). */
  get connected(): boolean {
    return this.state === 'connected'
  }

  /** The client id given, or the one an MQTT 5 broker assigned when none was. */
  get clientId(): string {
    return this.protocol.clientId
  }

  /** The CONNACK of the current connection, or of the last one (its session flag, reason code, MQTT 5 properties). */
  get connack(): ConnackPacket | undefined {
    return this.protocol.connack
  }

  /**
   * The sizes of the client's queues and tables now, each bounded (see the README's
   * "Robustness"): operations queued, packets in flight, incoming QoS 2 messages awaiting
   * release, and acknowledgements ignored because nothing was in flight under their id.
   */
  get stats(): ProtocolStats {
    return this.protocol.stats
  }

  /**
   * While the client waits to reconnect (state 'reconnecting'): which try comes next, counted
   * from 1 since the last accepted connection, and in how many milliseconds it starts (none while
   * the browser is offline). Undefined in every other state. Read it again for a countdown: it is
   * worked out at each read.
   */
  get nextReconnect(): NextReconnect | undefined {
    return this.protocol.nextReconnect(now())
  }

  /**
   * Opens the connection. Called by connect(); only needed after `new MqttClient(...)`. On an
   * open client it only cuts a wait to reconnect short.
   * @returns this client
   */
  open(): this {
    if (this.network) {
      // Opened already: this only cuts a wait to reconnect short (a first open still loading the store goes on by itself).
      if (this.protocol.state === 'reconnecting') this.run(this.protocol.open(now()))
      return this
    }
    this.timers = acquireTimers()
    this.network = watchNetwork({
      online: () => this.run(this.protocol.networkOnline(now())),
      offline: () => this.run(this.protocol.networkOffline(now())),
    })
    if (!this.network.isOnline()) this.run(this.protocol.networkOffline(now()))
    this.claims = watchSessionClaims(() => this.run(this.protocol.sessionClaimed(now())))
    // What the store kept goes ahead of everything, so it loads before the first socket opens.
    void this.restoreStored()
    return this
  }

  /**
   * Publishes a message. While the client is offline it waits in the queue (QoS 0 too, unless
   * `queueQoS0: false`) and goes out once connected; QoS 1 and 2 messages in flight are sent
   * again after a reconnect.
   *
   * @param topic - the topic name: no wildcards
   * @param payload - a string (sent as UTF-8) or bytes
   * @param options - QoS (default 0), retain (default false), MQTT 5 properties
   * @returns a Promise that resolves at QoS 0 once the message is written to the socket (with
   * undefined); at QoS 1 on PUBACK and at QoS 2 on PUBCOMP, with the broker's reason code
   * (0x10: no matching subscribers) and MQTT 5 properties.
   * @throws (as a rejection; nothing is written) {@link InvalidTopicError} or
   * {@link InvalidArgumentError} for bad arguments, a callback among them (MQTT.js's style), as it
   * would never be called; {@link BrokerLimitError} for what the broker's CONNACK ruled out;
   * {@link OfflineError} at QoS 0 while offline with `queueQoS0: false`; {@link QueueFullError}
   * past `queueLimit`.
   * @throws (as a rejection, later) {@link ReasonCodeError} when an MQTT 5 broker refuses it;
   * {@link ClientClosedError} when the client ends first; {@link ConnectionClosedError} when the
   * client stops reconnecting first (or already has).
   * @example
   * ```ts
   * await client.publish('sensors/1/temp', '21.5', { qos: 1, retain: true })
   * ```
   */
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined> {
    const args = arguments
    return this.operation<PublishPacket, PublishResult | undefined>(
      () => {
        refuseCallbacks('publish', args)
        return buildPublish(topic, payload, options, this.protocol.protocolVersion)
      },
      (packet, op) => {
        this.outbox.accepted(op, packet)
        return this.protocol.publish(op, packet, now())
      },
    )
  }

  /**
   * Subscribes to one or more topic filters, at QoS 0 unless options say otherwise. While offline
   * the SUBSCRIBE waits in the queue; after a reconnect the client subscribes again to every filter
   * the broker granted.
   *
   * @param target - a filter, a list of filters, or filter -> options
   * @param handler - gets each message the filters match (one Message: a function of two
   * parameters is MQTT.js's `(err, granted)` callback, and is refused with InvalidArgumentError);
   * every message also goes to the 'message' event
   * @returns a Promise that resolves on SUBACK, with what the broker granted each filter, in order
   * @throws (as a rejection; nothing is written) {@link InvalidTopicError} or
   * {@link InvalidArgumentError} for bad arguments; {@link BrokerLimitError} for what the
   * broker's CONNACK ruled out (wildcards, shared subscriptions, subscription identifiers);
   * {@link QueueFullError} past `queueLimit`.
   * @throws (as a rejection, later) {@link SubscribeError} when the broker refuses any of the
   * filters (the others stay subscribed); {@link ReasonCodeError} when an MQTT 5 broker
   * disconnects over it; {@link ClientClosedError} or {@link ConnectionClosedError} as for publish.
   * @example
   * ```ts
   * await client.subscribe('sensors/+/temp', { qos: 1 }, (msg) => console.log(msg.topic, msg.text()))
   * ```
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
    return this.subscribeWith(target, options, handler, () => refuseCallbacks('subscribe', args))
  }

  /** `checkCall` refuses what is wrong with the call beyond its target and options (subscribe's handler). */
  private subscribeWith(target: unknown, options: SubscribeOptions | undefined, sink?: Sink<Message>, checkCall?: () => void): Promise<Granted[]> {
    let subscriptions: Subscription[] = []
    return this.operation<Subscription[], Granted[]>(
      () => {
        checkCall?.()
        return buildSubscriptions(target, options, this.protocol.protocolVersion)
      },
      (built, op) => {
        subscriptions = built
        // Routes go in before SUBSCRIBE, so retained messages that follow the SUBACK find their handler.
        for (const sub of subscriptions) this.router.add(sub, sink, options?.properties)
        const packet: Omit<SubscribePacket, 'messageId'> = { cmd: 'subscribe', subscriptions }
        if (options?.properties) packet.properties = { ...options.properties }
        return this.protocol.subscribe(op, packet, now())
      },
    ).then(
      (granted) => {
        for (const g of granted) this.router.confirm(g.topic)
        return granted
      },
      (error: unknown) => {
        if (error instanceof SubscribeError) {
          for (const g of error.granted) isFailure(g.qos) ? this.router.forget(g.topic, error) : this.router.confirm(g.topic)
        } else if (sink) {
          for (const sub of subscriptions) this.router.removeSink(sub.topic, sink)
        }
        throw error
      },
    )
  }

  /**
   * Unsubscribes from one or more topic filters; their handlers and message streams stop at once.
   * @returns a Promise that resolves on UNSUBACK, with its reason codes (MQTT 5: 0x11 where no
   * subscription existed)
   * @throws (as a rejection; nothing is written) {@link InvalidTopicError} or
   * {@link InvalidArgumentError} on a bad filter, and on a second argument (MQTT.js's options or
   * callback), which would be ignored; {@link QueueFullError} past `queueLimit`.
   * @throws (as a rejection, later) {@link ReasonCodeError} when an MQTT 5 broker refuses it;
   * {@link ClientClosedError} or {@link ConnectionClosedError} as for publish.
   */
  unsubscribe(target: string | string[]): Promise<UnsubscribeResult> {
    const args = arguments
    return this.operation<string[], UnsubscribeResult>(
      () => {
        refuseCallbacks('unsubscribe', args)
        return buildUnsubscriptions(target)
      },
      (topics, op) => {
        for (const topic of topics) this.router.remove(topic)
        return this.protocol.unsubscribe(op, { cmd: 'unsubscribe', unsubscriptions: topics }, now())
      },
    )
  }

  /**
   * Messages on `filter`, as an async iterator. Subscribes at the broker (at `qos`) unless this
   * client already has that filter; a `break` stops it and unsubscribes when nothing else uses the
   * filter. It ends when the client ends, and throws if the subscription is refused.
   * At most `bufferLimit` messages (default 1000) wait for a consumer that reads slower than they
   * come; past that `overflow` applies, and the stream's `dropped` counts what it lost (see
   * MessagesOptions: even QoS 1 and 2 messages, as they were acknowledged on arrival).
   *
   * Never throws: a bad argument, a refusal ({@link SubscribeError}, {@link BrokerLimitError}),
   * or a {@link BufferOverflowError} under `overflow: 'error'` is thrown by the iteration.
   * @example
   * ```ts
   * for await (const msg of client.messages('chat/#', { qos: 1 })) console.log(msg.text())
   * ```
   */
  messages(filter: string, options: MessagesOptions = {}): MessageStream<Message> {
    let stream: ReturnType<typeof buildStream>
    try {
      stream = buildStream(options)
    } catch (err) {
      return MessageIterator.failed(err)
    }
    const shared = this.router.has(filter)
    const iterator: MessageIterator<Message> = new MessageIterator(
      () => {
        if (this.router.removeSink(filter, iterator) && !shared && !this.protocol.refusal()) {
          this.unsubscribe(filter).catch(() => undefined)
        }
      },
      { limit: stream.bufferLimit, overflow: stream.overflow, filter },
    )
    if (shared) this.router.addSink(filter, iterator)
    else this.subscribeWith(filter, stream.subscribe, iterator).catch((err: unknown) => iterator.fail(err))
    return iterator
  }

  /**
   * Publishes a request and resolves with its reply (MQTT 5 request/response: a response topic
   * only this client subscribes to, and correlation data the reply echoes; on 3.1.1 both ride in
   * the topic, see the README).
   * @returns a Promise that resolves with the first reply
   * @throws (as a rejection) {@link RequestTimeoutError} when no reply comes within the timeout;
   * {@link InvalidArgumentError} for a bad timeout; any error publish or subscribe rejects with,
   * for the request or its response topic.
   */
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<Message> {
    return this.requestResponse().request(topic, payload, options)
  }

  /**
   * Answers requests on `filter`: what `responder` returns (or resolves with) is published as each
   * one's reply, to its response topic with its correlation data.
   * @returns a Promise that resolves on SUBACK, as subscribe's does, and rejects as subscribe's does
   */
  respond(filter: string, responder: Responder, options?: SubscribeOptions): Promise<Granted[]> {
    return this.requestResponse().respond(filter, responder, options)
  }

  /**
   * Re-authenticates on the live connection (MQTT 5 enhanced authentication): sends AUTH with
   * `authenticationData`; the broker's challenges go to the onAuth option.
   * @returns a Promise that resolves once the broker accepts (AUTH with reason 0)
   * @throws (as a rejection) {@link ProtocolError} without MQTT 5 and an authenticationMethod in the
   * CONNECT properties, while not connected, or with a re-authentication already under way;
   * when the connection closes first (a broker refuses with a DISCONNECT), the error it closed
   * with, such as {@link ConnectionClosedError}; {@link ClientClosedError} when the client ends
   * first.
   */
  reauthenticate(authenticationData?: Uint8Array): Promise<undefined> {
    return this.operation<undefined, undefined>(
      () => undefined,
      (_, op) => this.protocol.reauthenticate(op, authenticationData, now()),
    )
  }

  /** The MQTT version this client speaks now (under 'auto', 5 until a broker refuses it). */
  get protocolVersion(): 4 | 5 {
    return this.protocol.protocolVersion
  }

  /**
   * Ends the client. Graceful by default: waits (up to endTimeout) for queued and in-flight
   * messages to settle, then sends DISCONNECT, so the broker does not publish the will.
   * With `force`, sends DISCONNECT at once and rejects what is still pending. On MQTT 5 the
   * DISCONNECT can carry a reason code (0x04: publish the will) and properties. Resolves once
   * the client is closed; rejects with InvalidArgumentError on bad options, and on MQTT.js's
   * `end(true)` and callbacks.
   */
  end(options: EndOptions = {}): Promise<void> {
    if (this.ending) return this.ending
    let farewell
    try {
      refuseCallbacks('end', arguments)
      farewell = buildFarewell(options, this.protocol.protocolVersion)
    } catch (err) {
      return Promise.reject(err)
    }
    this.ending = new Promise((resolve) => {
      this.ended = resolve
      this.run(this.protocol.end(options.force === true, now(), farewell))
    })
    return this.ending
  }

  // ---- plumbing ----

  private async restoreStored(): Promise<void> {
    // Nobody awaits these any more: a failure is reported as an error event.
    const restored = await this.outbox.restore((): PendingOp => (outcome) => {
      if (outcome instanceof Promise) outcome.catch((err: unknown) => this.report(err))
    })
    if (this.protocol.state === 'closed') return
    if (restored.length > 0) this.run(this.protocol.restore(restored, now()))
    this.run(this.protocol.open(now()))
  }

  /**
   * Runs a caller request: refused in the wrong state, rejected by the checks in `build`, and in
   * either case without touching the wire; otherwise handed to the protocol by `begin`.
   */
  private operation<T, R extends Outcome>(build: () => T, begin: (request: T, op: PendingOp) => ClientAction[]): Promise<R> {
    const refusal = this.protocol.refusal()
    if (refusal) return Promise.reject(refusal)
    let request: T
    try {
      request = build()
    } catch (err) {
      return Promise.reject(err)
    }
    // The protocol settles each operation with the outcome its kind has: R.
    return new Promise<R>((settle) => this.run(begin(request, settle as PendingOp)))
  }

  private run(actions: ClientAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'open':
          this.prepareAttempt(action.url, action.attempt)
          break
        case 'send':
          if (this.listenerCount('packetsend') > 0) this.emit('packetsend', redact(action.packet))
          this.connection?.send(action.bytes)
          break
        case 'close':
          this.preparing = undefined
          this.connection?.close()
          this.connection = undefined
          if (action.error) this.report(action.error)
          break
        case 'settle':
          this.outbox.settled(action.op)
          action.op(action.error ? Promise.reject(action.error) : (action.granted ?? action.result))
          break
        case 'message':
          this.deliver(new Message(action.packet))
          break
        case 'state':
          this.moved(action.from, action.to, action.connack)
          break
        case 'disconnected':
          this.emit('disconnect', action.packet)
          break
        case 'error':
          this.report(action.error)
          break
        case 'warning':
          this.emit('warning', action.warning)
          break
        case 'auth':
          this.answerChallenge(action.connection, action.packet)
          break
      }
    }
    this.scheduleDeadline()
  }

  private requestResponse(): RequestResponse {
    return (this.rpc ??= new RequestResponse(this, (err) => this.report(err)))
  }

  /** Asks the onAuth hook for the answer to an AUTH challenge; it may take its time. */
  private answerChallenge(connection: number, challenge: AuthPacket): void {
    askHook(this.config.onAuth, challenge).then(
      (answer) => this.run(this.protocol.authenticate(connection, answer, now())),
      (err: MqttError) => this.run(this.protocol.authenticationFailed(connection, err, now())),
    )
  }

  /**
   * Opens the attempt's socket: at once, or once the caller's url function and credentials hook
   * answered. The protocol's connect deadline runs meanwhile; its close, an end() among them,
   * drops an answer still awaited, so nothing opens after it.
   */
  private prepareAttempt(planned: string | undefined, attempt: number): void {
    if (!this.inputs.awaited) return this.openConnection(planned as string, undefined)
    const preparing = {}
    this.preparing = preparing
    this.inputs.next(planned, attempt, this.protocol.protocolVersion).then(
      ({ url, login }) => {
        if (this.preparing !== preparing) return
        this.preparing = undefined
        this.openConnection(url, login)
      },
      (err: MqttError) => {
        if (this.preparing !== preparing) return
        this.preparing = undefined
        this.report(err)
        this.run(this.protocol.connectionLost(err, now()))
      },
    )
  }

  private openConnection(url: string, login: Login | undefined): void {
    const { WebSocket, maxPacketSize, subprotocols, coalesceWrites } = this.config
    const options = { WebSocket, protocolVersion: this.protocol.protocolVersion, maxPacketSize, subprotocols, coalesceWrites }
    this.connection = new Connection(url, options, {
      opened: () => this.run(this.protocol.connectionOpened(now(), login)),
      received: (packet) => this.received(packet),
      violated: (error) => this.run(this.protocol.brokerViolation(error, now())),
      closed: (error) => {
        this.connection = undefined
        if (error) this.report(error)
        this.run(this.protocol.connectionLost(error, now()))
      },
    })
  }

  private received(packet: IncomingPacket): void {
    if (this.listenerCount('packetreceive') > 0) this.emit('packetreceive', packet)
    this.run(this.protocol.packetReceived(packet, now()))
  }

  private deliver(message: Message): void {
    try {
      this.emit('message', message.topic, message.payload, message.packet)
    } catch (err) {
      this.report(err)
    }
    const ids = message.packet.properties?.subscriptionIdentifier
    this.router.dispatch(message, (err) => this.report(err), typeof ids === 'number' ? [ids] : ids)
  }

  /** The events of each move. The state is settled before them, so listeners read where the client is now. */
  private moved(from: LifeState, to: LifeState, connack: ConnackPacket | undefined): void {
    if (to === 'connected') {
      // An empty id is one the 3.1.1 broker made up: unique, so nobody else can hold it.
      // The broker's address without its credentials: the other clients need only tell brokers apart.
      if (this.clientId && this.connection) this.claims?.claim(`${redactUrl(this.connection.url)} ${this.clientId}`)
      return void this.emit('connect', connack as ConnackPacket)
    }
    if (to === 'connecting' && from === 'reconnecting') return void this.emit('reconnect')
    if (to === 'closed') return this.finish(hasSocket(from))
    if (to !== 'reconnecting' && to !== 'disconnected') return
    // Given up: handlers and iterators end, as nothing will reach them again.
    if (to === 'disconnected') {
      this.router.clear()
      this.claims?.stop()
    }
    this.emit('close')
    if (from === 'connected') this.emit('offline')
  }

  private finish(hadSocket: boolean): void {
    if (hadSocket) this.emit('close')
    this.router.clear()
    this.scheduleDeadline()
    this.network?.stop()
    this.claims?.stop()
    releaseTimers(this.timers)
    this.timers = plainTimers
    void this.outbox.close()
    this.emit('end')
    this.ended?.()
  }

  /** One timer serves the protocol's deadlines; it is moved only when a deadline comes sooner. */
  private scheduleDeadline(): void {
    const at = this.protocol.nextDeadline() ?? Infinity
    if (this.deadlineTimer !== undefined && this.deadlineAt <= at && at !== Infinity) return
    if (this.deadlineTimer !== undefined) this.timers.clear(this.deadlineTimer)
    this.deadlineTimer = undefined
    this.deadlineAt = at
    if (at === Infinity) return
    this.deadlineTimer = this.timers.set(() => {
      this.deadlineTimer = undefined
      this.deadlineAt = Infinity
      this.run(this.protocol.tick(now()))
    }, Math.max(0, at - now()))
  }

  /** A failure nobody awaits: a handler that threw, a store that failed, a connection lost. */
  private report(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new Error(String(err)))
  }
}
