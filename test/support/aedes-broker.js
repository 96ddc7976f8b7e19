import http from 'node:http'
import net from 'node:net'
import { Aedes } from 'aedes'
import websocketStream from 'websocket-stream'
import { openPersistence } from './broker-persistence.js'

/**
 * The reference broker: aedes served over WebSocket with websocket-stream, as the tutorial's
 * broker.js does, optionally with plain MQTT over TCP beside it. `npm run broker`, the demo, the
 * tests and the bench all run this one.
 *
 * `onFrame` sees every WebSocket frame a client sends: the bench counts frames per message with
 * it, which no client's own events show.
 *
 * `persistence` keeps sessions, queued messages and retained messages beyond close(): in a LevelDB
 * folder (`{ level: dir }`) or a running Redis (`{ redis: url }`). Without it they live in memory
 * and a restart forgets them. A folder another broker holds, or a Redis that does not answer,
 * rejects the start within a few seconds (see broker-persistence.js). `storage` says which it is.
 *
 * @param {{ port?: number, host?: string, tcpPort?: number, log?: boolean | ((line: string) => void), onFrame?: (data: Buffer) => void, persistence?: import('./broker-persistence.js').PersistenceChoice }} [options]
 * @returns {Promise<{ url: string, port: number, tcpPort?: number, tcpUrl?: string, storage: string, aedes: import('aedes').Aedes, close(): Promise<void>, restart(): Promise<any> }>}
 */
export async function startAedesBroker(options = {}) {
  const host = options.host ?? '127.0.0.1'
  const log = typeof options.log === 'function' ? options.log : options.log ? (line) => console.log(line) : undefined
  const store = await openPersistence(options.persistence, log)
  let aedes
  try {
    aedes = await Aedes.createBroker({ persistence: store.persistence })
  } catch (err) {
    await store.close().catch(() => undefined)
    throw err
  }
  if (log) logActivity(aedes, log)

  const sockets = new Set()
  const track = (server) =>
    server.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })

  const httpServer = track(http.createServer())
  // websocket-stream's ws 3 server agrees to the first subprotocol offered, which is 'mqtt'.
  const wss = websocketStream.createServer({ server: httpServer }, aedes.handle)
  wss.on('error', () => undefined)
  const onFrame = options.onFrame
  if (onFrame) wss.on('connection', (socket) => socket.on('message', (data) => onFrame(data)))

  let tcpServer
  let tcpPort
  let closing
  const close = () =>
    (closing ??= (async () => {
      await new Promise((resolve) => aedes.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => wss.close(() => resolve()))
      const servers = [httpServer, tcpServer].filter((s) => s?.listening)
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))))
      // Last, once nothing can reach the broker, so no write is still on its way to a closed DB.
      await store.close()
    })())

  // A port in use closes the broker before rejecting, so the store is free for another start.
  try {
    await listen(httpServer, options.port ?? 0, host)
  } catch (err) {
    await close()
    throw err
  }
  const port = httpServer.address().port

  if (options.tcpPort !== undefined) {
    tcpServer = track(net.createServer(aedes.handle))
    try {
      await listen(tcpServer, options.tcpPort, host)
    } catch (err) {
      await close()
      throw err
    }
    tcpPort = tcpServer.address().port
  }

  return {
    url: `ws://${host}:${port}`,
    port,
    tcpPort,
    tcpUrl: tcpPort === undefined ? undefined : `mqtt://${host}:${tcpPort}`,
    storage: store.storage,
    aedes,
    close,
    /**
     * A broker restart: this one closes, and a fresh one takes the same ports and the same
     * persistence. In memory (the default) it starts empty; with `persistence` it resumes.
     */
    restart: async () => {
      await close()
      return startAedesBroker({ ...options, port, tcpPort: options.tcpPort === undefined ? undefined : tcpPort })
    },
  }
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** One line for each client connected or gone, subscription made and message published, as the tutorial logs. */
function logActivity(aedes, log) {
  aedes.on('client', (client) => log(`client connected: ${client.id}`))
  aedes.on('clientDisconnect', (client) => log(`client disconnected: ${client.id}`))
  aedes.on('subscribe', (subs, client) => log(`${client?.id} subscribed: ${subs.map((s) => `${s.topic} (qos ${s.qos})`).join(', ')}`))
  aedes.on('unsubscribe', (topics, client) => log(`${client?.id} unsubscribed: ${topics.join(', ')}`))
  aedes.on('publish', (packet, client) => {
    if (!client || packet.topic.startsWith('$SYS')) return
    log(`${client.id} published ${packet.payload.length} bytes to ${packet.topic} (qos ${packet.qos}${packet.retain ? ', retained' : ''}): ${preview(packet.payload)}`)
  })
}

function preview(payload) {
  const text = Buffer.from(payload).toString('utf8')
  return /^[\x20-\x7e\u00a0-\uffff]*$/.test(text) ? JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text) : '<binary>'
}
