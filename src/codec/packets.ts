/**
 * The MQTT packets the client sends and receives, typed without Node's Buffer so that the public
 * API needs no @types/node. Field names follow mqtt-packet's, the reference our writer and reader are tested against.
 */
export type QoS = 0 | 1 | 2
export type ProtocolVersion = 4 | 5

export type UserProperties = Record<string, string | string[]>

export interface PublishProperties {
  payloadFormatIndicator?: boolean
  messageExpiryInterval?: number
  topicAlias?: number
  responseTopic?: string
  correlationData?: Uint8Array
  userProperties?: UserProperties
  subscriptionIdentifier?: number | number[]
  contentType?: string
}

export interface ConnectProperties {
  sessionExpiryInterval?: number
  receiveMaximum?: number
  maximumPacketSize?: number
  topicAliasMaximum?: number
  requestResponseInformation?: boolean
  requestProblemInformation?: boolean
  userProperties?: UserProperties
  authenticationMethod?: string
  authenticationData?: Uint8Array
}

export interface WillProperties {
  willDelayInterval?: number
  payloadFormatIndicator?: boolean
  messageExpiryInterval?: number
  contentType?: string
  responseTopic?: string
  correlationData?: Uint8Array
  userProperties?: UserProperties
}

export interface ConnackProperties {
  sessionExpiryInterval?: number
  receiveMaximum?: number
  maximumQoS?: number
  retainAvailable?: boolean
  maximumPacketSize?: number
  assignedClientIdentifier?: string
  topicAliasMaximum?: number
  reasonString?: string
  userProperties?: UserProperties
  wildcardSubscriptionAvailable?: boolean
  subscriptionIdentifiersAvailable?: boolean
  sharedSubscriptionAvailable?: boolean
  serverKeepAlive?: number
  responseInformation?: string
  serverReference?: string
  authenticationMethod?: string
  authenticationData?: Uint8Array
}

export interface AckProperties {
  reasonString?: string
  userProperties?: UserProperties
}

export interface ConnectPacket {
  cmd: 'connect'
  protocolId: 'MQTT'
  protocolVersion: ProtocolVersion
  clientId: string
  clean: boolean
  keepalive: number
  username?: string
  password?: Uint8Array
  will?: {
    topic: string
    payload: Uint8Array
    qos: QoS
    retain: boolean
    properties?: WillProperties
  }
  properties?: ConnectProperties
}

export interface ConnackPacket {
  cmd: 'connack'
  sessionPresent: boolean
  /** MQTT 3.1.1 */
  returnCode?: number
  /** MQTT 5.0 */
  reasonCode?: number
  properties?: ConnackProperties
}

export interface PublishPacket {
  cmd: 'publish'
  topic: string
  payload: Uint8Array | string
  qos: QoS
  retain: boolean
  dup: boolean
  messageId?: number
  properties?: PublishProperties
}

/** A PUBLISH as it arrives: the decoder always yields bytes. */
export interface IncomingPublishPacket extends PublishPacket {
  payload: Uint8Array
}

export interface AckPacket {
  cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'
  messageId: number
  reasonCode?: number
  properties?: AckProperties
}

export interface Subscription {
  topic: string
  qos: QoS
  /** MQTT 5.0 subscription options */
  nl?: boolean
  rap?: boolean
  rh?: 0 | 1 | 2
}

export interface SubscribeProperties {
  subscriptionIdentifier?: number
  userProperties?: UserProperties
}

export interface SubscribePacket {
  cmd: 'subscribe'
  messageId: number
  subscriptions: Subscription[]
  properties?: SubscribeProperties
}

export interface SubackPacket {
  cmd: 'suback'
  messageId: number
  granted: number[]
  properties?: AckProperties
}

export interface UnsubscribePacket {
  cmd: 'unsubscribe'
  messageId: number
  unsubscriptions: string[]
  properties?: { userProperties?: UserProperties }
}

export interface UnsubackPacket {
  cmd: 'unsuback'
  messageId: number
  /** MQTT 5.0 reason codes, one per filter */
  granted?: number[]
  properties?: AckProperties
}

export interface PingreqPacket {
  cmd: 'pingreq'
}

export interface PingrespPacket {
  cmd: 'pingresp'
}

export interface DisconnectPacket {
  cmd: 'disconnect'
  reasonCode?: number
  properties?: AckProperties & { sessionExpiryInterval?: number; serverReference?: string }
}

export interface AuthPacket {
  cmd: 'auth'
  reasonCode: number
  properties?: AckProperties & { authenticationMethod?: string; authenticationData?: Uint8Array }
}

export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | DisconnectPacket
  | AuthPacket

/** What the decoder yields: the same packets, with PUBLISH payloads as bytes. */
export type IncomingPacket = Exclude<Packet, PublishPacket> | IncomingPublishPacket
