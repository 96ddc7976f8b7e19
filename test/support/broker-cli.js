import { startAedesBroker } from './aedes-broker.js'

// `npm run broker`: the reference broker on ws://localhost:8888 (and mqtt://localhost:1883), logging activity.
const port = Number(process.env.BROKER_PORT ?? 8888)
const tcpPort = Number(process.env.BROKER_TCP_PORT ?? 1883)
const host = process.env.BROKER_HOST ?? '127.0.0.1'
const log = (line) => console.log(`[broker ${new Date().toISOString().slice(11, 19)}] ${line}`)

let broker
try {
  broker = await startAedesBroker({ port, host, tcpPort, log })
} catch (err) {
  if (err.code !== 'EADDRINUSE' || err.port !== tcpPort) throw err
  console.warn(`TCP port ${tcpPort} is taken; serving MQTT over WebSocket only`)
  broker = await startAedesBroker({ port, host, log })
}
console.log(`MQTT over WebSocket: ws://localhost:${broker.port}`)
if (broker.tcpPort) console.log(`MQTT over TCP:       mqtt://localhost:${broker.tcpPort}`)

const stop = async () => {
  await broker.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
