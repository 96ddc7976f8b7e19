// Stands in for `process-nextick-args` inside the bundled codec: the real one reads the `process`
// global, which browsers lack. mqtt-packet only calls it to uncork streams, which we never pass it.
export function nextTick(callback: (...args: unknown[]) => void, ...args: unknown[]): void {
  queueMicrotask(() => callback(...args))
}

export default { nextTick }
