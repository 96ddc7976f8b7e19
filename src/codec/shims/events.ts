type Listener = (...args: unknown[]) => void

/**
 * The part of Node's EventEmitter mqtt-packet uses, in place of the `events` package (6 KB
 * minified): its Parser emits 'packet' and 'error', and generate()'s accumulator emits an 'error'
 * nobody listens to, which is thrown, as Node's emitter throws it, for generate() to throw.
 */
export class EventEmitter {
  private readonly listeners: Record<string, Listener[] | undefined> = {}

  on(event: string, listener: Listener): this {
    ;(this.listeners[event] ??= []).push(listener)
    return this
  }

  emit(event: string, ...args: unknown[]): boolean {
    const listeners = this.listeners[event]
    if (!listeners || listeners.length === 0) {
      if (event === 'error') throw args[0]
      return false
    }
    for (const listener of listeners) listener(...args)
    return true
  }
}
