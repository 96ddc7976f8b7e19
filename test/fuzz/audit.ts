import v8 from 'node:v8'
import vm from 'node:vm'
import { vi } from 'vitest'
import { MqttError, type MqttClient } from '../../src/index.js'
import { clientHoldings } from '../support/internals.js'
import type { FuzzSocket } from './fuzz-socket.js'

/**
 * The checks every fuzz case and model sequence ends with: what a client must not leave behind
 * once end() is done, whatever its broker sent. Each check answers with the problems it found,
 * as text that names what was left, so a failing seed says why at once.
 */

/** Every Promise a case made, and whether it settled. */
export class PromiseTracker {
  private readonly entries: Array<{ label: string; state: 'pending' | 'resolved' | 'rejected'; reason?: unknown }> = []

  /** Watches `promise` (which also marks its rejection handled) and gives it back. */
  track<T>(label: string, promise: Promise<T>): Promise<T> {
    const entry: { label: string; state: 'pending' | 'resolved' | 'rejected'; reason?: unknown } = { label, state: 'pending' }
    this.entries.push(entry)
    promise.then(
      () => {
        entry.state = 'resolved'
      },
      (reason: unknown) => {
        entry.state = 'rejected'
        entry.reason = reason
      },
    )
    return promise
  }

  get count(): number {
    return this.entries.length
  }

  pending(): string[] {
    return this.entries.filter((e) => e.state === 'pending').map((e) => e.label)
  }

  /** Rejections whose reason is not one of the library's errors (a TypeError from a bug, say). */
  foreignRejections(allowed: (reason: unknown) => boolean = () => false): string[] {
    return this.entries
      .filter((e) => e.state === 'rejected' && !(e.reason instanceof MqttError) && !allowed(e.reason))
      .map((e) => `${e.label} rejected with ${describe(e.reason)}`)
  }
}

/** Uncaught exceptions and unhandled rejections, from process listeners installed once per file. */
export function watchEscapes(): { take(): string[]; stop(): void } {
  let caught: string[] = []
  const uncaught = (err: unknown) => caught.push(`uncaught exception: ${describe(err)}`)
  const unhandled = (reason: unknown) => caught.push(`unhandled rejection: ${describe(reason)}`)
  process.on('uncaughtException', uncaught)
  process.on('unhandledRejection', unhandled)
  return {
    take() {
      const out = caught
      caught = []
      return out
    },
    stop() {
      process.off('uncaughtException', uncaught)
      process.off('unhandledRejection', unhandled)
    },
  }
}


/**
 * What an ended client must have let go of: it is closed; no timer of the fake clock is left;
 * every socket it made is closed, with the client's handlers off it; no operation is queued or
 * in flight and no route is left; the listeners are only those the test added (`ours`); every
 * `error` event carried an MqttError.
 */
export async function auditEnded(
  client: MqttClient,
  sockets: readonly FuzzSocket[],
  errors: readonly Error[],
  ours: Partial<Record<string, number>>,
): Promise<string[]> {
  const problems: string[] = []
  if (client.state !== 'closed') problems.push(`state is ${client.state}, not closed`)
  const timers = vi.getTimerCount()
  if (timers > 0) problems.push(`${timers} timer(s) left`)
  sockets.forEach((s, i) => {
    if (s.readyState !== 3) problems.push(`socket ${i} left ${s.readyState === 1 ? 'open' : 'connecting'}`)
    const left = s.handlersLeft
    if (left.length > 0) problems.push(`socket ${i} still has ${left.join(', ')}`)
  })
  const held = await clientHoldings(client)
  if (held.pendingOps > 0) problems.push(`${held.pendingOps} operation(s) still queued or in flight`)
  if (held.routes > 0) problems.push(`${held.routes} route(s) left in the router`)
  // Every event the emitter holds listeners for, read from its private table so that events
  // added later are counted too.
  const listeners = client['listeners'] as Record<string, readonly unknown[] | undefined>
  for (const event of new Set([...Object.keys(listeners), ...Object.keys(ours)])) {
    const extra = (listeners[event]?.length ?? 0) - (ours[event] ?? 0)
    if (extra !== 0) problems.push(`${extra} listener(s) of '${event}' left beyond the test's`)
  }
  for (const e of errors) if (!(e instanceof MqttError)) problems.push(`error event with a ${describe(e)}, not an MqttError`)
  return problems
}

export function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`
  return `${typeof value} ${String(value)}`
}

/** V8 gives `gc` only to code run with --expose-gc; a context made after setting the flag has it. */
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** Heap in use after a full collection, in bytes. */
export function heapAfterGc(): number {
  gc()
  return process.memoryUsage().heapUsed
}

/** Real milliseconds, which the fake clock does not touch (it fakes performance and Date). */
export function realMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n)
}

/**
 * Counts the BroadcastChannels open now (the client opens one to hear its session claimed by
 * another client in this browser or process), by standing a counting subclass in for the global
 * while the watch lasts.
 */
export function watchChannels(): { open(): number; stop(): void } {
  const original = globalThis.BroadcastChannel
  const live = new Set<BroadcastChannel>()
  class CountedChannel extends original {
    constructor(name: string) {
      super(name)
      live.add(this)
    }
    override close(): void {
      live.delete(this)
      super.close()
    }
  }
  globalThis.BroadcastChannel = CountedChannel
  return {
    open: () => live.size,
    stop() {
      globalThis.BroadcastChannel = original
    },
  }
}
