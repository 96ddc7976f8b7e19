import { generate, type Packet as WirePacket, parser } from 'mqtt-packet'
import { matchTopic, type WebSocketConstructor } from '../../src/index.js'
import { type FuzzSocket, socketClass } from './fuzz-socket.js'

/**
 * The broker of the model-based test: it answers the client's packets as a broker would, unless
 * a fault is set, and records what it answered, so the test can hold each settled Promise to what
 * the broker actually said. Faults: a socket that never opens, a CONNACK that refuses or never
 * comes, acks held back until released, silence (no answer at all, pings included), and on the
 * test's word a dropped socket or a DISCONNECT. A filter under `deny/` is always refused (0x80).
 * Answers go out one task later, as a real socket's would, never inside the client's own write.
 */
export interface BrokerFaults {
  /** The next CONNECT gets this refusal code instead of acceptance (then it is cleared). */
  refuseNext?: number
  /** The next CONNECT gets no answer at all (then it is cleared). */
  ignoreNextConnect?: boolean
  /** The next socket fails before it opens (then it is cleared). */
  unreachableNext?: boolean
  /** Acks to the client's PUBLISH, PUBREL, SUBSCRIBE and UNSUBSCRIBE wait until release(). */
  holdAcks?: boolean
}

/** What the broker said about one publish, by its payload (each payload names one publish). */
export type Verdict = 'accepted' | 'refused'

export class ScriptedBroker {
  readonly sockets: FuzzSocket[] = []
  readonly WebSocket: WebSocketConstructor
  faults: BrokerFaults = {}
  /** Payloads of QoS 1/2 publishes the broker acknowledged, and how (PUBACK, or for QoS 2 PUBREC then PUBCOMP). */
  readonly publishVerdicts = new Map<string, Verdict>()
  /** Payloads of every PUBLISH the broker received, QoS 0 included. */
  readonly received = new Set<string>()
  /** Each filter the broker answered in a SUBACK, with the code it gave. */
  readonly subackCodes = new Map<string, number[]>()
  /** Payloads the broker sent the client, by topic. */
  readonly sentToClient = new Map<string, string>()
  /** Acks held back by holdAcks, for the socket they belong to. */
  private held: Array<{ socket: FuzzSocket; packet: WirePacket; recorded: () => void }> = []
  /** Sockets whose client the broker no longer answers. */
  private readonly silent = new Set<FuzzSocket>()
  private readonly sessions = new Set<string>()
  private readonly subscriptions = new Map<string, number>()
  /** QoS 2 publishes of the client between PUBREC and PUBREL, by id: what PUBCOMP settles. */
  private readonly qos2 = new Map<number, string>()
  private nextId = 1
  private outbox: Array<{ socket: FuzzSocket; bytes: Uint8Array }> = []
  private flushing = false

  constructor(
    readonly version: 4 | 5,
    /** Whether a PUBLISH with this payload is refused (MQTT 5 reason 0x87 in its ack). */
    private readonly refusesPublish: (payload: string) => boolean = () => false,
  ) {
    this.WebSocket = socketClass(this.sockets, {
      sent: (socket, data) => this.readFrom(socket, data),
    })
  }

  /** Opens the newest sockets still connecting (or fails them, under unreachableNext), as the network would a moment after. */
  connectPending(): void {
    for (const socket of this.sockets) {
      if (socket.readyState !== 0) continue
      if (this.faults.unreachableNext) {
        this.faults.unreachableNext = false
        socket.drop()
      } else {
        socket.open()
      }
    }
  }

  /** The socket the client is using now, if it is open. */
  get current(): FuzzSocket | undefined {
    const socket = this.sockets.at(-1)
    return socket?.isOpen ? socket : undefined
  }

  drop(): void {
    this.current?.drop()
  }

  /** DISCONNECT from the broker (with an MQTT 5 reason), then the socket closes from its side a task later. */
  disconnect(reasonCode: number): void {
    const socket = this.current
    if (!socket) return
    this.send(socket, this.version === 5 ? { cmd: 'disconnect', reasonCode } : { cmd: 'disconnect' })
    this.afterFlush(() => socket.drop())
  }

  /** The broker stops answering on the current socket: no acks, no PINGRESP. */
  goSilent(): void {
    const socket = this.current
    if (socket) this.silent.add(socket)
  }

  /** Sends the held acks whose socket is still open; the others are gone with their socket. */
  release(): void {
    this.faults.holdAcks = false
    const held = this.held
    this.held = []
    for (const { socket, packet, recorded } of held) {
      if (!socket.isOpen) continue
      recorded()
      this.send(socket, packet)
    }
  }

  /** A message from another client, on `topic`, if the client has a matching subscription; returns whether it went. */
  publishToClient(topic: string, payload: string, qos: 0 | 1 | 2): boolean {
    const socket = this.current
    if (!socket || this.silent.has(socket) || ![...this.subscriptions.keys()].some((f) => matchTopic(f, topic))) return false
    const packet: Record<string, unknown> = { cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }
    if (qos > 0) packet.messageId = this.takeId()
    this.sentToClient.set(payload, topic)
    this.send(socket, packet as unknown as WirePacket)
    return true
  }

  private takeId(): number {
    const id = this.nextId
    this.nextId = id >= 65535 ? 1 : id + 1
    return id
  }

