import { type Packet as WirePacket, parser } from 'mqtt-packet'
import type { SocketHooks, FuzzSocket } from './fuzz-socket.js'
import { readVarint } from './wire.js'

/**
 * Reads back what the client writes on each socket with mqtt-packet's parser, in the MQTT
 * version its CONNECT names, and lists what a broker would refuse: bytes that do not parse, and
 * a packet identifier of 0 (MQTT-2.2.1-3), which a client echoing a broken broker could write.
 */
export function watchClientWrites(problems: string[]): SocketHooks {
  const readers = new WeakMap<FuzzSocket, ReturnType<typeof parser> | 'broken'>()
  return {
    sent(socket, data) {
      let reader = readers.get(socket)
      if (reader === 'broken') return
      if (!reader) {
        reader = parser({ protocolVersion: connectVersion(data) })
        reader.on('packet', (p: WirePacket) => {
          if ('messageId' in p && p.messageId === 0 && (p.cmd !== 'publish' || p.qos > 0)) problems.push(`the client wrote ${p.cmd.toUpperCase()} with packet id 0`)
        })
        reader.on('error', (err: Error) => {
          problems.push(`the client wrote bytes mqtt-packet cannot read: ${err.message}`)
          readers.set(socket, 'broken')
        })
        readers.set(socket, reader)
      }
      reader.parse(Buffer.from(data))
    },
  }
}

/** The protocol level byte of the CONNECT at the start of a socket's first frame (4 if it is not there). */
function connectVersion(frame: Uint8Array): 4 | 5 {
  const length = readVarint(frame, 1)
  const at = 1 + (length?.length ?? 1) + 6 // after the protocol name, 00 04 'MQTT'
  return frame[at] === 5 ? 5 : 4
}
