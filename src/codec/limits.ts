/**
 * The sizes MQTT's wire format allows, and the variable-length integer that carries a packet's
 * remaining length (MQTT §1.5.5, §2.2.3). The encoders and the decoder both take them from here.
 */

/** Largest remaining length MQTT can express (four length bytes). */
export const MAX_REMAINING_LENGTH = 268_435_455

/** MQTT strings (topics among them) carry a two-byte length prefix. */
export const MAX_STRING_BYTES = 65_535

/** How many bytes the variable-length integer for `n` takes. */
export function varintLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4
}

/** Writes `n` as a variable-length integer at `at`; returns the offset after it. */
export function writeVarint(out: Uint8Array, at: number, n: number): number {
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out[at++] = byte
  } while (n > 0)
  return at
}

/**
 * The remaining length of a PUBLISH: topic (with its length prefix), packet id at QoS 1 and 2,
 * the property block (MQTT 5.0: an empty one is one zero byte) and the payload.
 */
export function publishRemainingLength(topicBytes: number, qos: number, payloadBytes: number, propertyBytes: number): number {
  return 2 + topicBytes + (qos > 0 ? 2 : 0) + propertyBytes + payloadBytes
}
