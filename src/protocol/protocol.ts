import type {
  AckPacket,
  AuthPacket,
  ConnackPacket,
  ConnackProperties,
  ConnectPacket,
  DisconnectPacket,
  IncomingPacket,
  IncomingPublishPacket,
  Packet,
  ProtocolVersion,
  PublishPacket,
  SubackPacket,
  SubscribePacket,
  SubscribeProperties,
  Subscription,
  UnsubackPacket,
  UnsubscribePacket,
} from '../codec/packets.js'
import {
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  KeepaliveTimeoutError,
  type MqttError,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  SessionTakenOverError,
  TransportError,
} from '../errors.js'
import { encode } from '../codec/encode.js'
import { brokerRefuses } from './broker-limits.js'
import { Keepalive } from './keepalive.js'
import { TopicAliases } from './topic-aliases.js'
import { checkMove, hasSocket, type LifeState } from './lifecycle.js'
import { type Entry, Outgoing, type OutgoingSink } from './outgoing.js'
import {
  connackReason,
  type Granted,
  isPermanentRefusal,
  publishAckError,
  type PublishResult,
  publishResult,
  refusesVersion,
  faultsThePacket,
  reasonText,
  subackOutcome,
  unsubackError,
  type UnsubscribeResult,
  unsubscribeResult,
} from './reason-codes.js'
import { type ReconnectOptions, ReconnectPlan } from './reconnect.js'
import { SendWindow } from './send-window.js'

/** The CONNECT fields of the session, and the limits and timings the protocol keeps. */
export interface ProtocolOptions extends Pick<ConnectPacket, 'clientId' | 'clean' | 'keepalive' | 'username' | 'password' | 'will' | 'properties'> {
  /** 'auto' tries MQTT 5 and falls back to 3.1.1 for good if the broker refuses that version. */
  protocolVersion: ProtocolVersion | 'auto'
  /** The largest packet we take, announced to an MQTT 5 broker; none announced when absent. */
  maxPacketSize?: number
  /** MQTT 5: give topics aliases when the broker takes them ('auto', the default), or never. */
  topicAliases?: 'auto' | false
  /** Most QoS 1/2 publishes awaiting acknowledgement at once: the cap of the window (send-window.ts). */
  maxInflight: number
  /** Most operations waiting to be sent (offline, or behind a full window). */
  queueLimit: number
  /** Whether QoS 0 publishes wait while offline; if not, they fail with OfflineError. */
  queueQoS0: boolean
  /** The brokers to try: the first, then each in turn on reconnect. None: the caller's url function picks each. */
  servers: readonly string[]
  reconnect: ReconnectOptions
  /** ms from opening a socket to CONNACK. */
  connectTimeout: number
  /** ms a graceful end waits for what is in flight. */
  endTimeout: number
}

/** A subscription the broker granted, with the MQTT 5 properties its SUBSCRIBE carried. */
export type GrantedSubscription = Subscription & { properties?: SubscribeProperties }

/** Where the protocol reads the subscriptions the broker granted, to make them again on a fresh session. */
export interface GrantedSubscriptions {
  granted(): GrantedSubscription[]
}

/** What the protocol asks of the layer that owns the socket. Carried out in order. */
export type Action<Op> =
  /**
   * Open a socket to this broker; `url` undefined: to the one the caller's url function gives for
   * `attempt` (0 for the first connection, then the try since the last accepted one, from 1).
   */
  | { type: 'open'; url: string | undefined; attempt: number }
  /** Write these bytes, the encoded `packet`. */
  | { type: 'send'; packet: Packet; bytes: Uint8Array }
  /** Close the socket; `error` says why when it is not a normal end. */
  | { type: 'close'; error?: MqttError }
  /** An operation finished: `error` when it failed; `granted` answers a SUBSCRIBE, `result` a QoS 1/2 PUBLISH or an UNSUBSCRIBE. */
  | { type: 'settle'; op: Op; error?: MqttError; granted?: Granted[]; result?: PublishResult | UnsubscribeResult }
  | { type: 'message'; packet: IncomingPublishPacket }
  /** The client's life moved on; a move to connected carries its CONNACK. */
  | { type: 'state'; from: LifeState; to: LifeState; connack?: ConnackPacket }
  /** The broker sent DISCONNECT (MQTT 5). */
  | { type: 'disconnected'; packet: DisconnectPacket }
  /** A failure no caller waits for: a subscription refused when it was made again. */
  | { type: 'error'; error: MqttError }
  /** Something the caller should know that is not a failure: said once per client. */
  | { type: 'warning'; warning: ProtocolWarning }
  /** The broker's authentication challenge (MQTT 5 AUTH): answer with authenticate(connection, ...). */
  | { type: 'auth'; packet: AuthPacket; connection: number }

/** What the protocol tolerates from a broker but tells the caller about, once. */
export interface ProtocolWarning {
  /** QOS2_DOWNGRADED: the broker answered a QoS 2 PUBLISH with PUBACK (RabbitMQ does): it completes as delivered at QoS 1. */
  code: 'QOS2_DOWNGRADED'
  /** What happened and what it means, in a sentence. */
  message: string
}

