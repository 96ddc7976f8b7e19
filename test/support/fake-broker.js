// @ts-check
import { generate, parser as createParser } from 'mqtt-packet'
import { WebSocketServer } from 'ws'
import { PACKET_TYPES, packetSplitter } from './packet-splitter.js'

/**
 * A scripted MQTT peer on loopback for what a real broker will not do: garbage bytes, packets
 * split or joined across frames, a broker that goes silent, and (for the bench) a flood no broker
 * could send as fast. Each connection records the frames and packets it receives (cut apart by
 * packet-splitter.js, decoded by mqtt-packet); a script decides what, if anything, to answer.
 * Plain JavaScript, so that the bench can run it in `node`.
 *
 * @typedef {import('mqtt-packet').Packet} Packet
 *
 * @typedef {object} FakeConnection
 * @property {import('ws').WebSocket} socket
 * @property {string} path The path the client asked for, where a script can read what to do.
 * @property {Uint8Array[]} frames Raw frames from the client, in order (none when `keep` is false).
 * @property {Packet[]} packets The packets decoded from them (none when `keep` is false).
 * @property {{ frames: number, bytes: number }} received Frames and bytes from the client, counted even when nothing is kept.
 * @property {(packetOrBytes: Packet | Uint8Array) => void} send
 * @property {(cmd: string) => Promise<Packet>} waitFor Resolves with the next packet of this command (or the first one already kept).
 *
 * @typedef {(packet: Packet, conn: FakeConnection) => void} PacketAnswer
 *
 * @typedef {object} FakeBrokerOptions
 * @property {PacketAnswer} [onPacket] Answers to each packet; the default answers CONNECT with an accepting CONNACK and nothing else.
 * @property {(conn: FakeConnection) => PacketAnswer} [script] Makes the answers for each connection as it opens, for answers that keep state per connection; takes the place of `onPacket`.
 * @property {string | false} [protocol] The subprotocol to agree to; the default takes 'mqtt'.
 * @property {boolean} [keep] Whether connections keep their frames and packets, and the broker its closed connections; default true. A bench flood would only pile up.
 * @property {string[]} [undecoded] Commands that reach the script as `{ cmd }` alone, not decoded: the bench's sink only counts its 50,000 PUBLISH packets.
 * @property {number} [port] Default 0, a free port.
 * @property {4 | 5} [protocolVersion] The MQTT version it reads and writes; default 4 (3.1.1).
 *
 * @typedef {object} FakeBroker
 * @property {string} url
 * @property {number} port
 * @property {FakeConnection[]} connections
 * @property {() => Promise<FakeConnection>} nextConnection
 * @property {() => Promise<void>} close
 */

/** @type {PacketAnswer} */
export function acceptConnect(packet, conn) {
  if (packet.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
}

/**
 * @param {FakeBrokerOptions} [options]
 * @returns {Promise<FakeBroker>}
 */
export async function startFakeBroker(options = {}) {
  const { onPacket = acceptConnect, script, keep = true, protocolVersion = 4 } = options
  /** @type {Map<number, Packet>} One shared stand-in per undecoded packet type. */
  const standIns = new Map()
  for (const cmd of options.undecoded ?? []) {
    if (!PACKET_TYPES.includes(cmd)) throw new TypeError(`undecoded: no MQTT packet is called ${cmd}`)
    standIns.set(PACKET_TYPES.indexOf(cmd), /** @type {Packet} */ (Object.freeze({ cmd })))
  }
  const wanted = options.protocol ?? 'mqtt'
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    handleProtocols: (protocols) => (wanted && protocols.has(wanted) ? wanted : false),
  })
  await new Promise((resolve) => server.once('listening', resolve))
  /** @type {FakeConnection[]} */
  const connections = []
  /** @type {Array<(conn: FakeConnection) => void>} */
  const waiting = []

  server.on('connection', (socket, request) => {
    const parser = createParser({ protocolVersion })
    /** @type {Array<(p: Packet) => void>} */
    const listeners = []
    /** @type {FakeConnection} */
    const conn = {
      socket,
      path: request.url ?? '/',
      frames: [],
      packets: [],
      received: { frames: 0, bytes: 0 },
      send(packetOrBytes) {
        const bytes = packetOrBytes instanceof Uint8Array ? packetOrBytes : generate(packetOrBytes, { protocolVersion })
        if (socket.readyState === socket.OPEN) socket.send(bytes)
      },
      waitFor(cmd) {
        const seen = conn.packets.find((p) => p.cmd === cmd)
        if (seen) return Promise.resolve(seen)
        return new Promise((resolve) => {
          /** @param {Packet} p */
          const listener = (p) => {
            if (p.cmd !== cmd) return
            listeners.splice(listeners.indexOf(listener), 1)
            resolve(p)
          }
          listeners.push(listener)
        })
      },
    }
    const answer = script ? script(conn) : onPacket
    /** @param {Packet} p */
    const deliver = (p) => {
      if (keep) conn.packets.push(p)
      answer(p, conn)
      if (listeners.length > 0) for (const l of [...listeners]) l(p)
    }
    parser.on('packet', deliver)
    const split = packetSplitter((type, bytes) => {
      const standIn = standIns.get(type)
      if (standIn) deliver(standIn)
      else parser.parse(bytes)
    })
    socket.on('message', (/** @type {Buffer} */ data) => {
      conn.received.frames++
      conn.received.bytes += data.length
      if (keep) conn.frames.push(new Uint8Array(data))
      split(data)
    })
    socket.on('error', () => undefined)
    if (!keep) socket.on('close', () => connections.splice(connections.indexOf(conn), 1))
    connections.push(conn)
    waiting.shift()?.(conn)
  })

  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    connections,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise((resolve) => {
        for (const client of server.clients) client.terminate()
        server.close(() => resolve())
      }),
  }
}
