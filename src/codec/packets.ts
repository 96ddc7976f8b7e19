/**
 * The MQTT packets the client sends and receives, typed without Node's Buffer so that the public
 * API needs no @types/node. Field names follow mqtt-packet's, the reference our writer and reader are tested against.
 */
/** A delivery guarantee: 0 at most once, 1 at least once, 2 exactly once. */
export type QoS = 0 | 1 | 2
/** The MQTT protocol level: 4 is MQTT 3.1.1, 5 is MQTT 5.0. */
export type ProtocolVersion = 4 | 5

/** MQTT 5 user properties: name -> value, or name -> values when a name repeats. */
export type UserProperties = Record<string, string | string[]>

/** MQTT 5 properties of a PUBLISH (and of a message received). */
export interface PublishProperties {
  /** true: the payload is UTF-8 text; false or absent: unspecified bytes. */
  payloadFormatIndicator?: boolean
  /** Seconds the broker may keep the message for a subscriber that has not received it yet. */
  messageExpiryInterval?: number
  /** A number standing for the topic on this connection (1 up to the receiver's topic alias maximum). */
  topicAlias?: number
  /** The topic a responder should publish its answer to (request/response). */
  responseTopic?: string
  /** Bytes the requester uses to match a response to its request; a responder sends them back. */
  correlationData?: Uint8Array
  /** Application-defined name/value pairs. */
  userProperties?: UserProperties
  /** On a received message: the identifiers of the subscriptions it matched. */
  subscriptionIdentifier?: number | number[]
  /** A MIME type or other description of the payload, for the application. */
  contentType?: string
}

/** MQTT 5 properties of the CONNECT, set with the client's `properties` option. */
export interface ConnectProperties {
  /** Seconds the broker keeps the session after the connection closes; 0 or absent: it ends with the connection. */
  sessionExpiryInterval?: number
  /** How many QoS 1 and 2 messages the sender accepts unacknowledged at once (MQTT default 65,535). */
  receiveMaximum?: number
  /** The largest packet, in bytes, the sender accepts. */
  maximumPacketSize?: number
  /** The highest topic alias the sender accepts; 0 or absent: none. */
  topicAliasMaximum?: number
  /** Asks the broker for response information in its CONNACK. */
  requestResponseInformation?: boolean
  /** false asks the broker to leave reason strings and user properties out of errors (MQTT default true). */
  requestProblemInformation?: boolean
  /** Application-defined name/value pairs. */
  userProperties?: UserProperties
  /** The name of the extended authentication method. */
  authenticationMethod?: string
  /** Data of the extended authentication method. */
  authenticationData?: Uint8Array
}

/** MQTT 5 properties of the will message. */
export interface WillProperties {
  /** Seconds the broker waits after the connection is lost before publishing the will. */
  willDelayInterval?: number
  /** true: the payload is UTF-8 text; false or absent: unspecified bytes. */
  payloadFormatIndicator?: boolean
  /** Seconds the broker may keep the message for a subscriber that has not received it yet. */
  messageExpiryInterval?: number
  /** A MIME type or other description of the payload, for the application. */
  contentType?: string
  /** The topic a responder should publish its answer to (request/response). */
  responseTopic?: string
  /** Bytes the requester uses to match a response to its request; a responder sends them back. */
  correlationData?: Uint8Array
  /** Application-defined name/value pairs. */
  userProperties?: UserProperties
}

