import type { ConnackPacket, DisconnectPacket, IncomingPacket, IncomingPublishPacket, Packet } from '../codec/packets.js'
import type { ResolvedOptions } from '../input/options.js'
import type { LifeState } from '../protocol/lifecycle.js'
import { redactUrl } from '../transport/redact-url.js'
import type { ProtocolWarning } from '../protocol/protocol.js'

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
  /** Something worth knowing that is not a failure, given once per client (see ProtocolWarning's codes). */
  warning: [warning: ProtocolWarning]
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

/**
 * Credentials never leave the client, not even in packetsend events: the CONNECT's password, and
 * the MQTT 5 authenticationData of CONNECT and AUTH, which may be a token or a proof as good as
 * one. The event gets a copy without them; the packet written keeps them.
 */
export function redact(packet: Packet): Packet {
  if (packet.cmd === 'connect') {
    const { password: _secret, ...rest } = packet
    return rest.properties?.authenticationData === undefined ? rest : { ...rest, properties: withoutAuthData(rest.properties) }
  }
  if (packet.cmd === 'auth' && packet.properties?.authenticationData !== undefined) {
    return { ...packet, properties: withoutAuthData(packet.properties) }
  }
  return packet
}

function withoutAuthData<P extends { authenticationData?: Uint8Array }>(properties: P): Omit<P, 'authenticationData'> {
  const { authenticationData: _secret, ...rest } = properties
  return rest
}

/** What `client.options` shows: the options without the password, authenticationData, or the URLs' userinfo and query. */
export function shownOptions(config: ResolvedOptions): Omit<ResolvedOptions, 'password'> {
  const { password: _secret, properties, ...rest } = config
  return {
    ...rest,
    url: redactUrl(config.url),
    servers: config.servers.map(redactUrl),
    properties: properties && withoutAuthData(properties),
  }
}

