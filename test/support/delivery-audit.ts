import type { IConnackPacket, IPublishPacket, Packet } from 'mqtt-packet'
import type { WireConnection, WireEntry } from './wire-witness.js'

/**
 * Judges what a client delivered against what the wire shows it was sent and what it answered.
 * The client's 'message' events are what is judged; the wire (see WireWitness) is the witness.
 * Messages are told apart by their payload, which each test makes unique ("qos:seq").
 *
 * A proxy that cuts connections leaves some things unknowable: a packet written just before a cut
 * may or may not have reached the client. Where the wire cannot tell, either outcome is allowed;
 * where it can (the client answered on the wire), the client is held to it. So each message gets
 * a lower and an upper bound on how often the client may deliver it, both from the wire alone.
 */

/**
 * What the client's state for a QoS 2 packet id was when the broker started a new flow with it
 * (MQTT 3.1.1 §4.3.3, method B: an id stays "held" from the first PUBLISH received until PUBREL,
 * and a PUBLISH on a held id is acknowledged but not delivered again):
 * - free: certainly not held, so the flow is delivered if any copy of it arrives;
 * - freeOn: a PUBREL went out on this same connection just before, so a copy that arrives on
 *   this connection arrives after that PUBREL (TCP keeps order); on a later one, unknown;
 * - maybe: the PUBREL, or the earlier flow's PUBLISH, was written but not answered by then
 *   (perhaps never received, a cut coming first), so the client may or may not hold the id;
 * - held: the client answered the earlier flow's PUBLISH and no PUBREL came since. The broker
 *   reused an id still in flight (§2.3.1); the client must not deliver this one.
 */
type FlowStart = { kind: 'free' } | { kind: 'freeOn'; conn: number } | { kind: 'maybe' } | { kind: 'held' }

interface Flow {
  key: string
  start: FlowStart
  /** Connections on which the client answered a copy of this flow with PUBREC. */
  answeredOn: Set<number>
}

interface IdState {
  flow: Flow
  /** The connection on which PUBREL for this id was last written, since the flow began. */
  releasedOn: number | undefined
  /** The client answered that PUBREL with PUBCOMP: the id is free for certain. */
  released: boolean
}

interface Copy {
  conn: number
  flow: Flow | undefined
}

interface KeyRecord {
  qos: 1 | 2
  copies: Copy[]
  /** QoS 1: copies the client answered with PUBACK. */
  acked: number
  /** QoS 2: every flow the broker started for this message. */
  flows: Flow[]
}

export type LossCause =
  /** Never written to the client. */
  | 'neverSent'
  /** Only ever written on an id the client held or may have held for another flow (§2.3.1, §4.3.3). */
  | 'idReused'
  /** Written, not answered, and not written again after a later CONNACK that kept the session (§4.4). */
  | 'notResent'
  /** As notResent, but the later CONNACK said sessionPresent=0: the broker lost the session. */
  | 'sessionLost'
  /** The client answered it on the wire, or had it on a live connection, and did not deliver it. */
  | 'byClient'

export interface KeyVerdict {
  key: string
  delivered: number
  /** The fewest deliveries the wire allows (answered copies for QoS 1, answered flows for QoS 2). */
  atLeast: number
  /** The most the wire allows (copies written for QoS 1, flows that could be new for QoS 2). */
  atMost: number
}

export interface DeliveryAudit {
  /** Messages delivered more often than the wire allows. */
  tooMany: KeyVerdict[]
  /** Messages delivered less often than the client's own answers on the wire promise. */
  tooFew: KeyVerdict[]
  /** Messages never delivered, by whose fault the wire says. */
  lost: Record<LossCause, string[]>
  qos1: { copies: number; answered: number }
  qos2: {
    /** Flows the broker started, by what the client's id state was at the time. */
    flows: Record<FlowStart['kind'], number>
    /** Flows the client may have taken as new, beyond the first of each message. */
    brokerResends: number
  }
}

const key = (payload: IPublishPacket['payload']) => String(payload)
/** Every packet this audit reads by id carries one (§2.3.1). */
const idOf = (packet: Packet) => packet.messageId ?? 0
const slot = (conn: number, id: number) => `${conn}:${id}`