/** MQTT 5 properties of the broker's CONNACK: its limits and what it supports. */
export interface ConnackProperties {
  /** Seconds the broker keeps the session after the connection closes; 0 or absent: it ends with the connection. */
  sessionExpiryInterval?: number
  /** How many QoS 1 and 2 messages the sender accepts unacknowledged at once (MQTT default 65,535). */
  receiveMaximum?: number
  /** The highest QoS the broker accepts (0 or 1); absent: 2. */
  maximumQoS?: number
  /** false: the broker does not support retained messages. */
  retainAvailable?: boolean
  /** The largest packet, in bytes, the sender accepts. */
  maximumPacketSize?: number
  /** The client id the broker assigned, when the client connected with an empty one. */
  assignedClientIdentifier?: string
  /** The highest topic alias the sender accepts; 0 or absent: none. */
  topicAliasMaximum?: number
  /** A human-readable reason, for diagnostics only. */
  reasonString?: string
  /** Application-defined name/value pairs. */
  userProperties?: UserProperties
  /** false: the broker does not accept wildcard filters. */
  wildcardSubscriptionAvailable?: boolean
  /** false: the broker does not support subscription identifiers. */
  subscriptionIdentifiersAvailable?: boolean
  /** false: the broker does not support shared subscriptions ($share/...). */
  sharedSubscriptionAvailable?: boolean
  /** The keepalive, in seconds, the broker wants the client to use instead of its own. */
  serverKeepAlive?: number
  /** A base the client may use to build response topics. */
  responseInformation?: string
  /** Another server the client may use. */
  serverReference?: string
  /** The name of the extended authentication method. */
  authenticationMethod?: string
  /** Data of the extended authentication method. */
  authenticationData?: Uint8Array
}

/** MQTT 5 properties every acknowledgement may carry. */
export interface AckProperties {
  /** A human-readable reason, for diagnostics only. */
  reasonString?: string
  /** Application-defined name/value pairs. */
  userProperties?: UserProperties
}

/** CONNECT: the client opens a session. */
export interface ConnectPacket {
  /** The packet type. */
  cmd: 'connect'
  /** The protocol name, always 'MQTT'. */
  protocolId: 'MQTT'
  /** 4 for MQTT 3.1.1, 5 for MQTT 5.0. */
  protocolVersion: ProtocolVersion
  /** The client identifier. */
  clientId: string
  /** Clean session (3.1.1) or clean start (5.0). */
  clean: boolean
  /** Keepalive in seconds; 0 turns it off. */
  keepalive: number
  /** The user name, if any. */
  username?: string
  /** The password bytes, if any. */
  password?: Uint8Array
  /** The message the broker publishes if the client goes away without a DISCONNECT. */
  will?: {
    /** The will's topic. */
    topic: string
    /** The will's payload. */
    payload: Uint8Array
    /** The will's QoS. */
    qos: QoS
    /** Whether the broker retains the will. */
    retain: boolean
    /** MQTT 5 will properties. */
    properties?: WillProperties
  }
  /** MQTT 5 CONNECT properties. */
  properties?: ConnectProperties
}

/** CONNACK: the broker accepts or refuses a CONNECT. */
export interface ConnackPacket {
  /** The packet type. */
  cmd: 'connack'
  /** Whether the broker resumed a session it kept for this client id. */
  sessionPresent: boolean
  /** MQTT 3.1.1: 0 accepted, 1 to 5 refused. */
  returnCode?: number
  /** MQTT 5.0: below 0x80 accepted, 0x80 and above refused. */
  reasonCode?: number
  /** MQTT 5 CONNACK properties. */
  properties?: ConnackProperties
}

/** PUBLISH: a message, in either direction. */
export interface PublishPacket {
  /** The packet type. */
  cmd: 'publish'
  /** The topic name (empty when an MQTT 5 topic alias stands for it). */
  topic: string
  /** The payload; a string is sent as UTF-8. */
  payload: Uint8Array | string
  /** The QoS of this delivery. */
  qos: QoS
  /** The retain flag. */
  retain: boolean
  /** Set on a QoS 1 or 2 message sent again. */
  dup: boolean
  /** The packet identifier, for QoS 1 and 2. */
  messageId?: number
  /** MQTT 5 PUBLISH properties. */
  properties?: PublishProperties
}

/** A PUBLISH as it arrives: the decoder always yields bytes. */
export interface IncomingPublishPacket extends PublishPacket {
  /** The payload bytes. */
  payload: Uint8Array
}

/** PUBACK, PUBREC, PUBREL or PUBCOMP: a step of a QoS 1 or 2 delivery. */
export interface AckPacket {
  /** The packet type. */
  cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'
  /** The packet identifier of the PUBLISH it answers. */
  messageId: number
  /** MQTT 5: below 0x80 success, 0x80 and above failure; absent means 0. */
  reasonCode?: number
  /** MQTT 5 properties. */
  properties?: AckProperties
}

