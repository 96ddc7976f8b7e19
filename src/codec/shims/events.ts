type Listener = (arg: unknown) => void

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

  /** mqtt-packet emits one argument: a packet or an error. */
  emit(event: string, arg?: unknown): boolean {
    const listeners = this.listeners[event]
    if (!listeners) {
      if (event === 'error') throw arg
      return false
    }
    for (let i = 0; i < listeners.length; i++) (listeners[i] as Listener)(arg)
    return true
  }
}