/** The sizes of the protocol's queues and tables, and what it ignored: for `client.stats`. */
export interface ProtocolStats {
  /** Operations waiting to be sent (offline, or behind the in-flight window); at most queueLimit. */
  queued: number
  /** Packets sent and awaiting their acknowledgement; at most 65,535 (the packet id space). */
  inFlight: number
  /** Incoming QoS 2 messages delivered and awaiting PUBREL; at most 65,535 (the packet id space). */
  awaitingRelease: number
  /** Acknowledgements that named a packet id with nothing in flight: ignored. */
  unknownAcks: number
}

/** The wait before the next reconnect: for `client.nextReconnect`. */
export interface NextReconnect {
  /** The number of the next try since the last accepted connection, from 1. */
  attempt: number
  /** Milliseconds until the try starts; absent while the browser is offline, when the network's return starts it. */
  in?: number
}

/** DISCONNECT reason: another connection with our client id took the session. */
const SESSION_TAKEN_OVER = 0x8e
/** AUTH reasons: another step of the exchange, and a re-authentication started by us. */
const CONTINUE_AUTHENTICATION = 0x18
const REAUTHENTICATE = 0x19
/** CONNACK and DISCONNECT reasons that name another server: for one try, or for good. */
const USE_ANOTHER_SERVER = 0x9c
const SERVER_MOVED = 0x9d
/** DISCONNECT reason we send when the broker uses a topic alias we never gave it or cannot take. */
const TOPIC_ALIAS_INVALID = 0x94
/** DISCONNECT reason for a broker that broke a rule no more specific reason names. */
const PROTOCOL_ERROR = 0x82
/** DISCONNECT reason we send when the broker leaves more QoS 2 messages unreleased than we announced we take. */
const RECEIVE_MAXIMUM_EXCEEDED = 0x93
/** PUBREL and PUBCOMP reason (MQTT 5): the packet id named is not one we know. */
const PACKET_ID_NOT_FOUND = 0x92

/** SUBSCRIBEs made again after a reconnect carry at most this many filters each. */
const RESUBSCRIBE_BATCH = 50

/**
 * The MQTT session and the client's life, as a state machine free of I/O. It is fed events
 * (socket opened or lost, packet received, caller asked for something, network up or down, time
 * is now T) and answers with actions. It owns the life state (lifecycle.ts), the outgoing queue
 * and what is in flight (outgoing.ts), the send window (send-window.ts), incoming QoS 2 state,
 * keepalive, the reconnect plan and every deadline: CONNACK, the next try, the end of a graceful
 * end().
 *
 * Session state survives a lost connection: in-flight messages are sent again (DUP set) after
 * the next CONNACK, and queued ones follow in order. Only a move to disconnected or closed gives
 * up on them.
 */
export class Protocol<Op> {
  private life: LifeState = 'starting'
  /** The MQTT version spoken: fixed, or under 'auto' 5 until a broker refuses it. */
  private version: ProtocolVersion
  /** Ours, or the one the broker assigned when we gave none (MQTT 5); kept for every later CONNECT. */
  private id: string
  /** The CONNACK of the current connection, or of the last one. */
  private lastConnack: ConnackPacket | undefined
  /** The current connection's topic aliases; none before its CONNACK. */
  private aliases = new TopicAliases(0, 0)
  /** The DISCONNECT end() sends. */
  private farewell: DisconnectPacket = { cmd: 'disconnect' }
  /** What the current connection's broker said it cannot take (MQTT 5); none until its CONNACK. */
  private limits: ConnackProperties | undefined
  private readonly outgoing: Outgoing<Op>
  /** Incoming QoS 2 ids delivered and awaiting PUBREL: a re-sent PUBLISH with one is not delivered again. */
  private readonly incomingQos2 = new Set<number>()
  private readonly keepalive: Keepalive
  private readonly plan: ReconnectPlan
  /** How many publishes may await acknowledgement: the rule is send-window.ts's. */
  private readonly window: SendWindow
  private online = true
  private hadConnection = false
  /** Counts connections, so an answer to one's AUTH challenge never goes to the next. */
  private connections = 0
  /** The operation a re-authentication settles, while one is under way. */
  private reauthOp: Op | undefined
  /** Acknowledgements for packet ids with nothing in flight. */
  private unknownAcks = 0
  /** Warnings already given: each is given once per client. */
  private readonly warned = new Set<ProtocolWarning['code']>()
  /** A refusal retrying cannot fix, once one came. */
  private refusedForGood: MqttError | undefined
  /** Why the client will not reconnect, once it will not. */
  private lastFailure: MqttError | undefined
  /** When the current state's own deadline falls: CONNACK, the next try, or the end of closing. */
  private dueAt: number | undefined
  /** The time of the event being handled. */
  private now = 0
  private actions: Array<Action<Op>> = []
  private readonly sink: OutgoingSink<Op> = {
    send: (packet) => this.send(packet),
    done: (entry, failure) => this.settle(entry, failure),
  }

