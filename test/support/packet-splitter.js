// @ts-check

/** MQTT's packet types by number, as mqtt-packet names them in `cmd`. */
export const PACKET_TYPES = ['reserved', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth']

/**
 * Cuts a stream of MQTT bytes into whole packets by their remaining length, decoding nothing
 * else: the fake broker's framing. mqtt-packet's parser would frame them too, but it decodes every
 * packet on the way, which costs the bench's sink more than the fastest client it measures spends
 * sending them; here only what is wanted is handed to mqtt-packet.
 *
 * @param {(type: number, packet: Buffer) => void} onPacket The packet type (1 CONNECT to 15 AUTH)
 *   and the whole packet, fixed header included, as soon as its last byte is in.
 * @returns {(chunk: Buffer) => void}
 */
export function packetSplitter(onPacket) {
  const none = Buffer.alloc(0)
  /** @type {Buffer} */
  let pending = none
  return (chunk) => {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk
    let start = 0
    for (;;) {
      // The remaining length: one to four bytes after the first, seven bits each, least first.
      let length = 0
      let at = start + 1
      let multiplier = 1
      while (at < pending.length && pending[at] & 0x80) {
        if (at - start === 4) throw new Error('malformed MQTT packet: remaining length longer than four bytes')
        length += (pending[at] & 0x7f) * multiplier
        multiplier *= 128
        at++
      }
      if (at >= pending.length) break
      length += pending[at] * multiplier
      const end = at + 1 + length
      if (end > pending.length) break
      onPacket(pending[start] >> 4, pending.subarray(start, end))
      start = end
    }
    pending = start === pending.length ? none : pending.subarray(start)
  }
}
