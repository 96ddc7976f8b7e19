import { utf8Length } from '../bytes.js'
import { MAX_STRING_BYTES } from '../codec/limits.js'

/**
 * Why a string cannot go on the wire as an MQTT UTF-8 string (MQTT 3.1.1 §1.5.3, 5.0 §1.5.4), or
 * undefined when it can: U+0000 is forbidden, a lone surrogate has no UTF-8 form (an encoder would
 * quietly send U+FFFD instead), and the length prefix holds at most 65,535 bytes. Topics, client
 * ids, user names and user properties all follow this one rule. Worded to follow "a topic", "clientId".
 */
export function stringFault(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain U+0000'
  if (!isWellFormed(s)) return 'must be well-formed UTF-16 (no lone surrogates)'
  // Each UTF-16 code unit encodes to at most 3 UTF-8 bytes, so most strings skip the exact count.
  if (s.length * 3 > MAX_STRING_BYTES && utf8Length(s) > MAX_STRING_BYTES) return `must be at most ${MAX_STRING_BYTES} UTF-8 bytes`
  return undefined
}

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c > 0xdbff) return false
    const next = s.charCodeAt(i + 1)
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false
    i++
  }
  return true
}
