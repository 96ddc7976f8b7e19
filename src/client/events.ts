import type { ConnackPacket, DisconnectPacket, IncomingPacket, IncomingPublishPacket, Packet } from '../codec/packets.js'

/** Where the client is: a plain string, so it can be shown or compared as is. */
export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed'

/** The events of MqttClient and their arguments; the names are MQTT.js's. */
export interface MqttClientEvents {
  connect: [connack: ConnackPacket]
  /** A reconnect attempt starts. */
  reconnect: []
  /** The connection closed (every time, whatever the reason). */
  close: []
  /** A connected client lost its connection. */
  offline: []
  /** end() finished: nothing more will happen. */
  end: []
  error: [error: Error]
  /** The broker sent DISCONNECT (MQTT 5). */
  disconnect: [packet: DisconnectPacket]
  message: [topic: string, payload: Uint8Array, packet: IncomingPublishPacket]
  packetsend: [packet: Packet]
  packetreceive: [packet: IncomingPacket]
}
