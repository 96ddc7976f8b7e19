/**
 * Two clients in one browser (tabs, windows or workers of one origin) with one client id on one
 * broker take the session from each other in turn: each reconnect knocks the other off. A broker
 * says so with DISCONNECT 0x8E, but not every broker's goodbye arrives (Mosquitto 2.0 over
 * WebSocket closes the socket first). So a client that connects tells the others which session
 * it now holds, and one that hears its own session named stops. Where BroadcastChannel is
 * missing nothing is said or heard; Node has it too, across one process and its workers.
 */
const CHANNEL = 'ts-mqtt-ws/sessions'

export interface SessionClaims {
  /** Tells the other clients that this one now holds `session`, and listens for them taking it after. */
  claim(session: string): void
  /** Stops listening. */
  stop(): void
}

export function watchSessionClaims(takenOver: () => void): SessionClaims {
  let held: string | undefined
  // When this client took it, on the one clock of every context in the browser, so finely that two claims all but never tie.
  let at = 0
  let channel: BroadcastChannel | undefined
  return {
    claim(session) {
      if (typeof BroadcastChannel !== 'function') return
      held = session
      at = performance.timeOrigin + performance.now()
      if (!channel) {
        channel = new BroadcastChannel(CHANNEL)
        // In Node an open channel would keep the process alive.
        ;(channel as { unref?(): void }).unref?.()
        channel.onmessage = ({ data }: MessageEvent) => {
          // [session, when]; held is undefined once stopped, which no session equals. An earlier build's
          // bare string is not heard (nor does it hear these): across a deploy, tabs may fight as they did.
          const [session, when] = Array.isArray(data) ? data : []
          // A claim taken before ours was overtaken on its way (its sender reconnected past us, or
          // lost the session to us meanwhile): it hears ours and stops. Yielding too would leave the session to nobody.
          if (session !== held || !(when > at)) return
          held = undefined
          takenOver()
        }
      }
      channel.postMessage([session, at])
    },
    stop() {
      held = undefined
      channel?.close()
      channel = undefined
    },
  }
}
