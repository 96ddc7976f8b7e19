import { type ChildProcess, fork } from 'node:child_process'
import WebSocket from 'ws'
import { connect, type Message, type MqttClient, type QoS } from '../../src/index.js'
import { clientHoldings, listenerTotal } from '../support/internals.js'
import { collectGarbage } from '../support/live-heap.js'
import type { FromInfra, Side, SideAudit, ToInfra } from './infra.js'

/**
 * The soak: two of our clients send each other QoS 0, 1 and 2 messages for a long time through
 * the aedes broker, each behind a fault proxy that cuts its connections every few seconds (see
 * infra.ts, which runs in a child process). Every `sampleSeconds` it reads, after a full garbage
 * collection, what this process holds: heap, timers, sockets, all active handles, and the
 * clients' listeners. It fails if any of them keeps growing (see `judge`), if a publish is
 * rejected, or if the wire shows a client lost a QoS 1/2 message, or delivered one more or less
 * often than the wire allows (see delivery-audit.ts). What the wire shows the broker lost is
 * reported beside (see brokerLosses).
 * Everything is bounded: the run by `seconds`, each wait below by its own limit.
 */
export interface SoakOptions {
  seconds: number
  sampleSeconds: number
  /** The built infra.ts (see bundle.js). */
  infraScript: string
  /** Messages each client sends each second at each QoS; default 20 (120 a second in all). */
  rate?: number
  /** Mean ms between the proxies' cuts; default 3000. */
  dropEveryMs?: number
  log?: (line: string) => void
}

export interface Sample {
  /** Seconds since traffic started. */
  at: number
  heapUsed: number
  timers: number
  sockets: number
  handles: number
  listeners: number
  /** Operations queued or in flight in both clients: traffic, not a leak, so shown but not judged. */
  pending: number
  sent: number
  received: number
}

/** One metric's verdict: the median of the last third of the samples after warm-up against the first third's. */
export interface Growth {
  metric: Exclude<keyof Sample, 'at' | 'pending' | 'sent' | 'received'>
  first: number
  last: number
  tolerance: number
  grew: boolean
}

export interface SoakReport {
  samples: Sample[]
  growth: Growth[]
  /** Messages whose publish settled, per QoS (both clients). */
  sent: Record<QoS, number>
  /** Deliveries, per QoS (both clients; QoS 1 may repeat, QoS 0 may be lost to a cut). */
  received: Record<QoS, number>
  rejected: number
  /** Rounds skipped because a client already had MAX_PENDING messages unsettled. */
  skipped: number
  cuts: Record<Side, number>
  reconnects: Record<Side, number>
  /** What client b's messages() stream dropped: it must keep up, so this must be 0. */
  streamDropped: number
  audits: Record<Side, SideAudit>
  failures: string[]
  passed: boolean
}

/** A client stops sending while this many of its messages are unsettled: a cut's backlog, not an endless queue. */
const MAX_PENDING = 2000
const TOPIC: Record<Side, string> = { a: 'soak/to-a', b: 'soak/to-b' }
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a')

/**
 * How much a metric may rise between the first and last third before it counts as growing: what
 * a client that holds nothing back varies by between two readings. Traffic in flight when a
 * sample is taken is up to MAX_PENDING messages per client, a few hundred KB; a cut frees, and a
 * reconnect makes, one socket and one or two timers. A leak of 60 bytes a message shows as
 * about 2 MiB between the thirds of a 10-minute run; listeners never vary.
 */
const TOLERANCE: Record<Growth['metric'], (firstMedian: number) => number> = {
  heapUsed: (first) => Math.max(2 * 1024 * 1024, first * 0.1),
  timers: () => 2,
  sockets: () => 1,
  handles: () => 3,
  listeners: () => 0,
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => console.log(line))
  const rate = options.rate ?? 20
  const infra = fork(options.infraScript, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const clients: Partial<Record<Side, MqttClient>> = {}
  try {
    return await soak(infra, clients, options, rate, log)
  } finally {
    for (const c of Object.values(clients)) await c.end({ force: true })
    if (infra.connected) infra.send({ type: 'close' } satisfies ToInfra)
    if (infra.exitCode === null) await Promise.race([new Promise((r) => infra.once('exit', r)), sleep(5000)])
    if (infra.exitCode === null) infra.kill()
  }
}

