import { InvalidArgumentError } from '../errors.js'

/** What a caller may publish: text (sent as UTF-8) or bytes. */
export type Payload = string | Uint8Array | ArrayBuffer

/** Normalises a payload to what the encoder takes, without copying bytes. Strings stay strings: the encoder writes UTF-8 directly. */
export function toWire(payload: unknown): string | Uint8Array {
  if (typeof payload === 'string' || payload instanceof Uint8Array) return payload
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload)
  throw new InvalidArgumentError(`payload must be a string, Uint8Array or ArrayBuffer, not ${describe(payload)}`)
}

/** Normalises a payload to bytes. */
export function toBytes(payload: unknown): Uint8Array {
  const wire = toWire(payload)
  return typeof wire === 'string' ? new TextEncoder().encode(wire) : wire
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}
