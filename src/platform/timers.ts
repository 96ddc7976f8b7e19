export type TimerHandle = unknown

/** The client's only source of timers, so that another (a Worker's, say) can stand in. */
export interface Timers {
  set(callback: () => void, ms: number): TimerHandle
  clear(handle: TimerHandle): void
}

export const plainTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}

/** Monotonic milliseconds: wall-clock jumps must not fire or starve keepalive. */
export function now(): number {
  return performance.now()
}
