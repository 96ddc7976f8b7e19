import { Decoder } from '../codec/decoder.js'
import { encode } from '../codec/encode.js'
import type { ConnackPacket, IncomingPacket, Packet, SubscribePacket } from '../codec/packets.js'
import {
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  MqttError,
  ReasonCodeError,
  SubscribeError,
  TransportError,
} from '../errors.js'
import { type Action, type OpId, Protocol } from '../protocol/protocol.js'
import { isPermanentRefusal } from '../protocol/reason-codes.js'
import { MessageIterator } from '../routing/message-iterator.js'
import { Router, type Sink } from '../routing/router.js'
import type { Transport } from '../transport/transport.js'
import { WebSocketTransport } from '../transport/websocket.js'
import { TypedEmitter } from './emitter.js'
import type { ClientState, MqttClientEvents } from './events.js'
import { Message, type MessageHandler } from './message.js'
import { type ClientOptions, type ResolvedOptions, resolveOptions } from '../input/options.js'
import type { Payload } from '../input/payload.js'
import {
  buildPublish,
  buildSubscriptions,
  buildUnsubscriptions,
  type Granted,
  type PublishOptions,
  type SubscribeOptions,
  type SubscriptionMap,
} from '../input/requests.js'
import { type NetworkWatch, watchNetwork } from '../platform/network.js'
import { Outbox } from '../store/outbox.js'
import { ReconnectPlan } from '../protocol/reconnect.js'
import { now, plainTimers, type TimerHandle, type Timers } from '../platform/timers.js'
import { acquireTimers, releaseTimers } from '../platform/worker-timers.js'

interface PendingOp {
  resolve(codes: number[] | undefined): void
  reject(error: MqttError): void
}

export interface EndOptions {
  /** Close at once: queued and in-flight operations are rejected rather than waited for. */
  force?: boolean
}

/**
 * An MQTT client over WebSocket. It owns the transport, the timers and reconnecting, feeds the
 * protocol state machine, and turns its actions into Promises and events.
 */
export class MqttClient extends TypedEmitter<MqttClientEvents> {
  readonly options: Readonly<Omit<ResolvedOptions, 'password'>>
  private readonly config: ResolvedOptions
  private readonly protocol: Protocol
  private readonly router = new Router<Message>()
  private readonly ops = new Map<OpId, PendingOp>()
  private readonly plan: ReconnectPlan
  private readonly outbox: Outbox
  /** Plain until the first open(); a Worker's from then on where the platform has one. */
  private timers: Timers = plainTimers
  private network: NetworkWatch | undefined
  /** Set while the store's leftovers load, before the first connection. */
  private restoring: Promise<void> | undefined
  private hadConnection = false
  private nextOp = 1
  private currentState: ClientState = 'connecting'
  private transport: Transport | undefined
  private decoder: Decoder | undefined
  /** Why we closed the transport ourselves, reported when it finishes closing. */
  private closeReason: MqttError | undefined
  private permanentFailure: MqttError | undefined
  private deadlineTimer: TimerHandle | undefined
  private deadlineAt = Infinity
  private connectTimer: TimerHandle | undefined
  private reconnectTimer: TimerHandle | undefined
  private endTimer: TimerHandle | undefined
  private ending: Promise<void> | undefined
  private finishEnd: (() => void) | undefined

  constructor(url: string, options: ClientOptions = {}) {
    super()
    this.config = resolveOptions(url, options)
    const { password: _secret, ...visible } = this.config
    this.options = Object.freeze(visible)
    this.protocol = new Protocol(this.config)
    this.plan = new ReconnectPlan(this.config.servers, this.config.reconnect)
    this.outbox = new Outbox(this.config.store, (err) => this.report(err))
  }

  get state(): ClientState {
    return this.currentState
  }

  get connected(): boolean {
    return this.currentState === 'connected'
  }

  get clientId(): string {
    return this.config.clientId
  }

  /** Opens the connection. Called by connect(); only needed after `new MqttClient(...)`. */
  open(): this {
    if (this.transport || this.ending || this.restoring) return this
    if (!this.network) {
      // First open: take up timers and network events, and load what the store kept, before any socket.
      this.timers = acquireTimers()
      this.network = watchNetwork({ online: () => this.onOnline(), offline: () => this.onOffline() })
      this.restoring = this.restoreStored().finally(() => {
        this.restoring = undefined
        this.openTransport()
      })
      return this
    }
    this.openTransport()
    return this
  }

