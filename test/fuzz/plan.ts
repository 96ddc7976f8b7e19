import { type CorpusContext, connackPacket, serverPacket, UTF8_MARK } from './corpus.js'
import { join, mutate, splitFrames } from './mutate.js'
import { mulberry32, type Rng } from './prng.js'
import { toHex } from './wire.js'

/**
 * One wire-fuzz case as data: the client's options, then steps (what the caller asks, what the
 * broker sends, byte for byte, and how time passes), then how the client is ended. A plan is
 * drawn from one seed by makePlan(), and written to a fixture as it is, so a saved case replays
 * the same bytes even after the generator changes.
 */
export interface WirePlan {
  seed: number
  options: PlanOptions
  steps: Step[]
  end: { force: boolean }
}

export interface PlanOptions {
  protocolVersion: 4 | 5 | 'auto'
  keepalive: number
  connectTimeout: number
  reconnect: false | { minDelay: number; maxDelay: number; maxAttempts: number; jitter: false }
  endTimeout: number
  maxInflight: number
  queueLimit: number
  maxPacketSize?: number
  queueQoS0: boolean
  topicAliases: 'auto' | false
  properties?: { topicAliasMaximum?: number; receiveMaximum?: number; authenticationMethod?: string }
  /** How the onAuth hook answers, when there is one: with data, by throwing an Error, or by throwing the DOMException of an aborted fetch (which has a numeric `code`). */
  auth?: 'answer' | 'throw' | 'abort'
}

export type Step =
  /** Let one task pass (the client writes what it queued). */
  | { do: 'flush' }
  /** Opens the newest socket if it is still connecting. */
  | { do: 'open' }
  /** Opens the newest socket if need be and sends it these bytes, unless it had a CONNACK step already. */
  | { do: 'connack'; hex: string; mutated?: string[] }
  /** One frame to the newest socket, if it is open. */
  | { do: 'frame'; hex: string; mutated?: string[] }
  | { do: 'time'; ms: number }
  /** The network drops the newest socket. */
  | { do: 'drop' }
  | { do: 'publish'; topic: string; payload: string; qos: 0 | 1 | 2; retain: boolean; alias?: boolean }
  | { do: 'subscribe'; filters: string[]; qos: 0 | 1 | 2; handler: boolean; noLocal?: boolean }
  | { do: 'unsubscribe'; filters: string[] }
  /** A messages() iterator read by a loop that stops after `take` messages (0: reads to the end). */
  | { do: 'messages'; filter: string; qos: 0 | 1 | 2; take: number }
  | { do: 'reauthenticate' }

const TOPICS = ['a', 'a/b', 'x/y/z', `t/${UTF8_MARK}`, 'req/1']
const FILTERS = ['a', 'a/+', 'a/b', '#', 'x/#', `t/${UTF8_MARK}`, '+/+/z']

export const AUTH_METHOD = 'FUZZ-AUTH'

export function makePlan(seed: number): WirePlan {
  const rng = mulberry32(seed)
  const options = drawOptions(rng)
  const version = options.protocolVersion === 4 ? 4 : 5
  const filters: string[] = []
  let ids = 2
  const ctx = (): CorpusContext => ({ version, maxId: ids, topics: filters, authMethod: options.properties?.authenticationMethod })
  const steps: Step[] = [{ do: 'flush' }]
  const op = () => {
    const step = drawOperation(rng, version, options.properties?.authenticationMethod !== undefined)
    if (step.do === 'subscribe') filters.push(...step.filters)
    if (step.do === 'messages') filters.push(step.filter)
    if (step.do !== 'publish' || step.qos > 0) ids++
    steps.push(step)
  }
  for (let n = rng.int(3); n > 0; n--) op()
  steps.push({ do: 'open' }, { do: 'flush' })
  steps.push(connackStep(rng, ctx()))
  // How much of this case's broker traffic is broken: some cases are mostly clean, some mostly not.
  const mutationRate = rng.pick([0.1, 0.3, 0.6, 0.9])
  for (let n = rng.range(2, 8); n > 0; n--) {
    const r = rng.next()
    if (r < 0.25) {
      op()
    } else if (r < 0.75) {
      burst(rng, ctx(), mutationRate, steps)
    } else if (r < 0.85) {
      steps.push({ do: 'time', ms: rng.pick([5, 50, 300, 1200, 3000]) })
    } else if (r < 0.9) {
      steps.push({ do: 'drop' })
    } else if (r < 0.95) {
      // Time for a reconnect, then a CONNACK for the new socket.
      steps.push({ do: 'time', ms: rng.pick([20, 120, 400]) }, connackStep(rng, ctx()))
    } else {
      // Bytes that were never a packet.
      steps.push({ do: 'frame', hex: toHex(rng.bytes(rng.range(1, 24))), mutated: ['garbage'] })
    }
    steps.push({ do: 'flush' })
  }
  return { seed, options, steps, end: { force: rng.chance(0.5) } }
}

