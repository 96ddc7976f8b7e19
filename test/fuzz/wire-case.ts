import { vi } from 'vitest'
import { type ClientOptions, type Message, MqttClient, type WebSocketConstructor } from '../../src/index.js'
import { auditEnded, describe, PromiseTracker } from './audit.js'
import { watchClientWrites } from './client-writes.js'
import { type FuzzSocket, nextTask, socketClass } from './fuzz-socket.js'
import { AUTH_METHOD, type PlanOptions, type Step, type WirePlan } from './plan.js'
import { fromHex } from './wire.js'

/** What one case found: nothing, when the client handled every byte and ended clean. */
export interface CaseOutcome {
  seed: number
  problems: string[]
  /** Frames the broker sent, and how many the client was still open to read. */
  frames: number
  errors: number
  /** The names of the errors the client reported, in order. */
  errorNames: string[]
  /** Whether a CONNACK ever connected it. */
  connected: boolean
}

/** Simulated time a case may take, from end() until everything has settled. */
export const SETTLE_MS = 2000
const SETTLE_STEP_MS = 20

/**
 * Runs one plan against a real MqttClient on FuzzSockets, under the fake clock the caller
 * installed (vi.useFakeTimers, setImmediate left real). Nothing here throws: every surprise,
 * a throw out of the client included, becomes a problem of the outcome.
 */
export async function runWirePlan(plan: WirePlan): Promise<CaseOutcome> {
  const problems: string[] = []
  const sockets: FuzzSocket[] = []
  const errors: Error[] = []
  const tracker = new PromiseTracker()
  const connacked = new Set<FuzzSocket>()
  let frames = 0
  let connected = false
  const client = new MqttClient('ws://fuzz.test/mqtt', clientOptions(plan, socketClass(sockets, watchClientWrites(problems))))
  client.on('error', (e) => errors.push(e))
  client.once('connect', () => {
    connected = true
  })
  const guarded = (what: string, action: () => void) => {
    try {
      action()
    } catch (err) {
      problems.push(`${what} threw ${describe(err)}`)
    }
  }
  const newest = () => sockets.at(-1)

  guarded('open()', () => client.open())
  for (const [index, step] of plan.steps.entries()) {
    const label = `step ${index} ${step.do}`
    switch (step.do) {
      case 'flush':
        break
      case 'open':
        guarded(label, () => newest()?.open())
        break
      case 'connack': {
        const socket = newest()
        if (!socket || connacked.has(socket) || socket.readyState === 3) break
        connacked.add(socket)
        if (socket.readyState === 0) {
          guarded(label, () => socket.open())
          await nextTask()
        }
        frames++
        guarded(label, () => socket.deliver(fromHex(step.hex)))
        break
      }
      case 'frame':
        frames++
        guarded(label, () => newest()?.deliver(fromHex(step.hex)))
        break
      case 'time':
        guarded(label, () => vi.advanceTimersByTime(step.ms))
        break
      case 'drop':
        guarded(label, () => newest()?.drop())
        break
      default:
        guarded(label, () => operate(client, step, tracker, label))
    }
    await nextTask()
  }

  const ending = tracker.track('end()', client.end(plan.end.force ? { force: true } : {}))
  void ending
  // Bounded: SETTLE_MS of simulated time, a task for the client between each slice of it.
  for (let waited = 0; waited <= SETTLE_MS; waited += SETTLE_STEP_MS) {
    await nextTask()
    if (client.state === 'closed' && tracker.pending().length === 0) break
    guarded('settling', () => vi.advanceTimersByTime(SETTLE_STEP_MS))
  }
  await nextTask()
  const pending = tracker.pending()
  if (pending.length > 0) problems.push(`unsettled after ${SETTLE_MS} ms: ${pending.join(', ')}`)
  problems.push(...tracker.foreignRejections())
  problems.push(...(await auditEnded(client, sockets, errors, { error: 1, connect: connected ? 0 : 1 })))
  // Anything left on the fake clock would leak into the next case: it is reported above, then cleared.
  vi.clearAllTimers()
  return { seed: plan.seed, problems, frames, errors: errors.length, errorNames: errors.map((e) => e.name), connected }
}

function clientOptions(plan: WirePlan, WebSocket: WebSocketConstructor): ClientOptions {
  const o: PlanOptions = plan.options
  const options: ClientOptions = {
    WebSocket,
    clientId: `fuzz-${plan.seed}`,
    protocolVersion: o.protocolVersion,
    keepalive: o.keepalive,
    connectTimeout: o.connectTimeout,
    reconnect: o.reconnect === false ? false : { ...o.reconnect },
    endTimeout: o.endTimeout,
    maxInflight: o.maxInflight,
    queueLimit: o.queueLimit,
    queueQoS0: o.queueQoS0,
    topicAliases: o.topicAliases,
  }
  if (o.maxPacketSize !== undefined) options.maxPacketSize = o.maxPacketSize
  if (o.properties) options.properties = { ...o.properties }
  if (o.auth) {
    const how = o.auth
    options.onAuth = () => {
      if (how === 'throw') throw new Error('the hook gave up')
      // What a hook that fetches its answer throws when the fetch is aborted or times out.
      if (how === 'abort') throw new DOMException('This operation was aborted', 'AbortError')
      return new TextEncoder().encode(AUTH_METHOD)
    }
  }
  return options
}

function operate(client: MqttClient, step: Step, tracker: PromiseTracker, label: string): void {
  switch (step.do) {
    case 'publish':
      tracker.track(label, client.publish(step.topic, fromHex(step.payload), { qos: step.qos, retain: step.retain }))
      break
    case 'subscribe': {
      const handler = step.handler ? (m: Message) => void m.payload.length : undefined
      const options = step.noLocal ? { qos: step.qos, nl: true } : { qos: step.qos }
      tracker.track(label, handler ? client.subscribe(step.filters, options, handler) : client.subscribe(step.filters, options))
      break
    }
    case 'unsubscribe':
      tracker.track(label, client.unsubscribe(step.filters))
      break
    case 'messages': {
      const iterator = client.messages(step.filter, { qos: step.qos })
      const read = async () => {
        let n = 0
        for await (const m of iterator) {
          void m.topic
          if (++n === step.take) break
        }
      }
      tracker.track(label, read())
      break
    }
    case 'reauthenticate':
      tracker.track(label, client.reauthenticate(new TextEncoder().encode('again')))
      break
    default:
      throw new Error(`not an operation: ${step.do}`)
  }
}
