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
  /** Tells the other clients that this one now holds `session`, and listens for them taking it. */
  claim(session: string): void
  /** Stops listening. */
  stop(): void
}

export function watchSessionClaims(takenOver: () => void): SessionClaims {
  let held: string | undefined
  let channel: BroadcastChannel | undefined
  return {
    claim(session) {
      if (typeof BroadcastChannel !== 'function') return
      held = session
      if (!channel) {
        channel = new BroadcastChannel(CHANNEL)
        // In Node an open channel would keep the process alive.
        ;(channel as { unref?(): void }).unref?.()
        channel.onmessage = (event: MessageEvent) => {
          if (held === undefined || event.data !== held) return
          held = undefined
          takenOver()
        }
      }
      channel.postMessage(session)
    },
    stop() {
      held = undefined
      channel?.close()
      channel = undefined
    },
  }
}
