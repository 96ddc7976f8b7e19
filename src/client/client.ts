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
export class MqttClient extends TypedEmitter<MqttClientEvents> {
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
  /** The one timer: it serves whichever of the protocol's deadlines comes first. */
  private deadlineTimer: TimerHandle | undefined
  private deadlineAt = Infinity
  private ending: Promise<void> | undefined
  /** Made on the first request() or respond(). */
  private rpc: RequestResponse | undefined
  private ended: (() => void) | undefined

  constructor(url: string, options: ClientOptions = {}) {
    super()
    this.config = resolveOptions(url, options)
    this.options = Object.freeze(shownOptions(this.config))
    this.protocol = new Protocol(this.config, { granted: () => this.router.subscriptions({ confirmedOnly: true }) })
    // A store the caller did not give is one nobody else can read: the protocol's queue already
    // holds each message until it settles, so nothing is put in it.
    this.outbox = new Outbox(options.store ? this.config.store : undefined, (err) => this.report(err))
  }

  get state(): ClientState {
    return SHOWN[this.protocol.state]
  }

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

  /** Opens the connection. Called by connect(); only needed after `new MqttClient(...)`. */
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
   * Publishes. Resolves once written at QoS 0 (with undefined), and at QoS 1 and 2 once the
   * broker acknowledged it, with its reason code (0x10: no matching subscribers) and MQTT 5
   * properties. Rejects with the reason code and the broker's reason string if it refused.
   */
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined> {
    return this.operation<PublishPacket, PublishResult | undefined>(
      () => buildPublish(topic, payload, options, this.protocol.protocolVersion),
      (packet, op) => {
        this.outbox.accepted(op, packet)
        return this.protocol.publish(op, packet, now())
      },
    )
  }

  subscribe(target: string | string[] | SubscriptionMap, handler?: MessageHandler): Promise<Granted[]>
  subscribe(target: string | string[] | SubscriptionMap, options?: SubscribeOptions, handler?: MessageHandler): Promise<Granted[]>
  subscribe(
    target: string | string[] | SubscriptionMap,
    optionsOrHandler?: SubscribeOptions | MessageHandler,
    maybeHandler?: MessageHandler,
  ): Promise<Granted[]> {
    const handler = typeof optionsOrHandler === 'function' ? optionsOrHandler : maybeHandler
    const options = typeof optionsOrHandler === 'function' ? undefined : optionsOrHandler
    return this.subscribeWith(target, options, handler)
  }

  private subscribeWith(target: unknown, options: SubscribeOptions | undefined, sink?: Sink<Message>): Promise<Granted[]> {
    let subscriptions: Subscription[] = []
    return this.operation<Subscription[], Granted[]>(
      () => buildSubscriptions(target, options, this.protocol.protocolVersion),
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

  /** Resolves on UNSUBACK, with its reason codes (MQTT 5: 0x11 where no subscription existed). */
  unsubscribe(target: string | string[]): Promise<UnsubscribeResult> {
    return this.operation<string[], UnsubscribeResult>(
      () => buildUnsubscriptions(target),
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
   * the topic, see the README). Rejects with RequestTimeoutError when no reply comes in time.
   */
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<Message> {
    return this.requestResponse().request(topic, payload, options)
  }

  /** Answers requests on `filter`: what `responder` returns is published as each one's reply. */
  respond(filter: string, responder: Responder, options?: SubscribeOptions): Promise<Granted[]> {
    return this.requestResponse().respond(filter, responder, options)
  }

  /**
   * Re-authenticates on the live connection (MQTT 5 enhanced authentication): sends AUTH with
   * `authenticationData`; the broker's challenges go to the onAuth option; resolves once the
   * broker accepts.
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
   * DISCONNECT can carry a reason code (0x04: publish the will) and properties.
   */
  end(options: EndOptions = {}): Promise<void> {
    if (this.ending) return this.ending
    let farewell
    try {
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
          this.openConnection(action.url)
          break
        case 'send':
          if (this.listenerCount('packetsend') > 0) this.emit('packetsend', redact(action.packet))
          this.connection?.send(action.bytes)
          break
        case 'close':
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

  private openConnection(url: string): void {
    const { WebSocket, maxPacketSize, subprotocols, coalesceWrites } = this.config
    const options = { WebSocket, protocolVersion: this.protocol.protocolVersion, maxPacketSize, subprotocols, coalesceWrites }
    this.connection = new Connection(url, options, {
      opened: () => this.run(this.protocol.connectionOpened(now())),
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
