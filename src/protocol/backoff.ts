export interface BackoffOptions {
  /** ms: the ceiling of the first delay */
  minDelay: number
  /** ms: the ceiling never grows past this */
  maxDelay: number
  factor: number
  /** Full jitter: pick uniformly below the ceiling, so clients that failed together do not retry together. */
  jitter: boolean
}

export const DEFAULT_BACKOFF: BackoffOptions = { minDelay: 1000, maxDelay: 30_000, factor: 2, jitter: true }

/**
 * The delay before reconnect attempt `attempt` (0 for the first): exponential growth capped at
 * maxDelay, with full jitter when asked. `random` is injectable so tests can be exact.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelay, options.minDelay * options.factor ** attempt)
  return options.jitter ? Math.floor(random() * ceiling) : ceiling
}
