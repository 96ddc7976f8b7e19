import { type BackoffOptions, backoffDelay } from './backoff.js'

export type ReconnectOptions = (BackoffOptions & { maxAttempts: number; resetAfter: number }) | false

/**
 * Decides, after each lost connection or failed attempt, whether to try again, when, and where.
 * The delay grows with each try and falls back only once a connection has stayed up for
 * `resetAfter` ms, so a broker that accepts and drops at once does not get hammered; the count
 * of tries against `maxAttempts` restarts with every accepted connection. Each try takes the next
 * server in turn. Time is given, not read, so tests are exact.
 */
export class ReconnectPlan {
  private level = 0
  private failures = 0
  private index = 0
  private upSince: number | undefined

  constructor(
    private readonly servers: readonly string[],
    private readonly options: ReconnectOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The server to connect to now. */
  get server(): string {
    return this.servers[this.index] as string
  }

  connected(now: number): void {
    this.failures = 0
    this.upSince = now
  }

  /** The delay before the next try, or undefined when it is time to give up. */
  next(now: number): number | undefined {
    if (this.upSince !== undefined && this.options && now - this.upSince >= this.options.resetAfter) this.level = 0
    this.upSince = undefined
    if (!this.options || this.failures >= this.options.maxAttempts) return undefined
    this.failures++
    this.index = (this.index + 1) % this.servers.length
    return backoffDelay(this.level++, this.options, this.random)
  }
}
