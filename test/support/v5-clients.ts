import mqtt from 'mqtt'
import WebSocket from 'ws'
import { afterAll } from 'vitest'
import { type ClientOptions, connectAsync, type MqttClient } from '../../src/index.js'
import type { IncomingPacket, Packet } from '../../src/codec/packets.js'

/**
 * The MQTT 5 integration tests' clients: ours (no reconnect unless asked) and MQTT.js as the
 * independent peer, each ended with force after the file's tests. `track` takes a client a test
 * made itself, for the same end.
 */
export function v5Clients() {
  const opened: MqttClient[] = []
  const peers: mqtt.MqttClient[] = []
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.end({ force: true })))
    await Promise.all(peers.map((p) => p.endAsync(true)))
  })
  return {
    async client(url: string, options: ClientOptions = {}): Promise<MqttClient> {
      const c = await connectAsync(url, { WebSocket, reconnect: false, protocolVersion: 5, ...options })
      opened.push(c)
      return c
    },
    async peer(url: string, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> {
      const p = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...options })
      peers.push(p)
      return p
    },
    track(c: MqttClient): MqttClient {
      opened.push(c)
      return c
    },
  }
}

/** Every packet the client writes, as its packetsend events show them. */
export function written(c: MqttClient): Packet[] {
  const out: Packet[] = []
  c.on('packetsend', (p) => out.push(p))
  return out
}

/** Every packet the client reads, as its packetreceive events show them. */
export function read(c: MqttClient): IncomingPacket[] {
  const out: IncomingPacket[] = []
  c.on('packetreceive', (p) => out.push(p))
  return out
}