  private readFrom(socket: FuzzSocket, data: Uint8Array): void {
    let reader = readers.get(socket)
    if (!reader) {
      reader = parser({ protocolVersion: this.version })
      reader.on('packet', (p: WirePacket) => this.answer(socket, p))
      reader.on('error', (err: Error) => {
        throw new Error(`the client wrote a packet the broker cannot read: ${err.message}`)
      })
      readers.set(socket, reader)
    }
    reader.parse(Buffer.from(data))
  }

  private answer(socket: FuzzSocket, packet: WirePacket): void {
    if (this.silent.has(socket) && packet.cmd !== 'connect') return
    switch (packet.cmd) {
      case 'connect':
        return this.onConnect(socket, packet.clientId, packet.clean !== false)
      case 'publish': {
        const payload = Buffer.from(packet.payload as Buffer).toString()
        this.received.add(payload)
        if (packet.qos === 0) return
        const refused = this.version === 5 && this.refusesPublish(payload)
        const verdict: Verdict = refused ? 'refused' : 'accepted'
        const reason = refused ? { reasonCode: 0x87 } : {}
        if (packet.qos === 1) {
          this.ack(socket, { cmd: 'puback', messageId: packet.messageId as number, ...reason }, () => this.publishVerdicts.set(payload, verdict))
        } else {
          if (!refused) this.qos2.set(packet.messageId as number, payload)
          this.ack(socket, { cmd: 'pubrec', messageId: packet.messageId as number, ...reason }, () => {
            if (refused) this.publishVerdicts.set(payload, 'refused')
          })
        }
        return
      }
      case 'pubrel': {
        // The message stays known until its PUBCOMP actually goes out: a PUBCOMP lost with its
        // socket is answered again when the client sends PUBREL again on the next one.
        const id = packet.messageId as number
        const payload = this.qos2.get(id)
        this.ack(socket, { cmd: 'pubcomp', messageId: id }, () => {
          if (payload === undefined) return
          this.qos2.delete(id)
          this.publishVerdicts.set(payload, 'accepted')
        })
        return
      }
      case 'subscribe': {
        const codes = packet.subscriptions.map((s) => (s.topic.startsWith('deny/') ? 0x80 : s.qos))
        this.ack(socket, { cmd: 'suback', messageId: packet.messageId as number, granted: codes } as WirePacket, () => {
          packet.subscriptions.forEach((s, i) => {
            const code = codes[i] as number
            this.subackCodes.set(s.topic, [...(this.subackCodes.get(s.topic) ?? []), code])
            if (code < 0x80) this.subscriptions.set(s.topic, code)
          })
        })
        return
      }
      case 'unsubscribe': {
        const ack: Record<string, unknown> = { cmd: 'unsuback', messageId: packet.messageId as number }
        if (this.version === 5) ack.granted = packet.unsubscriptions.map(() => 0)
        this.ack(socket, ack as unknown as WirePacket, () => {
          for (const topic of packet.unsubscriptions) this.subscriptions.delete(topic)
        })
        return
      }
      case 'pingreq':
        return this.send(socket, { cmd: 'pingresp' })
      default:
        // PUBACK, PUBREC, PUBCOMP for our own messages, and DISCONNECT: nothing to answer.
        if (packet.cmd === 'pubrec') this.send(socket, { cmd: 'pubrel', messageId: packet.messageId as number })
    }
  }

  private onConnect(socket: FuzzSocket, clientId: string, clean: boolean): void {
    if (this.faults.ignoreNextConnect) {
      this.faults.ignoreNextConnect = false
      return
    }
    const refusal = this.faults.refuseNext
    if (refusal !== undefined) {
      this.faults.refuseNext = undefined
      this.send(socket, this.version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: refusal } : { cmd: 'connack', sessionPresent: false, returnCode: refusal })
      this.afterFlush(() => socket.drop())
      return
    }
    const sessionPresent = !clean && this.sessions.has(clientId)
    if (clean) {
      this.sessions.delete(clientId)
      this.subscriptions.clear()
    } else {
      this.sessions.add(clientId)
    }
    const connack: Record<string, unknown> = { cmd: 'connack', sessionPresent }
    if (this.version === 5) connack.reasonCode = 0
    else connack.returnCode = 0
    this.send(socket, connack as unknown as WirePacket)
  }

  /** An ack now, or when released; `recorded` runs when it is actually sent. */
  private ack(socket: FuzzSocket, packet: WirePacket, recorded: () => void): void {
    if (this.faults.holdAcks) {
      this.held.push({ socket, packet, recorded })
      return
    }
    recorded()
    this.send(socket, packet)
  }

  private send(socket: FuzzSocket, packet: WirePacket): void {
    this.outbox.push({ socket, bytes: new Uint8Array(generate(packet, { protocolVersion: this.version })) })
    if (this.flushing) return
    this.flushing = true
    setImmediate(() => this.flush())
  }

  private afterFlush(action: () => void): void {
    setImmediate(() => setImmediate(action))
  }

  private flush(): void {
    this.flushing = false
    const out = this.outbox
    this.outbox = []
    for (const { socket, bytes } of out) if (!this.silent.has(socket)) socket.deliver(bytes)
  }
}

const readers = new WeakMap<FuzzSocket, ReturnType<typeof parser>>()
