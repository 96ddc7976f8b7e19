import { EventEmitter } from 'events'

type Listener<A extends unknown[]> = (...args: A) => void

/**
 * A typed facade over the `events` EventEmitter. It wraps rather than extends, so the public
 * types need nothing from Node. Unlike EventEmitter, an 'error' with no listener is not thrown:
 * the same failure always reaches the caller through a rejected Promise or the 'close' event.
 */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly emitter = new EventEmitter()

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.on(event, listener as Listener<unknown[]>)
    return this
  }

  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.once(event, listener as Listener<unknown[]>)
    return this
  }

  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.emitter.off(event, listener as Listener<unknown[]>)
    return this
  }

  addListener<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return this.on(event, listener)
  }

  removeListener<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    return this.off(event, listener)
  }

  removeAllListeners<K extends keyof E & string>(event?: K): this {
    if (event === undefined) this.emitter.removeAllListeners()
    else this.emitter.removeAllListeners(event)
    return this
  }

  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event)
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    if (event === 'error' && this.emitter.listenerCount('error') === 0) return false
    return this.emitter.emit(event, ...args)
  }
}