  private async restoreStored(): Promise<void> {
    const restored = await this.outbox.restore(() => this.nextOp++)
    if (restored.length === 0 || this.ending) return
    // Nobody awaits these any more: a failure is reported as an error event.
    for (const { op } of restored) this.ops.set(op, { resolve: noValue, reject: (err) => this.report(err) })
    this.run(this.protocol.restore(restored, now()))
  }

  private openTransport(): void {
    if (this.transport || this.ending) return
    this.clearTimer('reconnectTimer')
    this.closeReason = undefined
    this.decoder = new Decoder({ protocolVersion: this.config.protocolVersion, maxPacketSize: this.config.maxPacketSize })
    this.connectTimer = this.timers.set(() => {
      this.connectTimer = undefined
      this.closeTransport(new ConnectTimeoutError(this.config.connectTimeout))
    }, this.config.connectTimeout)
    try {
      this.transport = new WebSocketTransport(
        this.plan.server,
        {
          onOpen: () => this.run(this.protocol.connectionOpened(now())),
          onData: (bytes) => this.receive(bytes),
          onClose: (error) => this.transportClosed(error),
        },
        this.config.WebSocket,
      )
    } catch (err) {
      queueMicrotask(() => this.transportClosed(err as MqttError))
    }
  }

  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<void> {
    return this.request((op) => {
      const packet = buildPublish(topic, payload, options, this.config.protocolVersion)
      this.outbox.accepted(op, packet)
      return this.protocol.publish(op, packet, now())
      // A publish settles without codes: its promise already resolves to undefined, and a
      // .then() here would cost every queued message another promise.
    }) as Promise<unknown> as Promise<void>
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
    return this.subscribeWith(target, options, handler ? handlerSink(handler) : undefined)
  }

  private subscribeWith(target: unknown, options: SubscribeOptions | undefined, sink?: Sink<Message>): Promise<Granted[]> {
    let subscriptions: SubscribePacket['subscriptions'] = []
    const sent = this.request((op) => {
      subscriptions = buildSubscriptions(target, options, this.config.protocolVersion)
      // Routes go in before SUBSCRIBE, so retained messages that follow the SUBACK find their handler.
      for (const sub of subscriptions) this.router.add(sub, sink)
      const packet: Omit<SubscribePacket, 'messageId'> = { cmd: 'subscribe', subscriptions }
      if (options?.properties) packet.properties = { ...options.properties }
      return this.protocol.subscribe(op, packet, now())
    })
    return sent.then(
      (codes) => {
        const granted = subscriptions.map((s, i) => ({ topic: s.topic, qos: codes?.[i] ?? 0x80 }))
        for (const g of granted) {
          if (g.qos >= 0x80) this.router.forget(g.topic)
          else this.router.confirm(g.topic)
        }
        if (granted.every((g) => g.qos < 0x80)) return granted
        throw new SubscribeError(granted)
      },
      (error: unknown) => {
        if (sink) for (const sub of subscriptions) this.router.removeSink(sub.topic, sink)
        throw error
      },
    )
  }

  unsubscribe(target: string | string[]): Promise<void> {
    return this.request((op) => {
      const topics = buildUnsubscriptions(target)
      for (const topic of topics) this.router.remove(topic)
      return this.protocol.unsubscribe(op, { cmd: 'unsubscribe', unsubscriptions: topics }, now())
    }).then((codes) => {
      const failed = codes?.find((c) => c >= 0x80)
      if (failed !== undefined) throw new ReasonCodeError('Unsubscribe', failed)
    })
  }

  /**
   * Messages on `filter`, as an async iterator. Subscribes at the broker (at `qos`) unless this
   * client already has that filter; a `break` stops it and unsubscribes when nothing else uses the
   * filter. It ends when the client ends, and throws if the subscription is refused.
   */
  messages(filter: string, options: SubscribeOptions = {}): AsyncIterableIterator<Message> {
    const shared = this.router.has(filter)
    const iterator: MessageIterator<Message> = new MessageIterator(() => {
      if (this.router.removeSink(filter, iterator) && !shared && !this.ending) {
        this.unsubscribe(filter).catch(() => undefined)
      }
    })
    if (shared) this.router.addSink(filter, iterator)
    else this.subscribeWith(filter, options, iterator).catch((err: unknown) => iterator.fail(err))
    return iterator
  }

