import WebSocket from 'ws'

/**
 * The timers a client asks the platform for while it handles the close of its WebSocket: that is
 * where a reconnect delay is set. The delay asked for is what backoff and jitter decide; when the
 * reconnect reaches a proxy is that plus however long a busy machine takes (seen: 100 reconnects
 * due within 2 s reached the proxy over 7 s while other jobs had the CPU), so a spread judged at
 * the proxy alone would measure the machine. The client never learns it is watched: it is given
 * this WebSocket class, and setTimeout is wrapped only while a close of one is being handled.
 */
export interface CloseTimerWatch {
  /** The class to hand to the client as its `WebSocket` option. */
  WebSocket: new (address: string, protocols?: string | string[]) => WebSocket
  /** One entry per close handled: when, and the delays of the timers set while handling it. */
  readonly closes: ReadonlyArray<{ at: number; timers: readonly number[] }>
  /** Puts setTimeout back. */
  stop(): void
}

export function watchCloseTimers(): CloseTimerWatch {
  const closes: Array<{ at: number; timers: number[] }> = []
  let handling: { at: number; timers: number[] } | undefined
  const original = globalThis.setTimeout
  const watched = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    handling?.timers.push(ms ?? 0)
    return original(callback, ms, ...args)
  }
  globalThis.setTimeout = Object.assign(watched, original) as typeof setTimeout

  class WatchedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols)
      // Listeners run in the order added: this one before the client's onclose, which the client
      // sets right after construction, and the one added a microtask later after it.
      this.on('close', () => {
        handling = { at: performance.now(), timers: [] }
        closes.push(handling)
      })
      queueMicrotask(() =>
        this.on('close', () => {
          handling = undefined
        }),
      )
    }
  }

  return {
    WebSocket: WatchedWebSocket,
    closes,
    stop() {
      globalThis.setTimeout = original
    },
  }
}
