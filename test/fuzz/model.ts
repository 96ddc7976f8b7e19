import { vi } from 'vitest'
import { type Message, matchTopic, MqttClient, ReasonCodeError, SubscribeError } from '../../src/index.js'
import { auditEnded, PromiseTracker } from './audit.js'
import { nextTask } from './fuzz-socket.js'
import { mulberry32, type Rng } from './prng.js'
import { ScriptedBroker } from './scripted-broker.js'

/**
 * Part B of issue 12 §4: one seeded sequence of caller operations against the scripted broker,
 * with broker faults in between and reconnect on, then end(). The model is what the broker
 * recorded: a publish may resolve only if the broker accepted it, a subscription only if every
 * filter was granted, a message reach a handler only if the broker sent it on a matching topic.
 * Afterwards the client must hold nothing: the same audit as the wire fuzz.
 */
export interface SequenceOutcome {
  seed: number
  problems: string[]
  /** The steps taken, as short words, for a failing seed's report. */
  steps: string[]
  /** What happened, summed over the run for its log line. */
  counts: { operations: number; resolved: number; rejected: number; delivered: number; sockets: number; gaveUp: number }
  /** The name of each rejection's error. */
  rejections: string[]
}

const FILTERS = ['s/a', 's/+', 's/#', 'deny/x', 'deny/+']
const TOPICS = ['s/a', 's/b', 's/c/d', 'other']
/** Simulated time the end may take to settle. */
const SETTLE_MS = 3000
const SLICE_MS = 20

interface Op {
  label: string
  kind: 'publish' | 'subscribe' | 'unsubscribe' | 'messages'
  payload?: string
  qos?: number
  filters?: string[]
  outcome?: { resolved: true; value: unknown } | { resolved: false; reason: unknown }
}

export async function runSequence(seed: number): Promise<SequenceOutcome> {
  const rng = mulberry32(seed)
  const version = rng.pick([4, 5] as const)
  // Under MQTT 5 the broker refuses (0x87) every publish whose payload ends in '!'.
  const broker = new ScriptedBroker(version, (payload) => payload.endsWith('!'))
  const clean = rng.chance(0.7)
  // Mostly a client that keeps trying; sometimes one that gives up, so giving up is modelled too.
  const reconnect = { minDelay: rng.pick([0, 10, 50]), maxDelay: 100, jitter: false, ...(rng.chance(0.15) ? { maxAttempts: rng.range(2, 5) } : {}) }
  const client = new MqttClient('ws://model.test/mqtt', {
    WebSocket: broker.WebSocket,
    clientId: `model-${seed}`,
    protocolVersion: version,
    clean,
    keepalive: rng.pick([1, 2]),
    connectTimeout: rng.pick([200, 500]),
    reconnect,
    endTimeout: rng.pick([0, 100, 500]),
    maxInflight: rng.pick([1, 3, 20]),
  })
  const errors: Error[] = []
  client.on('error', (e) => errors.push(e))
  const tracker = new PromiseTracker()
  const ops: Op[] = []
  const steps: string[] = []
  const delivered: Array<{ filter: string; message: Message }> = []
  const problems: string[] = []
  let counter = 0

  const track = (op: Op, promise: Promise<unknown>) => {
    ops.push(op)
    tracker.track(op.label, promise).then(
      (value) => {
        op.outcome = { resolved: true, value }
      },
      (reason: unknown) => {
        op.outcome = { resolved: false, reason }
      },
    )
  }
  /** A few tasks for the broker and client to answer each other; the network opens sockets in between. */
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      broker.connectPending()
      await nextTask()
    }
  }
  const guarded = (what: string, action: () => void) => {
    try {
      action()
    } catch (err) {
      problems.push(`${what} threw ${err instanceof Error ? err.message : String(err)}`)
    }
  }

  client.open()
  await settle()
  for (let n = rng.range(10, 40); n > 0; n--) {
    const step = drawStep(rng)
    steps.push(step.name)
    const label = `#${steps.length - 1} ${step.name}`
    guarded(label, () => {
      switch (step.name) {
        case 'publish': {
          const qos = rng.int(3) as 0 | 1 | 2
          const payload = `m${counter++}${version === 5 && rng.chance(0.2) ? '!' : ''}`
          track({ label, kind: 'publish', payload, qos }, client.publish(rng.pick(TOPICS), payload, { qos }))
          break
        }
        case 'subscribe': {
          const filters = [rng.pick(FILTERS), ...(rng.chance(0.3) ? [rng.pick(FILTERS)] : [])]
          const qos = rng.int(3) as 0 | 1 | 2
          // A handler's messages are checked against what the broker sent; only an iterator's against its filter too.
          track({ label, kind: 'subscribe', filters }, client.subscribe([...new Set(filters)], { qos }, (m: Message) => delivered.push({ filter: '', message: m })))
          break
        }
        case 'unsubscribe': {
          const filter = rng.pick(FILTERS)
          track({ label, kind: 'unsubscribe', filters: [filter] }, client.unsubscribe(filter))
          break
        }
        case 'messages': {
          const filter = rng.pick(FILTERS)
          const take = rng.pick([0, 1, 3])
          const iterator = client.messages(filter, { qos: rng.int(3) as 0 | 1 | 2 })
          const read = async () => {
            let got = 0
            for await (const message of iterator) {
              delivered.push({ filter, message })
              if (++got === take) break
            }
          }
          track({ label: `${label} ${filter}`, kind: 'messages', filters: [filter] }, read())
          break
        }
        case 'broker publishes':
          broker.publishToClient(rng.pick(TOPICS), `b${counter++}`, rng.int(3) as 0 | 1 | 2)
          break
        case 'time':
          vi.advanceTimersByTime(rng.pick([10, 100, 600, 1500, 3000]))
          break
        case 'drop':
          broker.drop()
          break
        case 'disconnect':
          broker.disconnect(rng.pick([0x8b, 0x89, 0x98, 0x8e]))
          break
        case 'silence':
          broker.goSilent()
          break
        case 'hold acks':
          broker.faults.holdAcks = true
          break
        case 'release acks':
          broker.release()
          break
        case 'refuse next CONNECT':
          // Mostly "server unavailable", which the client retries; now and then "not authorized", which stops it for good.
          broker.faults.refuseNext = version === 5 ? rng.pick([0x88, 0x89, 0x88, 0x87]) : rng.pick([3, 3, 3, 5])
          break
        case 'ignore next CONNECT':
          broker.faults.ignoreNextConnect = true
          break
        case 'next socket fails':
          broker.faults.unreachableNext = true
          break
      }
    })
    await settle()
  }

  const gaveUp = client.state === 'disconnected' ? 1 : 0
  const force = rng.chance(0.5)
  steps.push(force ? 'end(force)' : 'end()')
  if (rng.chance(0.5)) broker.release()
  tracker.track('end()', client.end(force ? { force: true } : {}))
  for (let waited = 0; waited <= SETTLE_MS; waited += SLICE_MS) {
    await settle()
    if (client.state === 'closed' && tracker.pending().length === 0) break
    guarded('settling', () => vi.advanceTimersByTime(SLICE_MS))
  }
  await settle()

  const pending = tracker.pending()
  if (pending.length > 0) problems.push(`unsettled after end and ${SETTLE_MS} ms: ${pending.join(', ')}`)
  problems.push(...tracker.foreignRejections())
  problems.push(...(await auditEnded(client, broker.sockets, errors, { error: 1 })))
  problems.push(...checkModel(ops, delivered, broker))
  vi.clearAllTimers()
  const counts = {
    operations: ops.length,
    resolved: ops.filter((o) => o.outcome?.resolved === true).length,
    rejected: ops.filter((o) => o.outcome?.resolved === false).length,
    delivered: delivered.length,
    sockets: broker.sockets.length,
    gaveUp,
  }
  const rejections = ops.flatMap((o) => (o.outcome?.resolved === false ? [o.outcome.reason instanceof Error ? o.outcome.reason.name : typeof o.outcome.reason] : []))
  return { seed, problems, steps, counts, rejections }
}

