// The end-to-end broker, test/support's aedes, in a process of its own so that its CPU is its own.
// bench/run.js asks it over IPC for its CPU time and for the WebSocket frames clients have sent
// it, and takes differences around each run; the multi-tab row (bench/multi-tab.js) asks how many
// connections it has had and has open.
import { startAedesBroker } from '../../test/support/aedes-broker.js'

const counts = { frames: 0, bytes: 0, connections: 0 }
const broker = await startAedesBroker({
  onFrame: (data) => {
    counts.frames++
    counts.bytes += data.length
  },
})
broker.aedes.on('client', () => counts.connections++)
process.send?.({ ready: true, port: broker.port })

process.on('message', (message) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage()
    process.send?.({ stats: { cpuMs: (cpu.user + cpu.system) / 1000, ...counts, connected: broker.aedes.connectedClients } })
  }
})
process.on('disconnect', () => process.exit(0))
