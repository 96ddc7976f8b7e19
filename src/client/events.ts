import type { ConnackPacket, DisconnectPacket, IncomingPacket, IncomingPublishPacket, Packet } from '../codec/packets.js'
import type { ResolvedOptions } from '../input/options.js'
import type { LifeState } from '../protocol/lifecycle.js'
import { redactUrl } from '../transport/redact-url.js'
import type { ProtocolWarning } from '../protocol/protocol.js'

/** Where the client is: a plain string, so it can be shown or compared as is. */
export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected' | 'closed'

/**
 * The events of MqttClient and their arguments; the names are MQTT.js's.
 * @example
 * ```ts
 * client.on('message', (topic, payload) => console.log(topic, new TextDecoder().decode(payload)))
 * client.on('error', (err) => console.warn(err instanceof MqttError ? err.code : err))
 * ```
 */
export interface MqttClientEvents {
  /** The broker accepted a connection (the first or a reconnect), with its CONNACK. */
  connect: [connack: ConnackPacket]
  /** A reconnect attempt starts. */
  reconnect: []
  /** The connection closed (every time, whatever the reason). */
  close: []
  /** A connected client lost its connection. */
  offline: []
  /** end() finished: nothing more will happen. */
  end: []
  /**
   * A failure nobody awaits: why a connection was lost or refused (ConnectionRefusedError,
   * ConnectTimeoutError, KeepaliveTimeoutError, TransportError, ProtocolError, CredentialsError,
   * ...), a handler that threw, a store that failed. Unlike Node's EventEmitter, an error with no listener is
   * not thrown.
   */
  error: [error: Error]
  /** Something worth knowing that is not a failure, given once per client (see ProtocolWarning's codes). */
  warning: [warning: ProtocolWarning]
  /** The broker sent DISCONNECT (MQTT 5). */
  disconnect: [packet: DisconnectPacket]
  /** Every message received, whichever subscription it matched, before the subscriptions' own handlers. */
  message: [topic: string, payload: Uint8Array, packet: IncomingPublishPacket]
  /** Each packet written, for debugging; the CONNECT's password and any authenticationData left out. */
  packetsend: [packet: Packet]
  /** Each packet read, for debugging. */
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
    url: typeof config.url === 'string' ? redactUrl(config.url) : config.url,
    servers: config.servers.map(redactUrl),
    properties: properties && withoutAuthData(properties),
  }
}

