// The end-to-end broker: aedes over websocket-stream, as in test/harness, but in its own process
// so that its CPU is its own. bench/run.js asks it over IPC for its CPU time and for the
// WebSocket frames clients have sent it, and takes differences around each run.
import http from 'node:http'
import { Aedes } from 'aedes'
import websocketStream from 'websocket-stream'

const aedes = await Aedes.createBroker()
const server = http.createServer()
const wss = websocketStream.createServer({ server }, aedes.handle)
const counts = { frames: 0, bytes: 0 }
wss.on('connection', (ws) =>
  ws.on('message', (data) => {
    counts.frames++
    counts.bytes += data.length
  }),
)
wss.on('error', () => undefined)

server.listen(0, '127.0.0.1', () => {
  process.send?.({ ready: true, port: server.address().port })
})

process.on('message', (message) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage()
    process.send?.({ stats: { cpuMs: (cpu.user + cpu.system) / 1000, ...counts } })
  }
})
process.on('disconnect', () => process.exit(0))
