import type {
  AckPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  IncomingPacket,
  IncomingPublishPacket,
  Packet,
  ProtocolVersion,
  PublishPacket,
  SubscribePacket,
  UnsubscribePacket,
} from '../codec/packets.js'
import {
  ConnectionClosedError,
  ConnectionRefusedError,
  KeepaliveTimeoutError,
  type MqttError,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
} from '../errors.js'
import { Fifo } from './fifo.js'
import { Keepalive } from './keepalive.js'
import { PacketIdAllocator } from './packet-ids.js'
import { connackReason, reasonText } from './reason-codes.js'

/** Identifies one caller operation (publish, subscribe, unsubscribe) so its outcome can be reported. */
export type OpId = number

/** The CONNECT fields of the session, and the limits the protocol keeps. */
export interface ProtocolOptions
  extends Pick<ConnectPacket, 'protocolVersion' | 'clientId' | 'clean' | 'keepalive' | 'username' | 'password' | 'will' | 'properties'> {
  /** Most QoS 1/2 publishes awaiting acknowledgement at once; brokers cap this too. */
  maxInflight: number
  /** Most operations waiting to be sent (offline, or behind a full window). */
  queueLimit: number
  /** Whether QoS 0 publishes wait while offline; if not, they fail with OfflineError. */
  queueQoS0: boolean
}

/** What the protocol asks of the layer that owns the socket. Carried out in order. */
export type Action =
  | { type: 'send'; packet: Packet }
  /** An operation finished: `error` when it failed; `codes` are SUBACK/UNSUBACK codes. */
  | { type: 'settle'; op: OpId; error?: MqttError; codes?: number[] }
  | { type: 'connected'; connack: ConnackPacket }
  | { type: 'refused'; connack: ConnackPacket; error: ConnectionRefusedError }
  | { type: 'message'; packet: IncomingPublishPacket }
  /** The broker sent DISCONNECT (MQTT 5). A `close` action follows. */
  | { type: 'disconnected'; packet: DisconnectPacket }
  /** Close the connection; `error` says why when it is not a normal end. */
  | { type: 'close'; error?: MqttError }

/** A QoS 2 publish moves from waiting for PUBREC to waiting for PUBCOMP; everything else stays at 'ack'. */
type Phase = 'ack' | 'pubcomp'

type Outgoing =
  | { kind: 'publish'; op: OpId; packet: PublishPacket; phase: Phase }
  | { kind: 'subscribe'; op: OpId; packet: SubscribePacket; phase: Phase }
  | { kind: 'unsubscribe'; op: OpId; packet: UnsubscribePacket; phase: Phase }

type Connection = 'offline' | 'connecting' | 'connected'

/**
 * The MQTT session as a state machine free of I/O. It is fed events (connection opened or closed,
 * packet received, caller asked for something, time is now T) and answers with actions. It owns
 * packet ids, the outgoing queue and in-flight window, incoming QoS 2 state and keepalive.
 *
 * Session state survives a closed connection: in-flight messages are sent again (DUP set) after
 * the next CONNACK, and queued ones follow in order. Only failAll() gives up on them.
 */
export class Protocol {
  private readonly ids = new PacketIdAllocator()
  private readonly queue = new Fifo<Outgoing>()
  /** In id-allocation order, which is the order the messages must be re-sent in. */
  private readonly inflight = new Map<number, Outgoing>()
  private inflightPublishes = 0
  /** Incoming QoS 2 ids delivered and awaiting PUBREL: a re-sent PUBLISH with one is not delivered again. */
  private readonly incomingQos2 = new Set<number>()
  private readonly keepalive: Keepalive
  private connection: Connection = 'offline'
  private window: number
  private ending = false
  private actions: Action[] = []

  constructor(private readonly options: ProtocolOptions) {
    this.keepalive = new Keepalive(options.keepalive * 1000)
    this.window = options.maxInflight
  }

  get connected(): boolean {
    return this.connection === 'connected'
  }

  /** Nothing queued and nothing awaiting acknowledgement. */
  get idle(): boolean {
    return this.queue.length === 0 && this.inflight.size === 0
  }

  get queued(): number {
    return this.queue.length
  }

  get inflightCount(): number {
    return this.inflight.size
  }

  // ---- network events ----

  connectionOpened(now: number): Action[] {
    this.connection = 'connecting'
    this.keepalive.reset(now)
    const o = this.options
    const connect: ConnectPacket = {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: o.protocolVersion,
      clientId: o.clientId,
      clean: o.clean,
      keepalive: o.keepalive,
    }
    if (o.username !== undefined) connect.username = o.username
    if (o.password !== undefined) connect.password = o.password
    if (o.will) connect.will = o.will
    if (o.properties && o.protocolVersion === 5) connect.properties = o.properties
    this.send(connect, now)
    return this.take()
  }

  /** The connection is gone. Session state is kept for the next connection. */
  connectionClosed(): Action[] {
    this.connection = 'offline'
    return this.take()
  }