async function soak(infra: ChildProcess, clients: Partial<Record<Side, MqttClient>>, options: SoakOptions, rate: number, log: (line: string) => void): Promise<SoakReport> {
  const tell = (message: ToInfra) => infra.send(message)
  const hear = <T extends FromInfra['type']>(type: T, withinMs: number) => reply(infra, type, withinMs)
  const { urls } = await hear('ready', 30_000)

  const sent: Record<QoS, number> = { 0: 0, 1: 0, 2: 0 }
  const received: Record<QoS, number> = { 0: 0, 1: 0, 2: 0 }
  const pending: Record<Side, number> = { a: 0, b: 0 }
  const reconnects: Record<Side, number> = { a: -1, b: -1 }
  // What goes to the infra process at each tally, and is then forgotten here: this process holds no record that grows.
  const delivered: Record<Side, Map<string, number>> = { a: new Map(), b: new Map() }
  const acknowledged: Record<Side, string[]> = { a: [], b: [] }
  const rejections: string[] = []
  let rejected = 0
  let skipped = 0

  const arrived = (side: Side, message: Message) => {
    const key = message.text()
    const qos = Number(key[0]) as QoS
    received[qos]++
    if (qos > 0) delivered[side].set(key, (delivered[side].get(key) ?? 0) + 1)
  }
  const tally = () => {
    for (const side of ['a', 'b'] as const) {
      tell({ type: 'tally', side, delivered: [...delivered[side]], acknowledged: acknowledged[side] })
      delivered[side] = new Map()
      acknowledged[side] = []
    }
  }

  for (const side of ['a', 'b'] as const) {
    const c = connect(urls[side], {
      WebSocket,
      clientId: `soak-${side}`,
      clean: false,
      keepalive: 10,
      reconnect: { minDelay: 50, maxDelay: 500, resetAfter: 2000 },
    })
    clients[side] = c
    c.on('connect', () => reconnects[side]++)
  }
  const a = clients.a as MqttClient
  const b = clients.b as MqttClient
  await waitFor(() => a.connected && b.connected, 30_000, 'both clients connected')
  // One of each kind of consumer: a handler on a, a messages() stream on b.
  await a.subscribe(TOPIC.a, { qos: 2 }, (message) => arrived('a', message))
  const stream = b.messages(TOPIC.b, { qos: 2 })
  const reading = (async () => {
    for await (const message of stream) arrived('b', message)
  })()
  // The stream subscribes on its own; a second, awaited subscribe is answered after it.
  await b.subscribe('soak/ready', { qos: 0 })
  await b.unsubscribe('soak/ready')

  let seq = 0
  const round = () => {
    seq++
    for (const side of ['a', 'b'] as const) {
      if (pending[side] >= MAX_PENDING) {
        skipped++
        continue
      }
      for (const qos of [0, 1, 2] as const) {
        const key = `${qos}:${side}:${seq}`
        pending[side]++
        clients[side]?.publish(TOPIC[other(side)], key, { qos }).then(
          () => {
            pending[side]--
            sent[qos]++
            if (qos > 0) acknowledged[other(side)].push(key)
          },
          (err: Error) => {
            pending[side]--
            rejected++
            if (rejections.length < 5) rejections.push(`${key}: ${err.name}: ${err.message}`)
          },
        )
      }
    }
  }

  const samples: Sample[] = []
  const sample = async (at: number) => {
    tally()
    collectGarbage()
    const resources = process.getActiveResourcesInfo()
    const count = (kind: string) => resources.filter((r) => r === kind).length
    const holdings = await Promise.all([clientHoldings(a), clientHoldings(b)])
    const s: Sample = {
      at,
      heapUsed: process.memoryUsage().heapUsed,
      timers: count('Timeout'),
      sockets: count('TCPSocketWrap'),
      handles: resources.length,
      listeners: listenerTotal(a) + listenerTotal(b),
      pending: holdings.reduce((n, h) => n + h.pendingOps, 0),
      sent: sent[0] + sent[1] + sent[2],
      received: received[0] + received[1] + received[2],
    }
    samples.push(s)
    log(row(s))
  }

  log(`soak: ${options.seconds} s of QoS 0/1/2 traffic, ${rate} messages a second per QoS per client, connections cut about every ${options.dropEveryMs ?? 3000} ms`)
  log(header())
  tell({ type: 'chaos', meanMs: options.dropEveryMs ?? 3000 })
  const started = performance.now()
  const elapsed = () => (performance.now() - started) / 1000
  const ticker = setInterval(round, 1000 / rate)
  try {
    for (let next = options.sampleSeconds; next <= options.seconds; next += options.sampleSeconds) {
      await sleep(Math.max(0, (next - elapsed()) * 1000))
      await sample(next)
    }
  } finally {
    clearInterval(ticker)
  }

  // Let it settle: no more cuts, every publish settled, and nothing more arriving for 3 s.
  tell({ type: 'calm' })
  const { cuts } = await hear('calm', 10_000)
  await waitFor(() => a.connected && b.connected, 30_000, 'both clients reconnected after the last cut')
  await waitFor(() => pending.a + pending.b === 0, 120_000, 'every publish settled')
  let last = -1
  let quietSince = performance.now()
  await waitFor(
    () => {
      const total = received[0] + received[1] + received[2]
      if (total !== last) [last, quietSince] = [total, performance.now()]
      return performance.now() - quietSince > 3000
    },
    120_000,
    'deliveries to stop',
  )
  tally()
  tell({ type: 'audit' })
  const { audits } = await hear('audit', 120_000)
  const streamDropped = stream.dropped
  await stream.return()
  await reading

  const growth = judge(samples, options.seconds)
  const failures = [
    ...growth.filter((g) => g.grew).map((g) => `${g.metric} grew: median ${show(g.metric, g.first)} in the first third, ${show(g.metric, g.last)} in the last (tolerance ${show(g.metric, g.tolerance)})`),
    ...(rejected > 0 ? [`${rejected} publishes rejected, e.g. ${rejections.join('; ')}`] : []),
    ...(streamDropped > 0 ? [`b's messages() stream dropped ${streamDropped} messages`] : []),
    ...(['a', 'b'] as const).flatMap((side) => auditFailures(side, audits[side])),
  ]
  const report: SoakReport = { samples, growth, sent, received, rejected, skipped, cuts, reconnects, streamDropped, audits, failures, passed: failures.length === 0 }
  log(summary(report))
  for (const failure of failures) log(`  FAIL ${failure}`)
  return report
}

