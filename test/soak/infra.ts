import { startAedesBroker } from '../support/aedes-broker.js'
import { auditConnections, auditDeliveries } from '../support/delivery-audit.js'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js'

/**
 * The soak's world, in a child process of its own: the aedes broker and, in front of it, one
 * fault proxy per client that cuts its connections every few seconds and keeps a decoded record
 * of every packet it forwards. Kept out of the soak's process so that the heap the soak judges
 * holds the clients and nothing else: the wire record grows with every packet, and the broker's
 * memory is the broker's. The parent speaks to it over IPC (the messages below).
 */

/** Which client: each has its own proxy, so each wire record is one client's alone. */
export type Side = 'a' | 'b'

export type ToInfra =
  | { type: 'chaos'; meanMs: number }
  /** Stop cutting connections, so the clients can catch up before the audit. */
  | { type: 'calm' }
  /** What a side's client delivered (payload key -> times, since the last tally) and which keys sent to it the broker acknowledged. */
  | { type: 'tally'; side: Side; delivered: Array<[string, number]>; acknowledged: string[] }
  | { type: 'audit' }
  | { type: 'close' }

export type FromInfra =
  | { type: 'ready'; urls: Record<Side, string> }
  /** How many connections each proxy cut. */
  | { type: 'calm'; cuts: Record<Side, number> }
  | { type: 'audit'; audits: Record<Side, SideAudit> }

/** What the wire says of one client's deliveries (see delivery-audit.ts), reduced to counts. */
export interface SideAudit {
  /** QoS 1/2 messages sent to this client whose publish the broker acknowledged. */
  expected: number
  /** Of those, delivered at least once. */
  delivered: number
  /** Deliveries beyond the first, QoS 1 (allowed) and QoS 2 (a fault when more than the wire allows). */
  duplicates: { qos1: number; qos2: number }
  /** QoS 2 flows the broker started again for a message already delivered, which the client may take as new. */
  brokerResends: number
  /** Delivered more often, or less often, than the wire allows. */
  overBound: number
  underBound: number
  /** Never delivered, by whose fault the wire says. */
  lost: Record<'neverSent' | 'idReused' | 'notResent' | 'sessionLost' | 'byClient', number>
  /** A few of the lost and out-of-bound keys, to start from when one is found. */
  examples: string[]
  connections: number
  /** Connections the proxy cut after the broker had accepted them. */
  cutAfterConnack: number
  /** Bytes the wire record could not decode: non-zero means the audit is not to be trusted. */
  wireErrors: number
}

const sides: Side[] = ['a', 'b']

async function main(): Promise<void> {
  const send = (message: FromInfra) => process.send?.(message)
  const broker = await startAedesBroker({ port: 0 })
  const proxies = {} as Record<Side, FaultProxy>
  for (const side of sides) proxies[side] = await startFaultProxy({ port: broker.port, witness: true })
  const delivered: Record<Side, Map<string, number>> = { a: new Map(), b: new Map() }
  const acknowledged: Record<Side, Set<string>> = { a: new Set(), b: new Set() }
  let stops: Array<() => number> = []

  const calm = () => {
    const cuts = stops.map((stop) => stop())
    stops = []
    return { a: cuts[0] ?? 0, b: cuts[1] ?? 0 }
  }
  const close = async () => {
    calm()
    for (const side of sides) await proxies[side].close()
    await broker.close()
    process.exit(0)
  }
  // An orphan would hold its ports and memory: it goes when its parent does.
  process.on('disconnect', () => void close())

  process.on('message', (message: ToInfra) => {
    switch (message.type) {
      case 'chaos':
        // Fixed seeds, one per side, so a failing run can be replayed cut for cut.
        sides.forEach((side, i) => stops.push(proxies[side].chaos({ seed: 20_261_201 + i, meanMs: message.meanMs })))
        break
      case 'tally':
        for (const [key, times] of message.delivered) delivered[message.side].set(key, (delivered[message.side].get(key) ?? 0) + times)
        for (const key of message.acknowledged) acknowledged[message.side].add(key)
        break
      case 'calm':
        send({ type: 'calm', cuts: calm() })
        break
      case 'audit':
        send({ type: 'audit', audits: { a: audit('a'), b: audit('b') } })
        break
      case 'close':
        void close()
        break
    }
  })

  const audit = (side: Side): SideAudit => {
    const wire = proxies[side].witness
    if (!wire) throw new Error('the proxies keep a wire record')
    const expected = [...acknowledged[side]]
    const result = auditDeliveries(wire.log, delivered[side], expected)
    const links = auditConnections(wire.log, wire.connections)
    const duplicates = { qos1: 0, qos2: 0 }
    for (const [key, times] of delivered[side]) if (times > 1) duplicates[key.startsWith('1:') ? 'qos1' : 'qos2'] += times - 1
    const lost = Object.fromEntries(Object.entries(result.lost).map(([cause, keys]) => [cause, keys.length])) as SideAudit['lost']
    return {
      expected: expected.length,
      delivered: expected.filter((key) => delivered[side].has(key)).length,
      duplicates,
      brokerResends: result.qos2.brokerResends,
      overBound: result.tooMany.length,
      underBound: result.tooFew.length,
      lost,
      examples: [...result.lost.byClient, ...result.tooMany.map((v) => v.key), ...result.tooFew.map((v) => v.key)].slice(0, 5),
      connections: proxies[side].accepted,
      cutAfterConnack: links.cutAfterConnack,
      wireErrors: wire.errors.length,
    }
  }

  send({ type: 'ready', urls: { a: proxies.a.url, b: proxies.b.url } })
}

void main()
