/**
 * Packets built byte by byte, for tests that must send what no encoder would write: a broker's
 * malformed, forbidden or hostile packets.
 */

/** A whole packet: first byte, remaining length, body. */
export function packet(first: number, ...body: number[]): Uint8Array {
  const length: number[] = []
  let n = body.length
  do {
    length.push((n % 128) | (n >= 128 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return Uint8Array.from([first, ...length, ...body])
}

export const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)]

/** An MQTT string: two length bytes, then the bytes (raw, so they may be ill-formed on purpose). */
export function str(bytes: number[] | string): number[] {
  const b = typeof bytes === 'string' ? utf8(bytes) : bytes
  return [b.length >> 8, b.length & 0xff, ...b]
}

/** An MQTT 5 property block of fewer than 128 bytes. */
export const props = (...b: number[]): number[] => [b.length, ...b]
