/**
 * The client's life as one state machine: each state with the states it may move to. Every
 * change goes through `checkMove`, so a path not written here is a bug that throws, not a quiet
 * mix of flags. The client shows these states (see client/events.ts) and derives its events
 * from each move.
 */
export const LIFE = {
  /** Made, not opened yet; messages a store kept may be loading. */
  starting: ['connecting', 'closed'],
  /** A socket is opening, or CONNECT is on its way: waiting for CONNACK. */
  connecting: ['connected', 'reconnecting', 'disconnected', 'closed'],
  connected: ['reconnecting', 'disconnected', 'closing', 'closed'],
  /** No socket: waiting out the backoff delay, or for the network to come back. */
  reconnecting: ['connecting', 'disconnected', 'closed'],
  /** Given up, for a refusal retrying cannot fix or with attempts used up. Only end() is left. */
  disconnected: ['closed'],
  /** end() while connected: what is queued and in flight settles, then DISCONNECT. */
  closing: ['closed'],
  /** Ended: nothing more happens. */
  closed: [],
} as const satisfies Record<string, readonly string[]>

export type LifeState = keyof typeof LIFE

/** Throws when `to` is not a state `from` may move to. */
export function checkMove(from: LifeState, to: LifeState): void {
  if (!(LIFE[from] as readonly LifeState[]).includes(to)) throw new Error(`ts-mqtt-ws bug: no move from ${from} to ${to}`)
}

/** A socket is in use, opening or open. */
export function hasSocket(state: LifeState): boolean {
  return state === 'connecting' || state === 'connected' || state === 'closing'
}