function drawOptions(rng: Rng): PlanOptions {
  const protocolVersion = rng.pick([4, 5, 5, 'auto'] as const)
  const options: PlanOptions = {
    protocolVersion,
    keepalive: rng.pick([0, 1, 2, 60]),
    connectTimeout: rng.pick([100, 1000, 5000]),
    reconnect: rng.chance(0.3) ? false : { minDelay: rng.pick([0, 10, 100]), maxDelay: 200, maxAttempts: rng.range(1, 4), jitter: false },
    endTimeout: rng.pick([0, 30, 300]),
    maxInflight: rng.pick([1, 2, 20]),
    queueLimit: rng.pick([2, 5, 1000]),
    queueQoS0: rng.chance(0.7),
    topicAliases: rng.chance(0.7) ? 'auto' : false,
  }
  if (rng.chance(0.3)) options.maxPacketSize = rng.pick([8, 64, 1024, 268435460])
  if (protocolVersion !== 4 && rng.chance(0.6)) {
    const properties: NonNullable<PlanOptions['properties']> = {}
    if (rng.chance(0.5)) properties.topicAliasMaximum = rng.range(1, 4)
    if (rng.chance(0.3)) properties.receiveMaximum = rng.range(1, 10)
    if (rng.chance(0.4)) {
      properties.authenticationMethod = AUTH_METHOD
      options.auth = rng.pick(['answer', 'answer', 'throw', 'abort'] as const)
    }
    options.properties = properties
  }
  return options
}

function drawOperation(rng: Rng, version: 4 | 5, auth: boolean): Step {
  const r = rng.next()
  const qos = rng.int(3) as 0 | 1 | 2
  if (r < 0.45) {
    const step: Step = { do: 'publish', topic: rng.pick(TOPICS), payload: toHex(rng.bytes(rng.pick([0, 3, 40]))), qos, retain: rng.chance(0.2) }
    return step
  }
  if (r < 0.65) {
    const filters = Array.from({ length: rng.range(1, 2) }, () => rng.pick(FILTERS))
    const step: Step = { do: 'subscribe', filters, qos, handler: rng.chance(0.7) }
    if (version === 5 && rng.chance(0.2)) step.noLocal = true
    return step
  }
  if (r < 0.75) return { do: 'unsubscribe', filters: [rng.pick(FILTERS)] }
  if (r < 0.92 || !auth) return { do: 'messages', filter: rng.pick(FILTERS), qos, take: rng.pick([0, 1, 2]) }
  return { do: 'reauthenticate' }
}

function connackStep(rng: Rng, ctx: CorpusContext): Step {
  const bytes = connackPacket(rng, ctx, rng.chance(0.85))
  if (!rng.chance(0.15)) return { do: 'connack', hex: toHex(bytes) }
  const { bytes: broken, applied } = mutate(rng, bytes, serverPacket(rng, ctx))
  return { do: 'connack', hex: toHex(broken), mutated: applied }
}

/** A few broker packets, some broken, as one stream cut into frames at random points or sent as one. */
function burst(rng: Rng, ctx: CorpusContext, mutationRate: number, steps: Step[]): void {
  const packets: Uint8Array[] = []
  const applied: string[] = []
  for (let n = rng.range(1, 4); n > 0; n--) {
    let packet = serverPacket(rng, ctx)
    if (rng.chance(mutationRate)) {
      const result = mutate(rng, packet, serverPacket(rng, ctx))
      packet = result.bytes
      applied.push(...result.applied)
    }
    packets.push(packet)
  }
  const stream = join(packets)
  const frames = rng.chance(0.5) ? [stream] : splitFrames(rng, stream, 4)
  frames.forEach((frame, i) => {
    const step: Step = { do: 'frame', hex: toHex(frame) }
    if (i === 0 && applied.length > 0) step.mutated = applied
    steps.push(step)
    if (rng.chance(0.3)) steps.push({ do: 'flush' })
  })
}
