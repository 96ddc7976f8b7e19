import type { ConnackPacket, DisconnectPacket, IncomingPacket, IncomingPublishPacket, Packet } from '../codec/packets.js'
import type { LifeState } from '../protocol/lifecycle.js'

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

/** What `client.state` shows: a client still starting is connecting; one closing stays connected until its socket goes. */
export const SHOWN: Record<LifeState, ClientState> = {
  starting: 'connecting',
  connecting: 'connecting',
  connected: 'connected',
  reconnecting: 'reconnecting',
  disconnected: 'disconnected',
  closing: 'connected',
  closed: 'closed',
}

/** Passwords never leave the client, not even in packetsend events. */
export function redact(packet: Packet): Packet {
  if (packet.cmd !== 'connect' || packet.password === undefined) return packet
  const { password: _secret, ...rest } = packet
  return rest
}

