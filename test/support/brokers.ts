import { startAedesBroker } from './aedes-broker.js'
import { startMosquitto } from './mosquitto.js'

export interface Broker {
  url: string
  port: number
  close(): Promise<void>
}

// Mosquitto's defaults (20 messages in flight, 1,000 queued) drop or stall bulk runs; over
// WebSocket, 2.0.11 even leaves messages queued behind the in-flight limit unsent after the
// in-flight ones complete (MQTT.js stalls the same way). Bulk tests lift both limits.
const MOSQUITTO_BULK = 'max_inflight_messages 0\nmax_queued_messages 100000\nmax_queued_bytes 0'

/** The two independent brokers the integration tests run against, each started on free ports. */
export const bothBrokers: Array<[string, () => Promise<Broker>]> = [
  ['aedes', () => startAedesBroker({ port: 0 })],
  ['mosquitto', () => startMosquitto({ extraConfig: MOSQUITTO_BULK })],
]
