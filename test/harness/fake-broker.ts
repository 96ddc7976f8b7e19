import { generate, parser as createParser, type Packet } from 'mqtt-packet'
import { WebSocketServer, type WebSocket } from 'ws'

/**
 * A scripted MQTT peer on loopback for the cases a real broker will not produce: garbage bytes,
 * packets split or joined across frames, a broker that goes silent. Each connection records the
 * frames and packets it receives; `onPacket` decides what, if anything, to answer.
 */
export interface FakeConnection {
  socket: WebSocket
  /** Raw frames from the client, in order. */
  frames: Uint8Array[]
  packets: Packet[]
  send(packetOrBytes: Packet | Uint8Array): void
  /** Resolves with the next packet of this command (or the first one already received). */
  waitFor(cmd: string): Promise<Packet>
}

export interface FakeBrokerOptions {
  /** Answers to each packet; the default answers CONNECT with an accepting CONNACK and nothing else. */
  onPacket?: (packet: Packet, conn: FakeConnection) => void
  /** The subprotocol to agree to; the default takes 'mqtt'. */
  protocol?: string | false
}

export interface FakeBroker {
  url: string
  connections: FakeConnection[]
  nextConnection(): Promise<FakeConnection>
  close(): Promise<void>
}

export function acceptConnect(packet: Packet, conn: FakeConnection): void {
  if (packet.cmd === 'connect') conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: false })
}

export async function startFakeBroker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const onPacket = options.onPacket ?? acceptConnect
  const wanted = options.protocol ?? 'mqtt'
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (wanted && protocols.has(wanted) ? wanted : false),
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const connections: FakeConnection[] = []
  const waiting: Array<(c: FakeConnection) => void> = []

  server.on('connection', (socket) => {
    const parser = createParser({ protocolVersion: 4 })
    const listeners: Array<(p: Packet) => void> = []
    const conn: FakeConnection = {
      socket,
      frames: [],
      packets: [],
      send(packetOrBytes) {
        const bytes = packetOrBytes instanceof Uint8Array ? packetOrBytes : generate(packetOrBytes)
        if (socket.readyState === socket.OPEN) socket.send(bytes)
      },
      waitFor(cmd) {
        const seen = conn.packets.find((p) => p.cmd === cmd)
        if (seen) return Promise.resolve(seen)
        return new Promise((resolve) => {
          const listener = (p: Packet) => {
            if (p.cmd !== cmd) return
            listeners.splice(listeners.indexOf(listener), 1)
            resolve(p)
          }
          listeners.push(listener)
        })
      },
    }
    parser.on('packet', (p: Packet) => {
      conn.packets.push(p)
      onPacket(p, conn)
      for (const l of [...listeners]) l(p)
    })
    socket.on('message', (data: Buffer) => {
      conn.frames.push(new Uint8Array(data))
      parser.parse(data)
    })
    socket.on('error', () => undefined)
    connections.push(conn)
    waiting.shift()?.(conn)
  })

  const port = (server.address() as { port: number }).port
  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    nextConnection: () => new Promise((resolve) => waiting.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate()
        server.close(() => resolve())
      }),
  }
}
