/**
 * A function that hears an event, with that event's arguments.
 * @inline
 */
type Listener<A extends unknown[]> = (...args: A) => void

/**
 * The listener methods of a typed emitter, as a type: what a client proxy (the tab side of a
 * shared connection) must offer beside MqttClient. Each returns `this`, so chained calls keep the
 * caller's own type.
 */
export interface EmitterApi<E extends { [K in keyof E]: unknown[] }> {
  /** Adds a listener for `event`; listeners run in the order added, each time the event fires. */
  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this
  /** Adds a listener that hears `event` once and is then removed. */
  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this
  /** Removes a listener of `event` (the one added last, if it was added twice). */
  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this
  /** The same as `on`. */
  addListener<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this
  /** The same as `off`. */
  removeListener<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this
  /** Removes every listener of `event`, or of every event when none is named. */
  removeAllListeners<K extends keyof E & string>(event?: K): this
  /** How many listeners `event` has. */
  listenerCount<K extends keyof E & string>(event: K): number
}

/** A listener as kept: once() wraps it, and remembers the one given, so off() finds it. */
type Kept = Listener<unknown[]> & { given?: Listener<unknown[]> }

/**
 * A small typed event emitter with EventEmitter's methods and order: listeners run in the order
 * added, and one removed while an event is being emitted still hears that event. Unlike Node's
 * EventEmitter, an 'error' with no listener is not thrown: the same failure always reaches the
 * caller through a rejected Promise or the 'close' event. (Our own, rather than the `events`
 * package, which weighs 6 KB minified in a browser bundle.)
 */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> implements EmitterApi<E> {
  /** Replaced on every change, never changed in place, so an emit keeps the list it started with. */
  private listeners: { [event: string]: readonly Kept[] | undefined } = {}

  /**
   * Adds a listener for `event`; listeners run in the order added, each time the event fires.
   * @returns this client, for chaining
   */
  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.listeners[event] = [...(this.listeners[event] ?? []), listener as Kept]
    return this
  }

  /**
   * Adds a listener that hears `event` once and is then removed; off() with the same function
   * removes it before then.
   * @returns this client, for chaining
   */
  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    const wrapper: Kept = (...args) => {
      this.off(event, listener)
      ;(listener as Kept)(...args)
    }
    wrapper.given = listener as Kept
    return this.on(event, wrapper)
  }

  /**
   * Removes a listener of `event` (the one added last, if it was added twice); nothing if it was
   * not added. A listener removed while the event is being emitted still hears that emit.
   * @returns this client, for chaining
   */
  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    const list = this.listeners[event]
    if (!list) return this
    // The most recently added first, as EventEmitter removes it.
    for (let i = list.length - 1; i >= 0; i--) {
      const kept = list[i] as Kept
      if (kept !== listener && kept.given !== listener) continue
      this.listeners[event] = list.length === 1 ? undefined : [...list.slice(0, i), ...list.slice(i + 1)]
      break
    }
    return this
  }

  /** The same as {@link on}. */
  addListener<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return this.on(event, listener)
  }

  /** The same as {@link off}. */
  removeListener<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return this.off(event, listener)
  }

  /**
   * Removes every listener of `event`, or of every event when none is named.
   * @returns this client, for chaining
   */
  removeAllListeners<K extends keyof E & string>(event?: K): this {
    if (event === undefined) this.listeners = {}
    else this.listeners[event] = undefined
    return this
  }

  /** How many listeners `event` has. */
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.listeners[event]?.length ?? 0
  }

  /** Calls each listener of `event` with `args`, in the order added; false if it had none. */
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const list = this.listeners[event]
    if (!list) return false
    for (const listener of list) listener(...args)
    return true
  }
}