/**
 * Whether each metric keeps growing. The samples of the first 20% of the run are left out as
 * warm-up (JIT compilation, V8 sizing its heap, the first sessions and reconnects), and the rest
 * cut in thirds; a metric grows if the median of the last third is above the median of the first
 * by more than its tolerance. A leak rises with traffic, so it moves the middle of the later
 * readings; a median ignores the one reading that lands mid-reconnect or mid-burst, on which a
 * maximum would fire and by which a least-squares slope would be pulled.
 */
export function judge(samples: readonly Sample[], seconds: number): Growth[] {
  const settled = samples.filter((s) => s.at > seconds * 0.2)
  const kept = settled.length >= 2 ? settled : samples.slice(-2)
  const third = Math.max(1, Math.floor(kept.length / 3))
  const metrics = Object.keys(TOLERANCE) as Array<Growth['metric']>
  return metrics.map((metric) => {
    const first = median(kept.slice(0, third).map((s) => s[metric]))
    const last = median(kept.slice(-third).map((s) => s[metric]))
    const tolerance = TOLERANCE[metric](first)
    return { metric, first, last, tolerance, grew: last - first > tolerance }
  })
}

/** The wire's verdict on one client: no loss it is to blame for, nothing delivered more or less often than the wire allows. */
function auditFailures(side: Side, audit: SideAudit): string[] {
  const failures: string[] = []
  if (audit.wireErrors > 0) failures.push(`${side}: ${audit.wireErrors} undecodable stretches in the wire record`)
  if (audit.lost.byClient > 0) failures.push(`${side}: lost ${audit.lost.byClient} QoS 1/2 messages the wire shows it had, e.g. ${audit.examples.join(', ')}`)
  if (audit.overBound > 0) failures.push(`${side}: delivered ${audit.overBound} messages more often than the wire allows (QoS 2 twice), e.g. ${audit.examples.join(', ')}`)
  if (audit.underBound > 0) failures.push(`${side}: delivered ${audit.underBound} messages less often than it acknowledged them, e.g. ${audit.examples.join(', ')}`)
  return failures
}

