// A WebSocket server that sends every frame straight back, in a process of its own: the raw
// WebSocket row's other end, so the table shows what one frame per message costs with no MQTT.
import { WebSocketServer } from 'ws'

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
server.on('connection', (socket) => socket.on('message', (data, binary) => socket.send(data, { binary })))
server.once('listening', () => {
  const { port } = server.address()
  process.send?.({ ready: true, port })
  if (!process.send) console.log(`echo server on ws://127.0.0.1:${port}`)
})
process.on('disconnect', () => process.exit(0))
