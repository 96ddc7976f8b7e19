import { plainTimers, type TimerHandle, type Timers } from './timers.js'

// Runs in the Worker: timers there are not throttled when the page's tab is in the background.
const WORKER_SOURCE = `
const timers = new Map()
onmessage = (e) => {
  const { op, id, ms } = e.data
  if (op === 'set') timers.set(id, setTimeout(() => { timers.delete(id); postMessage(id) }, ms))
  else { clearTimeout(timers.get(id)); timers.delete(id) }
}
`

/**
 * Timers kept in a Worker. Browsers throttle timers in hidden tabs to about once a minute, which
 * would make keepalive pings late enough for the broker to drop the client; a Worker's timers
 * keep time. One Worker serves every client of the page, and it is ended when the last client
 * lets go. Where no Worker can be made (Node, or a page whose CSP forbids blob: workers), the
 * client uses plain timers.
 */
class WorkerTimers implements Timers {
  private readonly pending = new Map<number, { callback: () => void; due: number }>()
  /** Set once the Worker fails (a CSP may refuse it only after it was made): plain timers take over. */
  private fallback: Map<number, TimerHandle> | undefined
  private nextId = 1
  users = 0

  constructor(private readonly worker: Worker) {
    worker.onmessage = (e: MessageEvent<number>) => this.fire(e.data)
    worker.onerror = () => this.fallBack()
  }

  set(callback: () => void, ms: number): TimerHandle {
    const id = this.nextId++
    this.pending.set(id, { callback, due: performance.now() + ms })
    if (this.fallback) this.fallback.set(id, plainTimers.set(() => this.fire(id), ms))
    else this.worker.postMessage({ op: 'set', id, ms })
    return id
  }

  clear(handle: TimerHandle): void {
    const id = handle as number
    if (!this.pending.delete(id)) return
    if (this.fallback) plainTimers.clear(this.fallback.get(id))
    else this.worker.postMessage({ op: 'clear', id })
  }

  terminate(): void {
    this.worker.terminate()
    for (const handle of this.fallback?.values() ?? []) plainTimers.clear(handle)
    this.pending.clear()
  }

  private fire(id: number): void {
    const entry = this.pending.get(id)
    this.pending.delete(id)
    this.fallback?.delete(id)
    entry?.callback()
  }

  private fallBack(): void {
    if (this.fallback) return
    this.fallback = new Map()
    const now = performance.now()
    for (const [id, { due }] of this.pending) this.fallback.set(id, plainTimers.set(() => this.fire(id), Math.max(0, due - now)))
  }
}

let shared: WorkerTimers | undefined

/** Timers for one client: the shared Worker's where possible. Give them back with releaseTimers(). */
export function acquireTimers(): Timers {
  if (!shared) shared = createWorkerTimers()
  if (!shared) return plainTimers
  shared.users++
  return shared
}

export function releaseTimers(timers: Timers): void {
  if (timers !== shared || !shared) return
  if (--shared.users > 0) return
  shared.terminate()
  shared = undefined
}

function createWorkerTimers(): WorkerTimers | undefined {
  const g = globalThis as { Worker?: typeof Worker; Blob?: typeof Blob; URL?: typeof URL }
  if (typeof g.Worker !== 'function' || typeof g.Blob !== 'function' || typeof g.URL?.createObjectURL !== 'function') {
    return undefined
  }
  try {
    const url = g.URL.createObjectURL(new g.Blob([WORKER_SOURCE], { type: 'text/javascript' }))
    const worker = new g.Worker(url)
    g.URL.revokeObjectURL(url)
    return new WorkerTimers(worker)
  } catch {
    return undefined
  }
}
