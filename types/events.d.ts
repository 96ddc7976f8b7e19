// The npm `events` package (the browser build of Node's EventEmitter) ships no types. This is the
// part the client uses, for checking src/ without Node's types, as a browser bundle sees it.
declare module 'events' {
  export class EventEmitter {
    on(event: string, listener: (...args: unknown[]) => void): this
    once(event: string, listener: (...args: unknown[]) => void): this
    off(event: string, listener: (...args: unknown[]) => void): this
    removeAllListeners(event?: string): this
    listenerCount(event: string): number
    emit(event: string, ...args: unknown[]): boolean
  }
}
