import { InvalidArgumentError } from '../errors.js'
import { typeName } from './values.js'

/** What a caller may publish: text (sent as UTF-8) or bytes. */
export type Payload = string | Uint8Array | ArrayBuffer

/** Normalises a payload to what the encoder takes, without copying bytes. Strings stay strings: the encoder writes UTF-8 directly. */
export function toWire(payload: unknown): string | Uint8Array {
  if (typeof payload === 'string') return payload
  if (payload instanceof Uint8Array) {
    if (payload.byteLength === 0) checkAttached(payload.buffer)
    return payload
  }
  if (payload instanceof ArrayBuffer) {
    if (payload.byteLength === 0) checkAttached(payload)
    return new Uint8Array(payload)
  }
  throw new InvalidArgumentError(`payload must be a string, Uint8Array or ArrayBuffer, not ${typeName(payload)}`)
}

/**
 * A buffer transferred away (to a Worker, or by structuredClone with `transfer`) reads as empty:
 * sending it would publish an empty message in place of the caller's data. Only an empty buffer
 * can be a detached one, so the caller tests only those (and never touches `.buffer` of a
 * small view, which would make V8 give it one). Node 20 has no ArrayBuffer.prototype.detached;
 * making a view over a detached buffer throws.
 */
function checkAttached(buffer: ArrayBufferLike): void {
  try {
    new Uint8Array(buffer, 0, 0)
  } catch {
    throw new InvalidArgumentError('payload is a detached ArrayBuffer (transferred away), so its bytes are gone')
  }
}

/** Normalises a payload to bytes. */
export function toBytes(payload: unknown): Uint8Array {
  const wire = toWire(payload)
  return typeof wire === 'string' ? new TextEncoder().encode(wire) : wire
}