  constructor(
    private readonly options: ProtocolOptions,
    private readonly subscriptions: GrantedSubscriptions,
  ) {
    this.keepalive = new Keepalive(options.keepalive * 1000)
    this.version = options.protocolVersion === 'auto' ? 5 : options.protocolVersion
    this.id = options.clientId
    this.window = new SendWindow(options.maxInflight)
    this.outgoing = new Outgoing(options.queueLimit)
    this.plan = new ReconnectPlan(options.servers, options.reconnect)
  }

  get state(): LifeState {
    return this.life
  }

  /** The MQTT version the next (or current) connection speaks. */
  get protocolVersion(): ProtocolVersion {
    return this.version
  }

  get clientId(): string {
    return this.id
  }

  /** The CONNACK of the current connection, or of the last one; undefined before the first. */
  get connack(): ConnackPacket | undefined {
    return this.lastConnack
  }

  get stats(): ProtocolStats {
    return {
      queued: this.outgoing.queued,
      inFlight: this.outgoing.inFlightCount,
      awaitingRelease: this.incomingQos2.size,
      unknownAcks: this.unknownAcks,
    }
  }

  /**
   * While waiting to reconnect: the number of the next try since the last accepted connection
   * (from 1), and the ms until it starts, or none while the browser is offline (the online
   * event starts it). Undefined in every other state.
   */
  nextReconnect(now: number): NextReconnect | undefined {
    if (this.life !== 'reconnecting') return undefined
    const attempt = this.plan.attempts
    return this.dueAt === undefined ? { attempt } : { attempt, in: Math.max(0, this.dueAt - now) }
  }

  /** Why no new operation can be accepted now, if so. */
  refusal(): MqttError | undefined {
    if (this.life === 'closing' || this.life === 'closed') return new ClientClosedError('Client is ending: no new operations are accepted')
    if (this.life !== 'disconnected') return undefined
    const why = this.lastFailure ? `: ${this.lastFailure.message}` : ''
    return new ConnectionClosedError(`Client is disconnected and will not reconnect${why}`, { cause: this.lastFailure })
  }

  // ---- life and network events ----

  /** Connects: the first time, or at once while waiting to reconnect. */
  open(now: number): Array<Action<Op>> {
    this.now = now
    if (this.life === 'starting' || this.life === 'reconnecting') this.connect()
    return this.take()
  }