/** Per connection and id, what the client's answers answer: it answers every packet, in order. */
class AnswerQueues<T> {
  private readonly queues = new Map<string, T[]>()

  expect(conn: number, id: number, what: T): void {
    const at = slot(conn, id)
    const queue = this.queues.get(at)
    if (queue) queue.push(what)
    else this.queues.set(at, [what])
  }

  answer(conn: number, id: number): T | undefined {
    return this.queues.get(slot(conn, id))?.shift()
  }
}

/**
 * Replays the wire, tracking the client's incoming QoS 2 ids as the client must (§4.3.3), and
 * returns each message's bounds and, for the lost ones, whose fault the wire shows.
 */
export function auditDeliveries(log: readonly WireEntry[], delivered: ReadonlyMap<string, number>, expected: readonly string[]): DeliveryAudit {
  const records = new Map<string, KeyRecord>()
  const ids = new Map<number, IdState>()
  const pubacks = new AnswerQueues<KeyRecord>()
  const pubrecs = new AnswerQueues<Flow>()
  const pubcomps = new AnswerQueues<Flow | undefined>()
  const flowCounts: Record<FlowStart['kind'], number> = { free: 0, freeOn: 0, maybe: 0, held: 0 }
  /** Successful CONNACKs, in order: [connection, sessionPresent]. */
  const connacks: Array<[number, boolean]> = []

  const recordOf = (k: string, qos: 1 | 2) => {
    let r = records.get(k)
    if (!r) records.set(k, (r = { qos, copies: [], acked: 0, flows: [] }))
    return r
  }

  const publishQos2 = (conn: number, id: number, k: string, record: KeyRecord): Flow => {
    const state = ids.get(id)
    let start: FlowStart
    if (!state || state.released) start = { kind: 'free' }
    else if (state.releasedOn === conn) start = { kind: 'freeOn', conn }
    else if (state.releasedOn !== undefined) start = { kind: 'maybe' }
    else if (state.flow.key === k) return state.flow // a re-send within the flow (DUP): never new
    else start = state.flow.answeredOn.size > 0 ? { kind: 'held' } : { kind: 'maybe' }
    const flow: Flow = { key: k, start, answeredOn: new Set() }
    ids.set(id, { flow, releasedOn: undefined, released: false })
    record.flows.push(flow)
    flowCounts[start.kind]++
    return flow
  }

  const toClient = (conn: number, packet: Packet) => {
    if (packet.cmd === 'connack') {
      const ack = packet as IConnackPacket
      if ((ack.returnCode ?? 0) !== 0) return
      connacks.push([conn, ack.sessionPresent])
      // No session kept: the client forgets its held ids too (§3.2.2.2).
      if (!ack.sessionPresent) ids.clear()
    } else if (packet.cmd === 'publish' && packet.qos > 0) {
      const id = idOf(packet)
      const record = recordOf(key(packet.payload), packet.qos as 1 | 2)
      if (packet.qos === 1) {
        record.copies.push({ conn, flow: undefined })
        pubacks.expect(conn, id, record)
      } else {
        const flow = publishQos2(conn, id, key(packet.payload), record)
        record.copies.push({ conn, flow })
        pubrecs.expect(conn, id, flow)
      }
    } else if (packet.cmd === 'pubrel') {
      const state = ids.get(idOf(packet))
      if (state) state.releasedOn = conn
      pubcomps.expect(conn, idOf(packet), state?.flow)
    }
  }

  const toBroker = (conn: number, packet: Packet) => {
    if (packet.cmd === 'puback') {
      const record = pubacks.answer(conn, idOf(packet))
      if (record) record.acked++
    } else if (packet.cmd === 'pubrec') {
      pubrecs.answer(conn, idOf(packet))?.answeredOn.add(conn)
    } else if (packet.cmd === 'pubcomp') {
      const flow = pubcomps.answer(conn, idOf(packet))
      const state = ids.get(idOf(packet))
      if (state && flow && state.flow === flow) state.released = true
    }
  }

  for (const { conn, dir, packet } of log) {
    if (dir === 'toClient') toClient(conn, packet)
    else toBroker(conn, packet)
  }

  const audit: DeliveryAudit = {
    tooMany: [],
    tooFew: [],
    lost: { neverSent: [], idReused: [], notResent: [], sessionLost: [], byClient: [] },
    qos1: { copies: 0, answered: 0 },
    qos2: { flows: flowCounts, brokerResends: 0 },
  }
  const wanted = new Set(expected)
  for (const k of new Set([...expected, ...delivered.keys()])) {
    const record = records.get(k)
    const verdict = boundsOf(k, record, delivered.get(k) ?? 0)
    if (verdict.delivered > verdict.atMost) audit.tooMany.push(verdict)
    if (verdict.delivered < verdict.atLeast) audit.tooFew.push(verdict)
    if (record?.qos === 1) {
      audit.qos1.copies += record.copies.length
      audit.qos1.answered += record.acked
    }
    if (record?.qos === 2) audit.qos2.brokerResends += Math.max(0, verdict.atMost - 1)
    if (verdict.delivered === 0 && wanted.has(k)) audit.lost[lossCause(record, verdict, connacks)].push(k)
  }
  return audit
}

