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
  private readonly servers: string[]
  /** Where a broker sent us for one try (MQTT 5 "use another server"). */
  private sentTo: string | undefined
  /** A broker sent us elsewhere: the next try goes there at once. */
  private jump = false

  constructor(
    servers: readonly string[],
    private readonly options: ReconnectOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.servers = [...servers]
  }

  /** Tries since the last accepted connection: the number of the one under way or next (from 1). */
  get attempts(): number {
    return this.failures
  }

  /** The server to connect to now; undefined when there is no list, as the caller's url function picks each. */
  get server(): string | undefined {
    return this.sentTo ?? this.servers[this.index]
  }

  /**
   * The broker named another server (MQTT 5 Server Reference): the next try goes there at once,
   * once only, or for good in place of this one when the broker has `moved`. A reference that is
   * not a WebSocket URL or a host[:port] is ignored, as are all where the caller's url function
   * picks each server: it alone knows how to sign a URL.
   */
  redirect(reference: string, moved: boolean): void {
    const current = this.server
    if (current === undefined) return
    const url = serverUrl(reference, current)
    if (!url) return
    if (moved) this.servers[this.index] = url
    this.sentTo = moved ? undefined : url
    this.jump = true
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
    if (this.jump) {
      this.jump = false
      return 0
    }
    this.sentTo = undefined
    this.index = (this.index + 1) % Math.max(1, this.servers.length)
    return backoffDelay(this.level++, this.options, this.random)
  }
}

/**
 * A Server Reference as a URL to connect to: a WebSocket URL as it is, or a host[:port] put in
 * place of the current server's; the first of several. Undefined for anything else.
 */
export function serverUrl(reference: string, current: string): string | undefined {
  const first = reference.trim().split(/\s+/)[0] ?? ''
  try {
    if (/^wss?:\/\//i.test(first)) return new URL(first).href
    if (!/^[\w.-]+(:\d+)?$|^\[[\da-f:]+\](:\d+)?$/i.test(first)) return undefined
    const url = new URL(current)
    url.host = first
    return url.href
  } catch {
    return undefined
  }
}