type StepName =
  | 'publish'
  | 'subscribe'
  | 'unsubscribe'
  | 'messages'
  | 'broker publishes'
  | 'time'
  | 'drop'
  | 'disconnect'
  | 'silence'
  | 'hold acks'
  | 'release acks'
  | 'refuse next CONNECT'
  | 'ignore next CONNECT'
  | 'next socket fails'

const WEIGHTS: ReadonlyArray<[StepName, number]> = [
  ['publish', 8],
  ['subscribe', 4],
  ['unsubscribe', 2],
  ['messages', 3],
  ['broker publishes', 5],
  ['time', 5],
  ['drop', 2],
  ['disconnect', 1],
  ['silence', 1],
  ['hold acks', 2],
  ['release acks', 2],
  ['refuse next CONNECT', 1],
  ['ignore next CONNECT', 1],
  ['next socket fails', 1],
]
const TOTAL = WEIGHTS.reduce((n, [, w]) => n + w, 0)

function drawStep(rng: Rng): { name: StepName } {
  let r = rng.int(TOTAL)
  for (const [name, weight] of WEIGHTS) {
    if (r < weight) return { name }
    r -= weight
  }
  return { name: 'time' }
}

/** Each settled operation against what the broker recorded. */
function checkModel(ops: readonly Op[], delivered: ReadonlyArray<{ filter: string; message: Message }>, broker: ScriptedBroker): string[] {
  const problems: string[] = []
  for (const op of ops) {
    const outcome = op.outcome
    if (!outcome) continue
    if (op.kind === 'publish' && op.qos !== 0 && op.payload !== undefined) {
      const verdict = broker.publishVerdicts.get(op.payload)
      if (outcome.resolved && verdict !== 'accepted') problems.push(`${op.label} resolved, but the broker ${verdict ?? 'never acknowledged it'}`)
      if (!outcome.resolved && outcome.reason instanceof ReasonCodeError && verdict !== 'refused') problems.push(`${op.label} rejected with a reason code the broker never sent`)
    }
    if (op.kind === 'publish' && outcome.resolved && op.payload !== undefined && !broker.received.has(op.payload) && op.qos !== 0) {
      problems.push(`${op.label} resolved, but the broker never received it`)
    }
    if (op.kind === 'subscribe' && op.filters) {
      const denied = op.filters.some((f) => f.startsWith('deny/'))
      if (outcome.resolved && denied) problems.push(`${op.label} resolved for a filter the broker refuses`)
      if (outcome.resolved && op.filters.some((f) => !broker.subackCodes.has(f))) problems.push(`${op.label} resolved without a SUBACK`)
      if (!outcome.resolved && outcome.reason instanceof SubscribeError && !denied) problems.push(`${op.label} rejected with SubscribeError, but every filter was grantable`)
    }
  }
  for (const { filter, message } of delivered) {
    const sent = broker.sentToClient.get(new TextDecoder().decode(message.payload))
    if (sent !== message.topic) problems.push(`a message on ${message.topic} reached the client that the broker never sent there`)
    if (filter && !matchTopic(filter, message.topic)) problems.push(`an iterator of ${filter} got a message on ${message.topic}`)
  }
  return problems
}