  /**
   * Ends the client. Graceful by default: waits (up to endTimeout) for queued and in-flight
   * messages to settle, then sends DISCONNECT, so the broker does not publish the will.
   * With `force`, sends DISCONNECT at once and rejects what is still pending.
   */
  end(options: EndOptions = {}): Promise<void> {
    if (this.ending) return this.ending
    this.ending = new Promise((resolve) => {
      this.finishEnd = resolve
    })
    this.clearTimer('reconnectTimer')
    if (!this.transport) {
      this.finish()
    } else if (options.force || !this.protocol.connected) {
      if (this.protocol.connected) this.sendPacket({ cmd: 'disconnect' })
      this.closeTransport()
    } else {
      this.endTimer = this.timers.set(() => {
        // Still an intended end: say so, so the broker does not publish the will.
        if (this.protocol.connected) this.sendPacket({ cmd: 'disconnect' })
        this.closeTransport()
      }, this.config.endTimeout)
      this.run(this.protocol.end(now()))
    }
    return this.ending
  }

  // ---- plumbing ----

  /** Runs a caller request: any validation error rejects without touching the wire. */
  private request(start: (op: OpId) => Action[]): Promise<number[] | undefined> {
    const refusal = this.refusal()
    if (refusal) return Promise.reject(refusal)
    const op = this.nextOp++
    let actions: Action[]
    try {
      actions = start(op)
    } catch (err) {
      return Promise.reject(err)
    }
    const promise = new Promise<number[] | undefined>((resolve, reject) => this.ops.set(op, { resolve, reject }))
    this.run(actions)
    return promise
  }

  /** Why no new operation can be accepted now, if so. */
  private refusal(): MqttError | undefined {
    if (this.ending) return new ClientClosedError('Client is ending: no new operations are accepted')
    if (this.currentState === 'disconnected') {
      const why = this.permanentFailure ? `: ${this.permanentFailure.message}` : ''
      return new ConnectionClosedError(`Client is disconnected and will not reconnect${why}`, { cause: this.permanentFailure })
    }
    return undefined
  }

  private receive(bytes: Uint8Array): void {
    const transport = this.transport
    let packets: IncomingPacket[]
    try {
      packets = (this.decoder as Decoder).push(bytes)
    } catch (err) {
      this.closeTransport(err as MqttError)
      return
    }
    for (const packet of packets) {
      // A packet can close the connection (a refusal, a protocol error); the rest are moot then.
      if (this.transport !== transport || this.closeReason) return
      if (this.listenerCount('packetreceive') > 0) this.emit('packetreceive', packet)
      this.run(this.protocol.packetReceived(packet, now()))
    }
  }