  packetReceived(packet: IncomingPacket, now: number): Action[] {
    this.keepalive.received(now)
    if (this.connection === 'connecting' && packet.cmd !== 'connack') {
      return this.violation(`expected CONNACK first, got ${packet.cmd.toUpperCase()}`)
    }
    switch (packet.cmd) {
      case 'connack':
        this.onConnack(packet, now)
        break
      case 'publish':
        this.onPublish(packet, now)
        break
      case 'pubrel':
        this.incomingQos2.delete(packet.messageId)
        this.send({ cmd: 'pubcomp', messageId: packet.messageId }, now)
        break
      case 'puback':
      case 'pubrec':
      case 'pubcomp':
        this.onPublishAck(packet, now)
        break
      case 'suback':
        this.onSubscriptionAck('subscribe', packet.messageId, packet.granted, now)
        break
      case 'unsuback':
        this.onSubscriptionAck('unsubscribe', packet.messageId, packet.granted ?? [], now)
        break
      case 'pingresp':
        break
      case 'disconnect':
        this.actions.push({ type: 'disconnected', packet })
        this.closeWith(new ConnectionClosedError(disconnectMessage(packet)))
        break
      default:
        return this.violation(`unexpected ${packet.cmd.toUpperCase()} from broker`)
    }
    return this.take()
  }

  /** Time has passed: send a ping or declare the connection dead. */
  tick(now: number): Action[] {
    if (this.connection !== 'connected') return this.take()
    const due = this.keepalive.check(now)
    if (due === 'ping') {
      this.keepalive.pinged(now)
      this.actions.push({ type: 'send', packet: { cmd: 'pingreq' } })
    } else if (due === 'timeout') {
      this.closeWith(new KeepaliveTimeoutError())
    }
    return this.take()
  }

  /** When tick() must next be called, or undefined when nothing is timed. */
  nextDeadline(): number | undefined {
    return this.connection === 'connected' ? this.keepalive.nextDeadline() : undefined
  }

  // ---- caller events (input is validated before it gets here) ----

  publish(op: OpId, packet: PublishPacket, now: number): Action[] {
    if (packet.qos === 0 && this.connection !== 'connected' && !this.options.queueQoS0) {
      this.actions.push({ type: 'settle', op, error: new OfflineError() })
      return this.take()
    }
    return this.enqueue({ kind: 'publish', op, packet, phase: 'ack' }, now)
  }

  /**
   * Messages a store kept from an earlier run go ahead of everything queued, in their order. The
   * queue limit does not apply: they were accepted once already.
   */
  restore(messages: ReadonlyArray<{ op: OpId; packet: PublishPacket }>, now: number): Action[] {
    this.queue.unshiftAll(messages.map(({ op, packet }) => ({ kind: 'publish' as const, op, packet, phase: 'ack' as const })))
    this.flush(now)
    return this.take()
  }

  subscribe(op: OpId, packet: Omit<SubscribePacket, 'messageId'>, now: number): Action[] {
    return this.enqueue({ kind: 'subscribe', op, packet: { ...packet, messageId: 0 }, phase: 'ack' }, now)
  }

  unsubscribe(op: OpId, packet: Omit<UnsubscribePacket, 'messageId'>, now: number): Action[] {
    return this.enqueue({ kind: 'unsubscribe', op, packet: { ...packet, messageId: 0 }, phase: 'ack' }, now)
  }

  /**
   * Graceful end: once everything queued and in flight has settled, send DISCONNECT and close.
   * While offline there is nothing to wait for; the owner gives up with failAll().
   */
  end(now: number): Action[] {
    this.ending = true
    this.finishEnding(now)
    return this.take()
  }

  /** Gives up on every queued and in-flight operation, rejecting each with `error`. */
  failAll(error: MqttError): Action[] {
    for (const entry of this.inflight.values()) this.actions.push({ type: 'settle', op: entry.op, error })
    for (const entry of this.queue.drain()) this.actions.push({ type: 'settle', op: entry.op, error })
    this.inflight.clear()
    this.inflightPublishes = 0
    this.ids.clear()
    return this.take()
  }

  // ---- internals ----

  private enqueue(entry: Outgoing, now: number): Action[] {
    if (this.queue.length >= this.options.queueLimit) {
      this.actions.push({ type: 'settle', op: entry.op, error: new QueueFullError(this.options.queueLimit) })
      return this.take()
    }
    this.queue.push(entry)
    this.flush(now)
    return this.take()
  }

  /** Sends queued operations in order while connected and the window and id space allow. */
  private flush(now: number): void {
    if (this.connection !== 'connected') return
    for (;;) {
      const head = this.queue.peek()
      if (!head) break
      if (head.kind === 'publish' && head.packet.qos === 0) {
        this.queue.shift()
        this.send(head.packet, now)
        this.actions.push({ type: 'settle', op: head.op })
        continue
      }
      if (head.kind === 'publish' && this.inflightPublishes >= this.window) break
      const id = this.ids.allocate()
      if (id === undefined) break
      this.queue.shift()
      head.packet.messageId = id
      this.inflight.set(id, head)
      if (head.kind === 'publish') this.inflightPublishes++
      this.send(head.packet, now)
    }
    this.finishEnding(now)
  }