function boundsOf(k: string, record: KeyRecord | undefined, delivered: number): KeyVerdict {
  if (!record) return { key: k, delivered, atLeast: 0, atMost: 0 }
  // §4.3.2: once it has sent PUBACK, the client must treat a PUBLISH with that id as new, so every
  // copy it answered is a delivery; and it can deliver no copy it was not sent.
  if (record.qos === 1) return { key: k, delivered, atLeast: record.acked, atMost: record.copies.length }
  // §4.3.3: at most once per flow that could be new to the client; at least once per flow it
  // answered with PUBREC while the id was free for certain.
  return {
    key: k,
    delivered,
    atLeast: record.flows.filter(mustDeliver).length,
    atMost: record.flows.filter((f) => f.start.kind !== 'held').length,
  }
}

function mustDeliver(flow: Flow): boolean {
  if (flow.start.kind === 'free') return flow.answeredOn.size > 0
  return flow.start.kind === 'freeOn' && flow.answeredOn.has(flow.start.conn)
}

/** Whether a copy written on `conn` would have been delivered by a client that received it. */
function newToClient(flow: Flow | undefined, conn: number): boolean {
  if (!flow) return true // QoS 1
  return flow.start.kind === 'free' || (flow.start.kind === 'freeOn' && flow.start.conn === conn)
}

function lossCause(record: KeyRecord | undefined, verdict: KeyVerdict, connacks: ReadonlyArray<[number, boolean]>): LossCause {
  const copy = record?.copies.at(-1)
  if (!copy) return 'neverSent'
  if (verdict.atLeast > 0) return 'byClient'
  if (!newToClient(copy.flow, copy.conn)) return 'idReused'
  // Unanswered, so not received. §4.4: after a reconnect with the session kept, the broker must
  // send unacknowledged PUBLISHes again; if none came after a later CONNACK, that is its fault.
  const later = connacks.filter(([conn]) => conn > copy.conn)
  if (later.some(([, sessionPresent]) => !sessionPresent)) return 'sessionLost'
  if (later.length > 0) return 'notResent'
  // Written on the last connection, which stayed up: the client had it and did nothing.
  return 'byClient'
}

export interface ConnectionAudit {
  /** Successful CONNACKs written to the client, one per connection at most. */
  connacks: number
  /** Connections the proxy cut after it had written their successful CONNACK. */
  cutAfterConnack: number
}

/** How often the broker accepted the client, and how many of those sessions the proxy cut. */
export function auditConnections(log: readonly WireEntry[], connections: ReadonlyMap<number, WireConnection>): ConnectionAudit {
  const accepted = new Set<number>()
  for (const { conn, dir, packet } of log) {
    if (dir === 'toClient' && packet.cmd === 'connack' && ((packet as IConnackPacket).returnCode ?? 0) === 0) accepted.add(conn)
  }
  const cutAfterConnack = [...accepted].filter((conn) => connections.get(conn)?.cut).length
  return { connacks: accepted.size, cutAfterConnack }
}