  private run(actions: Action[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.sendPacket(action.packet)
          break
        case 'settle':
          this.settle(action.op, action.error, action.codes)
          break
        case 'message':
          this.deliver(new Message(action.packet))
          break
        case 'connected':
          this.onConnected(action.connack)
          break
        case 'refused':
          if (isPermanentRefusal(action.error.returnCode, this.config.protocolVersion)) this.permanentFailure = action.error
          break
        case 'disconnected':
          this.emit('disconnect', action.packet)
          break
        case 'close':
          this.closeTransport(action.error)
          break
      }
    }
    this.scheduleDeadline()
  }

  private sendPacket(packet: Packet): void {
    const transport = this.transport
    if (!transport) return
    let bytes: Uint8Array
    try {
      bytes = encode(packet, this.config.protocolVersion)
    } catch (err) {
      this.report(err)
      return
    }
    if (this.listenerCount('packetsend') > 0) this.emit('packetsend', redact(packet))
    transport.send(bytes)
  }

  private settle(op: OpId, error: MqttError | undefined, codes: number[] | undefined): void {
    this.outbox.settled(op)
    const pending = this.ops.get(op)
    if (!pending) return
    this.ops.delete(op)
    if (error) pending.reject(error)
    else pending.resolve(codes)
  }

  private deliver(message: Message): void {
    try {
      this.emit('message', message.topic, message.payload, message.packet)
    } catch (err) {
      this.report(err)
    }
    this.router.dispatch(message, (err) => this.report(err))
  }

  private onConnected(connack: ConnackPacket): void {
    this.clearTimer('connectTimer')
    this.plan.connected(now())
    this.currentState = 'connected'
    // A broker that kept no session forgot our subscriptions: make them again.
    if (this.hadConnection && !connack.sessionPresent) this.resubscribe()
    this.hadConnection = true
    this.emit('connect', connack)
  }

  /** SUBSCRIBE again for every filter the broker had confirmed, in packets of at most 50 filters. */
  private resubscribe(): void {
    const subscriptions = this.router.subscriptions({ confirmedOnly: true })
    for (let i = 0; i < subscriptions.length; i += 50) {
      const batch = subscriptions.slice(i, i + 50)
      const op = this.nextOp++
      this.ops.set(op, {
        resolve: (codes) => {
          const granted = batch.map((sub, j) => ({ topic: sub.topic, qos: codes?.[j] ?? 0x80 }))
          if (granted.some((g) => g.qos >= 0x80)) this.report(new SubscribeError(granted))
        },
        reject: (err) => this.report(err),
      })
      this.run(this.protocol.subscribe(op, { cmd: 'subscribe', subscriptions: batch }, now()))
    }
  }

  /** The browser is back online: retry now rather than when the backoff says. */
  private onOnline(): void {
    if (this.currentState !== 'reconnecting' || this.transport) return
    this.clearTimer('reconnectTimer')
    this.emit('reconnect')
    this.open()
  }

  /** The browser says the network is gone: the socket is as good as dead, so stop trusting it now. */
  private onOffline(): void {
    this.closeTransport(new TransportError('The browser went offline'))
  }

  private closeTransport(reason?: MqttError): void {
    if (!this.transport) return
    this.closeReason ??= reason
    this.transport.close()
  }

  private transportClosed(transportError: MqttError | undefined): void {
    const error = this.closeReason ?? transportError
    const wasConnected = this.currentState === 'connected'
    this.transport = undefined
    this.decoder = undefined
    this.closeReason = undefined
    this.clearTimer('connectTimer')
    this.run(this.protocol.connectionClosed())
    if (error) this.report(error)
    if (this.ending) {
      this.emit('close')
      return this.finish()
    }
    const permanent = error instanceof ConnectionRefusedError && this.permanentFailure === error
    const delay = permanent ? undefined : this.plan.next(now())
    if (delay === undefined) return this.giveUp(error, wasConnected)
    // The state is settled before the events, so listeners read where the client is now.
    this.currentState = 'reconnecting'
    this.emit('close')
    if (wasConnected) this.emit('offline')
    this.reconnectTimer = this.timers.set(() => {
      this.reconnectTimer = undefined
      // While the browser reports no network, wait for its online event instead.
      if (this.network?.isOnline() === false) return
      this.emit('reconnect')
      this.open()
    }, delay)
  }

  /** No more connections: everything pending fails with the reason. */
  private giveUp(cause: MqttError | undefined, wasConnected: boolean): void {
    this.currentState = 'disconnected'
    this.permanentFailure ??= cause
    const error = new ConnectionClosedError(
      cause ? `Connection closed and not reconnecting: ${cause.message}` : 'Connection closed and not reconnecting',
      { cause },
    )
    this.run(this.protocol.failAll(error))
    this.router.clear()
    this.clearTimer('deadlineTimer')
    this.emit('close')
    if (wasConnected) this.emit('offline')
  }

  private finish(): void {
    this.run(this.protocol.failAll(new ClientClosedError()))
    this.router.clear()
    for (const timer of ['deadlineTimer', 'connectTimer', 'reconnectTimer', 'endTimer'] as const) this.clearTimer(timer)
    this.currentState = 'closed'
    this.network?.stop()
    releaseTimers(this.timers)
    this.timers = plainTimers
    void this.outbox.close()
    this.emit('end')
    this.finishEnd?.()
  }

  /** One timer serves the protocol's deadlines; it is moved only when a deadline comes sooner. */
  private scheduleDeadline(): void {
    const at = this.protocol.nextDeadline()
    if (at === undefined) {
      this.clearTimer('deadlineTimer')
      return
    }
    if (this.deadlineTimer !== undefined && this.deadlineAt <= at) return
    this.clearTimer('deadlineTimer')
    this.deadlineAt = at
    this.deadlineTimer = this.timers.set(() => {
      this.deadlineTimer = undefined
      this.deadlineAt = Infinity
      this.run(this.protocol.tick(now()))
    }, Math.max(0, at - now()))
  }

  private clearTimer(name: 'deadlineTimer' | 'connectTimer' | 'reconnectTimer' | 'endTimer'): void {
    const handle = this[name]
    if (handle === undefined) return
    this.timers.clear(handle)
    this[name] = undefined
    if (name === 'deadlineTimer') this.deadlineAt = Infinity
  }

  private report(err: unknown): void {
    this.emit('error', err instanceof Error ? err : new MqttError('UNKNOWN', String(err)))
  }
}

function handlerSink(handler: MessageHandler): Sink<Message> {
  return { deliver: handler, end: noValue }
}

/** Passwords never leave the client, not even in packetsend events. */
function redact(packet: Packet): Packet {
  if (packet.cmd !== 'connect' || packet.password === undefined) return packet
  const { password: _secret, ...rest } = packet
  return rest
}

function noValue(): void {}