/**
 * Messages the wire shows the broker lost: never sent, or sent only on a packet id still in
 * flight, which the client must then not deliver (MQTT 3.1.1 §2.3.1, §4.3.3). Reported, not
 * failed, as in the chaos test: aedes 1.2 does this a few times in 10 minutes of cuts (7 of
 * 47,596 in the first 10-minute run), so failing on it would fail the soak for the broker's bugs.
 */
function brokerLosses(audit: SideAudit): number {
  return audit.lost.neverSent + audit.lost.idReused + audit.lost.notResent + audit.lost.sessionLost
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`
const show = (metric: string, value: number) => (metric === 'heapUsed' ? mib(value) : String(value))
const pad = (cells: Array<string | number>) => cells.map((c, i) => String(c).padStart(i === 0 ? 6 : 10)).join(' ')

function header(): string {
  return pad(['t (s)', 'heap MiB', 'timers', 'sockets', 'handles', 'listeners', 'pending', 'sent', 'received'])
}

function row(s: Sample): string {
  return pad([s.at, (s.heapUsed / 1024 / 1024).toFixed(2), s.timers, s.sockets, s.handles, s.listeners, s.pending, s.sent, s.received])
}

function summary(r: SoakReport): string {
  const heaps = r.samples.map((s) => s.heapUsed)
  const span = (metric: 'timers' | 'sockets' | 'listeners') => `${Math.min(...r.samples.map((s) => s[metric]))}-${Math.max(...r.samples.map((s) => s[metric]))}`
  const lost = (side: Side) => r.audits[side].expected - r.audits[side].delivered
  return (
    `soak ${r.passed ? 'PASSED' : 'FAILED'}: heap ${mib(heaps[0] ?? 0)} -> ${mib(heaps.at(-1) ?? 0)} (max ${mib(Math.max(...heaps))}); ` +
    `timers ${span('timers')}, sockets ${span('sockets')}, listeners ${span('listeners')}; ` +
    `sent q0 ${r.sent[0]} q1 ${r.sent[1]} q2 ${r.sent[2]}, received q0 ${r.received[0]} q1 ${r.received[1]} q2 ${r.received[2]}; ` +
    `QoS 1/2 not delivered a ${lost('a')} b ${lost('b')} (the broker's doing by the wire: a ${brokerLosses(r.audits.a)} b ${brokerLosses(r.audits.b)}); QoS 2 delivered twice a ${r.audits.a.duplicates.qos2} b ${r.audits.b.duplicates.qos2}, ` +
    `within the broker's re-sent flows (a ${r.audits.a.brokerResends} b ${r.audits.b.brokerResends}); ` +
    `cuts a ${r.cuts.a} b ${r.cuts.b}, reconnects a ${r.reconnects.a} b ${r.reconnects.b}; rejected ${r.rejected}, rounds skipped ${r.skipped}, stream dropped ${r.streamDropped}`
  )
}

function reply<T extends FromInfra['type']>(infra: ChildProcess, type: T, withinMs: number): Promise<Extract<FromInfra, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      infra.off('message', listen)
      infra.off('exit', exited)
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`no '${type}' from the infra process within ${withinMs} ms`))
    }, withinMs)
    const exited = (code: number | null) => {
      done()
      reject(new Error(`the infra process exited (code ${code}) before its '${type}'`))
    }
    const listen = (message: FromInfra) => {
      if (message.type !== type) return
      done()
      resolve(message as Extract<FromInfra, { type: T }>)
    }
    infra.on('message', listen)
    infra.on('exit', exited)
  })
}

async function waitFor(condition: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = performance.now() + withinMs
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`soak: no ${what} within ${withinMs} ms`)
    await sleep(20)
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
