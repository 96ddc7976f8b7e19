/**
 * Where an adaptive window starts, and the floor a back-off never goes below: small enough that a
 * broker or path that cannot take more sees little, large enough that a fast one is found within
 * a few round trips (10, 30, 90, 270, ...).
 */
export const START_WINDOW = 10

/**
 * How much each acknowledgement of a full window adds: 2, so the window triples each round trip.
 * Doubling (1) left a 100 ms path ramping for 7 round trips to the default maxInflight of 1,000,
 * which in the bench cost a third of the QoS 1 rate against MQTT.js, which sends without a window.
 */
export const GROWTH = 2

/**
 * How many QoS 1/2 publishes may await acknowledgement at once. On MQTT 5 the broker announces
 * how many it takes (Receive Maximum): that, capped by maxInflight, is the window, fixed. A 3.1.1
 * broker (or an MQTT 5 one that announces nothing) says nothing, so the window finds the path:
 * it starts at START_WINDOW, grows by GROWTH with each PUBACK or PUBREC that comes while the window
 * is full (so it triples each round trip while the caller keeps it full, and does not grow while
 * the caller sends less than it allows), up to maxInflight; a connection that dies with more than
 * half the window in flight halves it, down to START_WINDOW at least. The window outlives the
 * connection, as the path does. Pure and clock-free: the protocol feeds it events.
 */
export class SendWindow {
  /** The window found on a broker that announces no limit. */
  private found: number
  /** The current connection's broker limit (MQTT 5 Receive Maximum, capped by max), if it announced one. */
  private announced: number | undefined

  constructor(private readonly max: number) {
    this.found = Math.min(START_WINDOW, max)
  }

  /** Most publishes that may be in flight now. */
  get size(): number {
    return this.announced ?? this.found
  }

  /** A CONNACK came: with the broker's Receive Maximum (MQTT 5), or none. */
  connected(receiveMaximum: number | undefined): void {
    this.announced = receiveMaximum === undefined ? undefined : Math.min(this.max, receiveMaximum)
  }

  /** A publish was acknowledged (PUBACK, PUBREC or PUBCOMP); `inFlight` publishes were awaiting acknowledgement before it. */
  acked(inFlight: number): void {
    // Only a full window shows the path could take more; one over-full (the resend of a bigger
    // window after a loss) is still draining, and one the caller leaves part empty shows nothing.
    if (this.announced === undefined && inFlight === this.found) this.found = Math.min(this.max, this.found + GROWTH)
  }

  /** A connection that was up died with `inFlight` publishes unacknowledged. */
  lost(inFlight: number): void {
    if (this.announced !== undefined || inFlight * 2 <= this.found) return
    this.found = Math.max(Math.min(START_WINDOW, this.max), Math.floor(this.found / 2))
  }
}