  /**
   * The socket is open: CONNECT goes out, with `login` when the caller's credentials hook gave
   * this attempt's username and password (in place of the options').
   */
  connectionOpened(now: number, login?: Pick<ConnectPacket, 'username' | 'password'>): Array<Action<Op>> {
    this.now = now
    if (this.life !== 'connecting') return this.take()
    this.keepalive.reset(now)
    const o = this.options
    const connect: ConnectPacket = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: this.version,
      clientId: this.id,
      clean: o.clean,
      keepalive: o.keepalive,
    }
    const { username, password } = login ?? o
    if (username !== undefined) connect.username = username
    if (password !== undefined) connect.password = password
    if (o.will) connect.will = o.will
    if (this.version === 5) {
      const properties = { ...o.properties }
      if (o.maxPacketSize !== undefined) properties.maximumPacketSize = o.maxPacketSize
      if (Object.keys(properties).length > 0) connect.properties = properties
    }
    const failure = this.send(connect)
    // A CONNECT that cannot be encoded never will be: retrying cannot help.
    if (failure) this.stopForGood(failure)
    return this.take()
  }

  /**
   * The socket went by itself (the broker or the network closed it), or the attempt failed before
   * one opened (the caller's url function or credentials hook failed); `error` says why.
   */
  connectionLost(error: MqttError | undefined, now: number): Array<Action<Op>> {
    this.now = now
    if (hasSocket(this.life)) this.afterLoss(error)
    return this.take()
  }

  packetReceived(packet: IncomingPacket, now: number): Array<Action<Op>> {
    this.now = now
    if (!hasSocket(this.life)) return this.take()
    this.keepalive.received(now)
    if (this.life === 'connecting' && packet.cmd !== 'connack' && packet.cmd !== 'auth') {
      return this.violation(`expected CONNACK first, got ${packet.cmd.toUpperCase()}`)
    }
    switch (packet.cmd) {
      case 'connack':
        this.onConnack(packet)
        break
      case 'publish':
        this.onPublish(packet)
        break
      case 'pubrel':
        this.onPubrel(packet)
        break
      case 'puback':
      case 'pubrec':
      case 'pubcomp':
        this.onPublishAck(packet)
        break
      case 'suback':
      case 'unsuback':
        this.onSubscriptionAck(packet)
        break
      case 'pingresp':
        break
      case 'auth':
        this.onAuth(packet)
        break
      case 'disconnect':
        this.actions.push({ type: 'disconnected', packet })
        this.onDisconnect(packet)
        break
      default:
        return this.violation(`a server must not send ${packet.cmd.toUpperCase()}`)
    }
    return this.take()
  }

  /**
   * The connection's bytes broke the wire rules (they do not decode, or a packet is malformed,
   * too large or forbidden): the broker hears why on MQTT 5, and the connection closes.
   */
  brokerViolation(error: ProtocolError, now: number): Array<Action<Op>> {
    this.now = now
    if (hasSocket(this.life)) this.refuseBroker(error)
    return this.take()
  }

  /** The browser lost the network: the socket is as good as dead, and retries wait for it to come back. */
  networkOffline(now: number): Array<Action<Op>> {
    this.now = now
    this.online = false
    if (hasSocket(this.life)) this.lose(new TransportError('The browser went offline'))
    return this.take()
  }

  /**
   * Another client in this browser connected to our broker with our client id, and so took our
   * session, whether or not the broker told us (Mosquitto over WebSocket closes before its 0x8E).
   */
  sessionClaimed(now: number): Array<Action<Op>> {
    this.now = now
    if (this.life !== 'closing' && this.life !== 'closed' && this.life !== 'disconnected') {
      // Taking the session back would knock that client off, and so on forever.
      this.stopForGood(new SessionTakenOverError('Another client in this browser connected with this client id'))
    }
    return this.take()
  }

  /** The network is back: retry now rather than when the backoff says. */
  networkOnline(now: number): Array<Action<Op>> {
    this.now = now
    this.online = true
    if (this.life === 'reconnecting') this.connect()
    return this.take()
  }

  /** Time has passed: a ping, a dead connection, a CONNACK that did not come, the next try, the end of closing. */
  tick(now: number): Array<Action<Op>> {
    this.now = now
    const due = this.dueAt !== undefined && now >= this.dueAt
    const life = this.life
    if (life === 'connected' || life === 'closing') this.checkKeepalive()
    // A keepalive timeout above has moved the life on, with deadlines of its own.
    if (!due || this.life !== life) return this.take()
    if (this.life === 'connecting') {
      this.lose(new ConnectTimeoutError(this.options.connectTimeout))
    } else if (this.life === 'reconnecting') {
      this.dueAt = undefined
      // While the browser reports no network, its online event starts the next try instead.
      if (this.online) this.connect()
    } else if (this.life === 'closing') {
      // Still an intended end: DISCONNECT, so the broker does not publish the will.
      this.send(this.farewell)
      this.actions.push({ type: 'close' })
      this.toClosed()
    }
    return this.take()
  }

  /** When tick() must next be called, or undefined when nothing is timed. */
  nextDeadline(): number | undefined {
    switch (this.life) {
      case 'connected':
        return this.keepalive.nextDeadline()
      case 'closing':
        return Math.min(this.keepalive.nextDeadline() ?? Infinity, this.dueAt ?? Infinity)
      case 'connecting':
      case 'reconnecting':
        return this.dueAt
      default:
        return undefined
    }
  }

  // ---- caller events (input is validated before it gets here) ----

  publish(op: Op, packet: PublishPacket, now: number): Array<Action<Op>> {
    this.now = now
    if (packet.qos === 0 && !this.isUp() && !this.options.queueQoS0) {
      this.actions.push({ type: 'settle', op, error: new OfflineError() })
      return this.take()
    }
    return this.enqueue({ op, packet, pubrec: undefined })
  }

  /**
   * Messages a store kept from an earlier run go ahead of everything queued, in their order. The
   * queue limit does not apply: they were accepted once already.
   */
  restore(messages: ReadonlyArray<{ op: Op; packet: PublishPacket }>, now: number): Array<Action<Op>> {
    this.now = now
    this.outgoing.addFirst(messages.map(({ op, packet }) => ({ op, packet, pubrec: undefined })))
    this.flush()
    return this.take()
  }

  subscribe(op: Op, packet: Omit<SubscribePacket, 'messageId'>, now: number): Array<Action<Op>> {
    this.now = now
    return this.enqueue({ op, packet: { ...packet, messageId: 0 }, pubrec: undefined })
  }

  unsubscribe(op: Op, packet: Omit<UnsubscribePacket, 'messageId'>, now: number): Array<Action<Op>> {
    this.now = now
    return this.enqueue({ op, packet: { ...packet, messageId: 0 }, pubrec: undefined })
  }

  /**
   * The answer to the AUTH challenge of connection `connection` (see the 'auth' action): sent
   * with our authentication method, unless that connection is gone.
   */
  authenticate(connection: number, data: Uint8Array | undefined, now: number): Array<Action<Op>> {
    this.now = now
    if (connection !== this.connections || !hasSocket(this.life)) return this.take()
    this.sendAuth(CONTINUE_AUTHENTICATION, data)
    return this.take()
  }

  /** The authentication hook failed: this connection cannot authenticate, nor will the next. */
  authenticationFailed(connection: number, error: MqttError, now: number): Array<Action<Op>> {
    this.now = now
    if (connection !== this.connections || !hasSocket(this.life)) return this.take()
    this.stopForGood(error)
    return this.take()
  }

  /** Starts a re-authentication on the live connection (MQTT 5); `op` settles when the broker accepts it. */
  reauthenticate(op: Op, data: Uint8Array | undefined, now: number): Array<Action<Op>> {
    this.now = now
    if (!this.options.properties?.authenticationMethod || this.version !== 5) {
      this.actions.push({ type: 'settle', op, error: new ProtocolError('re-authentication needs MQTT 5 and an authenticationMethod in the CONNECT properties') })
    } else if (!this.isUp() || this.reauthOp !== undefined) {
      this.actions.push({ type: 'settle', op, error: new ProtocolError('re-authentication needs a connection with none under way') })
    } else {
      this.reauthOp = op
      this.sendAuth(REAUTHENTICATE, data)
    }
    return this.take()
  }

  /**
   * Ends the client. Graceful while connected: once everything queued and in flight has settled
   * (or endTimeout passed), DISCONNECT goes out and the socket closes. With `force`, or without a
   * connection, it closes at once and what is pending fails with ClientClosedError.
   */
  end(force: boolean, now: number, farewell?: Omit<DisconnectPacket, 'cmd'>): Array<Action<Op>> {
    this.now = now
    if (this.life === 'closing' || this.life === 'closed') return this.take()
    // The DISCONNECT that goes out, now or once what is pending settles: MQTT 5 may give a reason
    // (0x04 asks the broker to publish the will) and a new session expiry.
    if (farewell && this.version === 5) this.farewell = { cmd: 'disconnect', ...farewell }
    switch (this.life) {
      case 'connected':
        if (force) {
          this.send(this.farewell)
          this.actions.push({ type: 'close' })
          this.toClosed()
        } else {
          this.move('closing')
          this.dueAt = now + this.options.endTimeout
          this.finishEnding()
        }
        break
      case 'connecting':
        this.actions.push({ type: 'close' })
        this.toClosed()
        break
      case 'starting':
      case 'reconnecting':
      case 'disconnected':
        this.toClosed()
        break
      default: // closing or closed: the first end() stands
    }
    return this.take()
  }

  // ---- internals ----

  private isUp(): boolean {
    return this.life === 'connected' || this.life === 'closing'
  }

  private move(to: LifeState, connack?: ConnackPacket): void {
    checkMove(this.life, to)
    const from = this.life
    this.life = to
    this.actions.push(connack ? { type: 'state', from, to, connack } : { type: 'state', from, to })
  }

  private connect(): void {
    this.connections++
    this.limits = undefined
    this.aliases = new TopicAliases(0, 0)
    this.move('connecting')
    this.dueAt = this.now + this.options.connectTimeout
    this.actions.push({ type: 'open', url: this.plan.server, attempt: this.plan.attempts })
  }

  /** We close the connection, for `error`. */
  private lose(error: MqttError): void {
    this.actions.push({ type: 'close', error })
    this.afterLoss(error)
  }

  /** The connection is gone: reconnect, give up, or finish an end() under way. */
  private afterLoss(cause: MqttError | undefined): void {
    this.failReauthentication(cause ?? new ConnectionClosedError('Connection closed during re-authentication'))
    if (this.life === 'closing') return this.toClosed()
    // Only a connection that was up had this flight on it: a failed attempt says nothing of the path.
    if (this.life === 'connected') this.window.lost(this.outgoing.publishesInFlightCount)
    const forGood = cause !== undefined && cause === this.refusedForGood
    const delay = forGood ? undefined : this.plan.next(this.now)
    if (delay === undefined) return this.giveUp(cause)
    this.move('reconnecting')
    this.dueAt = this.now + delay
  }

  /** No more connections: everything pending fails with the reason. */
  private giveUp(cause: MqttError | undefined): void {
    this.lastFailure ??= cause
    const reason = cause ? `Connection closed and not reconnecting: ${cause.message}` : 'Connection closed and not reconnecting'
    this.failAll(new ConnectionClosedError(reason, { cause }))
    this.dueAt = undefined
    this.move('disconnected')
  }

  private toClosed(): void {
    this.failAll(new ClientClosedError())
    this.dueAt = undefined
    this.move('closed')
  }

  private failAll(error: MqttError): void {
    for (const entry of this.outgoing.drain()) this.settle(entry, error)
    this.failReauthentication(error)
  }

  /** A re-authentication lasts one connection: it fails with the connection. */
  private failReauthentication(error: MqttError): void {
    if (this.reauthOp === undefined) return
    this.actions.push({ type: 'settle', op: this.reauthOp, error })
    this.reauthOp = undefined
  }

  private enqueue(entry: Entry<Op>): Array<Action<Op>> {
    if (!this.outgoing.add(entry)) {
      this.settle(entry, new QueueFullError(this.options.queueLimit))
      return this.take()
    }
    this.flush()
    return this.take()
  }

  /** Sends what the window allows while connected, and finishes a graceful end once nothing is left. */
  private flush(): void {
    if (!this.isUp()) return
    this.outgoing.flush(this.window.size, this.sink)
    this.finishEnding()
  }

  private finishEnding(): void {
    if (this.life !== 'closing' || !this.outgoing.idle) return
    this.send(this.farewell)
    this.actions.push({ type: 'close' })
    this.toClosed()
  }

  private onConnack(connack: ConnackPacket): void {
    if (this.life !== 'connecting') return this.refuseBroker(new ProtocolError('Protocol error from broker: a second CONNACK on one connection'))
    const code = connack.reasonCode ?? connack.returnCode ?? 0
    if (code !== 0) {
      this.followReference(code, connack.properties?.serverReference)
      return this.refused(code)
    }
    this.lastConnack = connack
    this.limits = connack.properties
    const assigned = connack.properties?.assignedClientIdentifier
    if (assigned) this.id = assigned
    // A broker may want pings sooner (or later) than we asked: its Server Keep Alive rules.
    this.keepalive.setPeriod(1000 * (connack.properties?.serverKeepAlive ?? this.options.keepalive))
    const aliasesToBroker = this.options.topicAliases === false ? 0 : (connack.properties?.topicAliasMaximum ?? 0)
    this.aliases = new TopicAliases(this.version === 5 ? (this.options.properties?.topicAliasMaximum ?? 0) : 0, aliasesToBroker)
    // Receive Maximum is never 0 (the reader refuses it); absent, the broker announced no limit.
    this.window.connected(connack.properties?.receiveMaximum || undefined)
    if (!connack.sessionPresent) this.incomingQos2.clear()
    // A broker that kept no session forgot our subscriptions: they are made again, first.
    const resubscribe = this.hadConnection && !connack.sessionPresent
    this.hadConnection = true
    this.plan.connected(this.now)
    this.dueAt = undefined
    this.move('connected', connack)
    const inFlight = this.outgoing.inFlight()
    if (resubscribe) this.resubscribe()
    this.outgoing.resend(inFlight, this.sink)
    this.flush()
  }

  private refused(code: number): void {
    if (this.options.protocolVersion === 'auto' && this.version === 5 && refusesVersion(code)) {
      // A 3.1.1 broker: speak 3.1.1 from now on, on a new socket at once, still connecting.
      this.version = 4
      this.actions.push({ type: 'close' }, { type: 'open', url: this.plan.server, attempt: this.plan.attempts })
      this.dueAt = this.now + this.options.connectTimeout
      return
    }
    const error = new ConnectionRefusedError(code, connackReason(code, this.version))
    if (isPermanentRefusal(code, this.version)) this.refusedForGood = error
    this.lose(error)
  }

  /** MQTT 5 "use another server" (0x9C, for one try) and "server moved" (0x9D, for good). */
  private followReference(code: number | undefined, reference: string | undefined): void {
    if (reference !== undefined && (code === USE_ANOTHER_SERVER || code === SERVER_MOVED)) this.plan.redirect(reference, code === SERVER_MOVED)
  }

  /** An AUTH from the broker: a challenge to answer, or (re-authentication) its success. */
  private onAuth(packet: AuthPacket): void {
    const method = this.options.properties?.authenticationMethod
    if (this.version !== 5 || !method || packet.properties?.authenticationMethod !== method) {
      return this.refuseBroker(new ProtocolError('Protocol error from broker: AUTH without our authentication method'))
    }
    // A re-authentication is only ever under way on a live connection, closing ones included.
    if (packet.reasonCode === 0 && this.reauthOp !== undefined) {
      this.actions.push({ type: 'settle', op: this.reauthOp })
      this.reauthOp = undefined
      return
    }
    if (packet.reasonCode !== CONTINUE_AUTHENTICATION) return this.refuseBroker(new ProtocolError(`Protocol error from broker: AUTH reason 0x${packet.reasonCode.toString(16)} out of place`))
    this.actions.push({ type: 'auth', packet, connection: this.connections })
  }

  private sendAuth(reasonCode: number, data: Uint8Array | undefined): void {
    const properties: NonNullable<AuthPacket['properties']> = { authenticationMethod: this.options.properties?.authenticationMethod as string }
    if (data) properties.authenticationData = data
    this.send({ cmd: 'auth', reasonCode, properties })
  }

  private onDisconnect(packet: DisconnectPacket): void {
    if (faultsThePacket(packet.reasonCode)) {
      // The operation just written is one the broker will never take: it fails with the
      // broker's reason, out of the queue and the store, and the connection is made again without it.
      const blamed = this.outgoing.takeLastSent()
      const what = blamed?.packet.cmd === 'publish' ? 'Publish' : blamed?.packet.cmd === 'subscribe' ? 'Subscribe' : 'Unsubscribe'
      if (blamed) this.settle(blamed, new ReasonCodeError(what, packet.reasonCode, packet.properties))
    }
    this.followReference(packet.reasonCode, packet.properties?.serverReference)
    // Another connection took our session: taking it back would knock that one off, and so on
    // forever (two tabs with one client id).
    if (packet.reasonCode === SESSION_TAKEN_OVER) return this.stopForGood(new SessionTakenOverError(disconnectMessage(packet)))
    this.lose(new ConnectionClosedError(disconnectMessage(packet)))
  }

  /**
   * A failure retrying cannot fix: the socket, if any, closes with it and no new one is opened;
   * without a socket it is reported and the wait to reconnect ends.
   */
  private stopForGood(error: MqttError): void {
    this.refusedForGood = error
    if (hasSocket(this.life)) return this.lose(error)
    this.actions.push({ type: 'error', error })
    this.giveUp(error)
  }

  /** SUBSCRIBE again for every filter the broker had granted, in packets of at most RESUBSCRIBE_BATCH filters. */
  private resubscribe(): void {
    // A SUBSCRIBE carries one set of properties: filters made with the same identifier and user
    // properties go together, so each is made again exactly as it was.
    for (const { properties, subscriptions: granted } of bySubscribeProperties(this.subscriptions.granted())) {
      for (let i = 0; i < granted.length; i += RESUBSCRIBE_BATCH) {
        const packet: SubscribePacket = { cmd: 'subscribe', messageId: 0, subscriptions: granted.slice(i, i + RESUBSCRIBE_BATCH) }
        if (properties) packet.properties = properties
        this.outgoing.sendNow({ op: undefined, packet, pubrec: undefined }, this.sink)
      }
    }
  }

  private onPublish(packet: IncomingPublishPacket): void {
    const topic = this.aliases.resolve(packet)
    if (topic === undefined) {
      // A broker bug; the next connection starts afresh.
      const alias = packet.properties?.topicAlias
      const why = alias === undefined ? 'a PUBLISH with no topic and no topic alias' : `topic alias ${alias}, which it never set or is over our maximum`
      return this.refuseBroker(new ProtocolError(`Protocol error from broker: ${why}`, { reasonCode: alias === undefined ? PROTOCOL_ERROR : TOPIC_ALIAS_INVALID }))
    }
    packet.topic = topic
    const id = packet.messageId as number
    if (packet.qos === 0) {
      this.actions.push({ type: 'message', packet })
    } else if (packet.qos === 1) {
      this.actions.push({ type: 'message', packet })
      this.send({ cmd: 'puback', messageId: id })
    } else {
      // Delivered on first sight, remembered until PUBREL, so a re-sent copy is acknowledged but not delivered twice.
      if (!this.incomingQos2.has(id)) {
        // The Receive Maximum we announced bounds what awaits PUBREL (MQTT 5 §3.3.4); past it the broker is at fault.
        if (this.incomingQos2.size >= this.receiveMaximum()) {
          return this.refuseBroker(new ProtocolError(`Protocol error from broker: more than our Receive Maximum of ${this.receiveMaximum()} QoS 2 messages unreleased`, { reasonCode: RECEIVE_MAXIMUM_EXCEEDED }))
        }
        this.incomingQos2.add(id)
        this.actions.push({ type: 'message', packet })
      }
      this.send({ cmd: 'pubrec', messageId: id })
    }
  }

  /** PUBREL for an incoming QoS 2 message: PUBCOMP, with 0x92 on MQTT 5 when we hold no such id. */
  private onPubrel(packet: AckPacket): void {
    const known = this.incomingQos2.delete(packet.messageId)
    const pubcomp: AckPacket = { cmd: 'pubcomp', messageId: packet.messageId }
    if (!known && this.version === 5) pubcomp.reasonCode = PACKET_ID_NOT_FOUND
    this.send(pubcomp)
  }

  /** What we announced as Receive Maximum on MQTT 5, or the packet id space (which bounds it anyway). */
  private receiveMaximum(): number {
    return (this.version === 5 ? this.options.properties?.receiveMaximum : undefined) ?? 65_535
  }

  private onPublishAck(ack: AckPacket): void {
    if (!this.outgoing.awaits(ack.messageId)) return this.unknownAck(ack)
    const error = publishAckError(ack)
    const inFlight = this.outgoing.publishesInFlightCount
    const entry = this.outgoing.acknowledgePublish(ack, error === undefined, this.sink)
    // A PUBREC shows the broker took the message, as a PUBACK does: the window grows on it too, or
    // QoS 2, which holds each place for two round trips, would find the path half as fast.
    if (entry || (ack.cmd === 'pubrec' && error === undefined)) this.window.acked(inFlight)
    if (!entry) return this.flush()
    if (ack.cmd === 'puback' && entry.packet.qos === 2) {
      this.warn('QOS2_DOWNGRADED', 'The broker answered a QoS 2 publish with PUBACK: it takes QoS 2 as QoS 1 (RabbitMQ does), so such messages are delivered at least once, not exactly once')
    }
    // A QoS 2 publish is judged by its PUBREC, which says whether anyone subscribed.
    this.settle(entry, error, undefined, error ? undefined : publishResult(entry.pubrec ?? ack))
    this.flush()
  }

  /**
   * An ack for a packet id with nothing in flight: late, duplicated, or the broker's mistake.
   * Ignored and counted; a PUBREC still gets its PUBREL, so the broker can let go of the id.
   */
  private unknownAck(ack: AckPacket | SubackPacket | UnsubackPacket): void {
    this.unknownAcks++
    if (ack.cmd !== 'pubrec') return
    const pubrel: AckPacket = { cmd: 'pubrel', messageId: ack.messageId }
    if (this.version === 5) pubrel.reasonCode = PACKET_ID_NOT_FOUND
    this.send(pubrel)
  }

  private warn(code: ProtocolWarning['code'], message: string): void {
    if (this.warned.has(code)) return
    this.warned.add(code)
    this.actions.push({ type: 'warning', warning: { code, message } })
  }

  private onSubscriptionAck(ack: SubackPacket | UnsubackPacket): void {
    const kind = ack.cmd === 'suback' ? 'subscribe' : 'unsubscribe'
    const sent = this.outgoing.awaitedSubscription(kind, ack.messageId)
    if (!sent) return this.unknownAck(ack)
    // One code per filter, or the broker answered some other request: nothing can be trusted then.
    // A 3.1.1 UNSUBACK carries no codes at all.
    const codes = ack.granted ?? []
    const filters = sent.packet.cmd === 'subscribe' ? sent.packet.subscriptions.length : sent.packet.unsubscriptions.length
    if ((ack.cmd === 'suback' || this.version === 5) && codes.length !== filters) {
      return this.refuseBroker(new ProtocolError(`Protocol error from broker: ${ack.cmd.toUpperCase()} with ${codes.length} codes for ${filters} filters`))
    }
    this.outgoing.acknowledgeSubscription(kind, ack.messageId)
    if (sent.packet.cmd === 'subscribe') {
      const { granted, error } = subackOutcome(sent.packet.subscriptions, codes, ack.properties)
      this.settle(sent, error, granted)
    } else {
      const error = unsubackError(codes, ack.properties)
      this.settle(sent, error, undefined, error ? undefined : unsubscribeResult(codes, ack.properties))
    }
    this.flush()
  }

  private settle(entry: Entry<Op>, error?: MqttError, granted?: Granted[], result?: PublishResult | UnsubscribeResult): void {
    if (entry.op === undefined) {
      // The session's own SUBSCRIBE: nobody awaits it, so a failure is reported.
      if (error) this.actions.push({ type: 'error', error })
      return
    }
    const action: Extract<Action<Op>, { type: 'settle' }> = { type: 'settle', op: entry.op }
    if (error) action.error = error
    if (granted) action.granted = granted
    if (result) action.result = result
    this.actions.push(action)
  }

  private checkKeepalive(): void {
    const due = this.keepalive.check(this.now)
    if (due === 'ping') {
      this.send({ cmd: 'pingreq' })
      this.keepalive.pinged(this.now)
    } else if (due === 'timeout') {
      this.lose(new KeepaliveTimeoutError())
    }
  }

  /** Sends a packet, or answers why it cannot: it does not encode, or the broker would not take it. */
  private send(given: Packet): MqttError | undefined {
    const packet = given.cmd === 'publish' ? this.aliases.outgoingPacket(given) : given
    let bytes: Uint8Array
    try {
      bytes = encode(packet, this.version)
    } catch (err) {
      return err as MqttError
    }
    const refusal = this.isUp() ? brokerRefuses(this.limits, packet, bytes.length) : undefined
    if (refusal) return refusal
    if (packet.cmd === 'publish') this.aliases.written(packet)
    this.keepalive.sent(this.now)
    this.actions.push({ type: 'send', packet, bytes })
    return undefined
  }

  private violation(message: string): Array<Action<Op>> {
    this.refuseBroker(new ProtocolError(`Protocol error from broker: ${message}`))
    return this.take()
  }

  /**
   * The broker broke the protocol: on MQTT 5 it hears why (MQTT 5 §4.13, DISCONNECT with the
   * error's reason code), then the connection closes with the error. Nothing queued or in flight
   * is given up: it goes again on the next connection, where the options allow one.
   */
  private refuseBroker(error: ProtocolError): void {
    if (this.version === 5) this.send({ cmd: 'disconnect', reasonCode: error.reasonCode })
    this.lose(error)
  }

  private take(): Array<Action<Op>> {
    const out = this.actions
    this.actions = []
    return out
  }
}

/** Subscriptions sorted into runs that share their SUBSCRIBE properties, in first-seen order. */
function bySubscribeProperties(all: GrantedSubscription[]): Array<{ properties?: SubscribeProperties; subscriptions: Subscription[] }> {
  const runs = new Map<string, { properties?: SubscribeProperties; subscriptions: Subscription[] }>()
  for (const { properties, ...subscription } of all) {
    const key = properties ? JSON.stringify([properties.subscriptionIdentifier, properties.userProperties]) : ''
    let run = runs.get(key)
    if (!run) {
      run = properties ? { properties, subscriptions: [] } : { subscriptions: [] }
      runs.set(key, run)
    }
    run.subscriptions.push(subscription)
  }
  return [...runs.values()]
}

function disconnectMessage(packet: DisconnectPacket): string {
  const code = packet.reasonCode ?? 0
  const why = packet.properties?.reasonString ?? reasonText(code)
  return `Broker sent DISCONNECT (code 0x${code.toString(16)}): ${why}`
}