/** One topic filter of a SUBSCRIBE, with its options. */
export interface Subscription {
  /** The topic filter. */
  topic: string
  /** The highest QoS asked for. */
  qos: QoS
  /** MQTT 5 No Local: do not send this client its own messages. */
  nl?: boolean
  /** MQTT 5 Retain As Published: keep the retain flag the publisher set. */
  rap?: boolean
  /** MQTT 5 Retain Handling: 0 send retained messages, 1 only for a new subscription, 2 never. */
  rh?: 0 | 1 | 2
}

/** MQTT 5 properties of a SUBSCRIBE. */
export interface SubscribeProperties {
  /** A number (1 to 268,435,455) the broker attaches to the messages this subscription delivers. */
  subscriptionIdentifier?: number
  /** Application-defined name/value pairs. */
  userProperties?: UserProperties
}

/** SUBSCRIBE: the client asks for messages on topic filters. */
export interface SubscribePacket {
  /** The packet type. */
  cmd: 'subscribe'
  /** The packet identifier. */
  messageId: number
  /** The filters and their options. */
  subscriptions: Subscription[]
  /** MQTT 5 SUBSCRIBE properties. */
  properties?: SubscribeProperties
}

/** SUBACK: the broker's answer to a SUBSCRIBE. */
export interface SubackPacket {
  /** The packet type. */
  cmd: 'suback'
  /** The packet identifier of the SUBSCRIBE. */
  messageId: number
  /** One code per filter: the granted QoS (0, 1, 2) or a failure (0x80 and above). */
  granted: number[]
  /** MQTT 5 properties. */
  properties?: AckProperties
}

/** UNSUBSCRIBE: the client drops topic filters. */
export interface UnsubscribePacket {
  /** The packet type. */
  cmd: 'unsubscribe'
  /** The packet identifier. */
  messageId: number
  /** The filters to drop. */
  unsubscriptions: string[]
  /** MQTT 5 properties. */
  properties?: {
    /** Application-defined name/value pairs. */
    userProperties?: UserProperties
  }
}

/** UNSUBACK: the broker's answer to an UNSUBSCRIBE. */
export interface UnsubackPacket {
  /** The packet type. */
  cmd: 'unsuback'
  /** The packet identifier of the UNSUBSCRIBE. */
  messageId: number
  /** MQTT 5.0 reason codes, one per filter */
  granted?: number[]
  /** MQTT 5 properties. */
  properties?: AckProperties
}

/** PINGREQ: the client's keepalive ping. */
export interface PingreqPacket {
  /** The packet type. */
  cmd: 'pingreq'
}

/** PINGRESP: the broker's answer to a PINGREQ. */
export interface PingrespPacket {
  /** The packet type. */
  cmd: 'pingresp'
}

/** DISCONNECT: either side closes the session on purpose (MQTT 5 lets the broker send it too). */
export interface DisconnectPacket {
  /** The packet type. */
  cmd: 'disconnect'
  /** MQTT 5: why; 0 (or absent) is a normal disconnection. */
  reasonCode?: number
  /** MQTT 5 properties. */
  properties?: AckProperties & {
    /** Seconds the broker keeps the session from now (sent by the client only). */
    sessionExpiryInterval?: number
    /** Another server the client may use (sent by the broker only). */
    serverReference?: string
  }
}

/** AUTH: a step of MQTT 5 extended authentication. */
export interface AuthPacket {
  /** The packet type. */
  cmd: 'auth'
  /** 0x00 success, 0x18 continue authentication, 0x19 re-authenticate. */
  reasonCode: number
  /** MQTT 5 properties. */
  properties?: AckProperties & {
    /** The name of the authentication method. */
    authenticationMethod?: string
    /** Data of the authentication method. */
    authenticationData?: Uint8Array
  }
}

/** Any MQTT packet the client writes or reads. */
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
