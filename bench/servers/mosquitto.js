// Mosquitto for the bench's round-trip rows: test/support's Mosquitto (its own process, loopback
// listeners only), started from a Node process of its own so that bench/run.js starts and stops it
// as it does the others. The queue and in-flight limits are raised for bulk runs: at Mosquitto's
// defaults (1,000 queued, 20 in flight to each subscriber) the broker's own window, not the client
// or the round trip, would set every QoS 1 and 2 figure above 0 ms.
import { startMosquitto } from '../../test/support/mosquitto.js'

const mosquitto = await startMosquitto({ extraConfig: ['max_inflight_messages 1000', 'max_queued_messages 100000'].join('\n') })
process.send?.({ ready: true, port: mosquitto.port })
if (!process.send) console.log(`mosquitto on ${mosquitto.url}`)

process.on('message', (message) => {
  // No CPU figures from here: Mosquitto is not this process.
  if (message === 'stats') process.send?.({ stats: {} })
})
process.on('disconnect', async () => {
  await mosquitto.close()
  process.exit(0)
})