  private onConnack(connack: ConnackPacket, now: number): void {
    if (this.connection !== 'connecting') {
      // Not violation(): that hands back the actions so far, and this caller's are taken later.
      this.closeWith(new ProtocolError('unexpected CONNACK'))
      return
    }
    const code = connack.reasonCode ?? connack.returnCode ?? 0
    if (code !== 0) {
      const error = new ConnectionRefusedError(code, connackReason(code, this.options.protocolVersion))
      this.actions.push({ type: 'refused', connack, error })
      this.closeWith(error)
      return
    }
    this.connection = 'connected'
    const brokerMax = connack.properties?.receiveMaximum
    this.window = brokerMax ? Math.min(this.options.maxInflight, brokerMax) : this.options.maxInflight
    if (!connack.sessionPresent) this.incomingQos2.clear()
    this.actions.push({ type: 'connected', connack })
    this.resendInflight(now)
    this.flush(now)
  }

  /** After a reconnect, unacknowledged packets go again, in their original order, before anything new. */
  private resendInflight(now: number): void {
    for (const [id, entry] of this.inflight) {
      if (entry.kind === 'publish' && entry.phase === 'pubcomp') {
        this.send({ cmd: 'pubrel', messageId: id }, now)
      } else if (entry.kind === 'publish') {
        this.send({ ...entry.packet, dup: true }, now)
      } else {
        this.send(entry.packet, now)
      }
    }
  }

  private onPublish(packet: IncomingPublishPacket, now: number): void {
    const id = packet.messageId
    if (packet.qos === 0) {
      this.actions.push({ type: 'message', packet })
    } else if (packet.qos === 1) {
      this.actions.push({ type: 'message', packet })
      this.send({ cmd: 'puback', messageId: id as number }, now)
    } else {
      // Delivered on first sight, remembered until PUBREL, so a re-sent copy is acknowledged but not delivered twice.
      if (!this.incomingQos2.has(id as number)) {
        this.incomingQos2.add(id as number)
        this.actions.push({ type: 'message', packet })
      }
      this.send({ cmd: 'pubrec', messageId: id as number }, now)
    }
  }

  private onPublishAck(packet: AckPacket, now: number): void {
    const entry = this.inflight.get(packet.messageId)
    if (!entry || entry.kind !== 'publish') return // late or duplicate ack: nothing waits on it
    const failed = (packet.reasonCode ?? 0) >= 0x80
    if (packet.cmd === 'pubrec' && entry.packet.qos === 2 && !failed) {
      entry.phase = 'pubcomp'
      this.send({ cmd: 'pubrel', messageId: packet.messageId }, now)
      return
    }
    const expected = entry.packet.qos === 1 ? 'puback' : entry.phase === 'ack' ? 'pubrec' : 'pubcomp'
    if (packet.cmd !== expected) return
    this.complete(packet.messageId, entry, failed ? new ReasonCodeError('Publish', packet.reasonCode as number) : undefined)
    this.flush(now)
  }

  private onSubscriptionAck(kind: 'subscribe' | 'unsubscribe', id: number, codes: number[], now: number): void {
    const entry = this.inflight.get(id)
    if (!entry || entry.kind !== kind) return
    this.inflight.delete(id)
    this.ids.release(id)
    this.actions.push({ type: 'settle', op: entry.op, codes })
    this.flush(now)
  }

  private complete(id: number, entry: Outgoing, error?: MqttError): void {
    this.inflight.delete(id)
    this.ids.release(id)
    this.inflightPublishes--
    this.actions.push(error ? { type: 'settle', op: entry.op, error } : { type: 'settle', op: entry.op })
  }

  private finishEnding(now: number): void {
    if (!this.ending || this.connection !== 'connected' || !this.idle) return
    this.send({ cmd: 'disconnect' }, now)
    this.connection = 'offline'
    this.actions.push({ type: 'close' })
  }

  private send(packet: Packet, now: number): void {
    this.keepalive.sent(now)
    this.actions.push({ type: 'send', packet })
  }

  private closeWith(error: MqttError): void {
    this.connection = 'offline'
    this.actions.push({ type: 'close', error })
  }

  private violation(message: string): Action[] {
    this.closeWith(new ProtocolError(message))
    return this.take()
  }

  private take(): Action[] {
    const out = this.actions
    this.actions = []
    return out
  }
}

function disconnectMessage(packet: DisconnectPacket): string {
  const code = packet.reasonCode ?? 0
  const why = packet.properties?.reasonString ?? reasonText(code)
  return `Broker sent DISCONNECT (code 0x${code.toString(16)}): ${why}`
}
