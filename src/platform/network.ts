/**
 * The browser's view of connectivity: `navigator.onLine` and the `online` / `offline` events.
 * Elsewhere (Node) the network is taken as always up and nothing is listened to.
 */
export interface NetworkWatch {
  isOnline(): boolean
  /** Stops listening. */
  stop(): void
}

export function watchNetwork(handlers: { online(): void; offline(): void }): NetworkWatch {
  const target = globalThis as Partial<Pick<Window, 'addEventListener' | 'removeEventListener' | 'navigator'>>
  if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') {
    return { isOnline: () => true, stop: () => undefined }
  }
  const online = () => handlers.online()
  const offline = () => handlers.offline()
  target.addEventListener('online', online)
  target.addEventListener('offline', offline)
  return {
    isOnline: () => target.navigator?.onLine !== false,
    stop: () => {
      target.removeEventListener?.('online', online)
      target.removeEventListener?.('offline', offline)
    },
  }
}
