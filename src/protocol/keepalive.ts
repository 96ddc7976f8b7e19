/**
 * Keepalive bookkeeping, given the time rather than reading a clock.
 *
 * A PINGREQ goes out once nothing has been sent, or nothing received, for a whole keepalive
 * period: the send side keeps the broker from dropping us, the receive side finds a connection
 * that still takes our writes but carries nothing back. If nothing at all arrives within half a
 * period after that ping, the connection is dead: at most 1.5 × keepalive after the last byte in.
 */
export class Keepalive {
  private lastSent = 0
  private lastReceived = 0
  private pingSentAt: number | undefined

  constructor(private periodMs: number) {}

  /** A new period, for the connection under way (a broker's Server Keep Alive). */
  setPeriod(periodMs: number): void {
    this.periodMs = periodMs
  }

  get enabled(): boolean {
    return this.periodMs > 0
  }

  reset(now: number): void {
    this.lastSent = now
    this.lastReceived = now
    this.pingSentAt = undefined
  }

  sent(now: number): void {
    this.lastSent = now
  }

  /** Any packet from the broker proves the connection alive, not only PINGRESP. */
  received(now: number): void {
    this.lastReceived = now
    this.pingSentAt = undefined
  }

  /** What is due at `now`: a ping to send, a dead connection, or nothing. */
  check(now: number): 'ping' | 'timeout' | undefined {
    if (!this.enabled) return undefined
    if (this.pingSentAt !== undefined) return now >= this.pingSentAt + this.periodMs / 2 ? 'timeout' : undefined
    return now >= this.idleSince() + this.periodMs ? 'ping' : undefined
  }

  pinged(now: number): void {
    this.pingSentAt = now
    this.lastSent = now
  }

  /** When check() next has something to say, or undefined when keepalive is off. */
  nextDeadline(): number | undefined {
    if (!this.enabled) return undefined
    if (this.pingSentAt !== undefined) return this.pingSentAt + this.periodMs / 2
    return this.idleSince() + this.periodMs
  }

  private idleSince(): number {
    return Math.min(this.lastSent, this.lastReceived)
  }
}
