/**
 * Every failure the client reports is an MqttError with a stable `code`, so callers can branch on
 * `err instanceof InvalidTopicError` or `err.code === 'INVALID_TOPIC'` without parsing messages.
 * Messages never include credentials.
 */
export class MqttError extends Error {
  // Each class names itself in a string literal: minifiers rename classes, so a name read from
  // the constructor at run time would show as `f` in a production build.
  /** The class's name, e.g. 'InvalidTopicError' (kept in minified builds too). */
  override readonly name: string = 'MqttError'
  /** A stable code to branch on, one per subclass, e.g. 'INVALID_TOPIC'. */
  readonly code: MqttErrorCode

  /**
   * @param code - the code of the subclass
   * @param message - what went wrong, without credentials
   * @param options - `cause`: the error underneath, if any
   */
  constructor(code: MqttErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Every code an MqttError can carry; each belongs to one subclass below. */
export type MqttErrorCode =
  | 'INVALID_TOPIC'
  | 'INVALID_ARGUMENT'
  | 'CONNECTION_REFUSED'
  | 'CONNECT_TIMEOUT'
  | 'SUBSCRIBE_REFUSED'
  | 'REASON_CODE'
  | 'CLIENT_CLOSED'
  | 'CONNECTION_CLOSED'
  | 'KEEPALIVE_TIMEOUT'
  | 'PROTOCOL_ERROR'
  | 'QUEUE_FULL'
  | 'BUFFER_OVERFLOW'
  | 'OFFLINE'
  | 'TRANSPORT_ERROR'
  | 'BROKER_LIMIT'
  | 'REQUEST_TIMEOUT'
  | 'SESSION_TAKEN_OVER'
  | 'CREDENTIALS_FAILED'

/** A topic name or filter that MQTT §4.7 forbids. */
export class InvalidTopicError extends MqttError {
  override readonly name = 'InvalidTopicError'
  declare readonly code: 'INVALID_TOPIC'
  /** The topic or filter as the caller gave it. */
  readonly topic: string

  constructor(topic: string, reason: string) {
    super('INVALID_TOPIC', `Invalid topic ${JSON.stringify(truncate(topic, 80))}: ${reason}`)
    this.topic = topic
  }
}

/** A caller's argument of the wrong type or out of range (QoS, payload, options). */
export class InvalidArgumentError extends MqttError {
  override readonly name = 'InvalidArgumentError'
  declare readonly code: 'INVALID_ARGUMENT'
  constructor(message: string) {
    super('INVALID_ARGUMENT', message)
  }
}

/** The broker answered CONNECT with a refusal. */
export class ConnectionRefusedError extends MqttError {
  override readonly name = 'ConnectionRefusedError'
  declare readonly code: 'CONNECTION_REFUSED'
  /** The 3.1.1 return code or the 5.0 reason code. */
  readonly returnCode: number

  constructor(returnCode: number, reason: string) {
    super('CONNECTION_REFUSED', `Connection refused (code ${returnCode}): ${reason}`)
    this.returnCode = returnCode
  }
}

/**
 * No CONNACK arrived within connectTimeout, which counts from the start of the attempt: a url
 * function and a credentials hook that are slow to answer use it up too.
 */
export class ConnectTimeoutError extends MqttError {
  override readonly name = 'ConnectTimeoutError'
  declare readonly code: 'CONNECT_TIMEOUT'
  constructor(ms: number) {
    super('CONNECT_TIMEOUT', `No CONNACK within ${ms} ms`)
  }
}

/** The broker refused one or more filters of a SUBSCRIBE (return code 0x80 or a 5.0 failure code). */
export class SubscribeError extends MqttError {
  override readonly name = 'SubscribeError'
  declare readonly code: 'SUBSCRIBE_REFUSED'
  /** Every filter of the SUBSCRIBE with its SUBACK code, the refused and the granted alike. */
  readonly granted: ReadonlyArray<{
    /** The topic filter. */
    topic: string
    /** The granted QoS (0, 1, 2), or the refusal code (0x80 and above). */
    qos: number
  }>
  /** The first refused filter's code: 0x80, or an MQTT 5 reason such as 0x87 (not authorized). */
  readonly reasonCode: number
  /** The broker's own words (MQTT 5 reason string), when it gave any. */
  readonly reasonString: string | undefined
  /** The SUBACK's MQTT 5 properties, when it had any. */
  readonly properties: AckPropertiesLike | undefined

  constructor(granted: ReadonlyArray<{ topic: string; qos: number }>, properties?: AckPropertiesLike) {
    const refused = granted.filter((g) => g.qos >= 0x80)
    const reasonCode = refused[0]?.qos ?? 0x80
    super(
      'SUBSCRIBE_REFUSED',
      `Broker refused subscription to ${refused.map((g) => JSON.stringify(g.topic)).join(', ')} (code 0x${reasonCode.toString(16)})${said(properties)}`,
    )
    this.granted = granted
    this.reasonCode = reasonCode
    this.reasonString = properties?.reasonString
    this.properties = properties
  }
}

/**
 * The broker refused an MQTT 5 operation with a failure reason code: a PUBACK or PUBREC refused a
 * publish, an UNSUBACK an unsubscribe, or a DISCONNECT faulted the publish, subscribe or
 * unsubscribe just sent (e.g. 0x95 packet too large, 0x97 quota exceeded), which is not sent again.
 */
export class ReasonCodeError extends MqttError {
  override readonly name = 'ReasonCodeError'
  declare readonly code: 'REASON_CODE'
  /** The failure reason code (0x80 and above), e.g. 0x87 not authorized. */
  readonly reasonCode: number
  /** The broker's own words (MQTT 5 reason string), when it gave any. */
  readonly reasonString: string | undefined
  /** The acknowledgement's MQTT 5 properties, when it had any. */
  readonly properties: AckPropertiesLike | undefined

  constructor(what: string, reasonCode: number, properties?: AckPropertiesLike) {
    super('REASON_CODE', `${what} failed with reason code 0x${reasonCode.toString(16)}${said(properties)}`)
    this.reasonCode = reasonCode
    this.reasonString = properties?.reasonString
    this.properties = properties
  }
}

/**
 * An acknowledgement's MQTT 5 properties (errors.ts imports nothing, so the shape is restated).
 * @inline
 */
interface AckPropertiesLike {
  /** A human-readable reason, for diagnostics only. */
  reasonString?: string
  /** Application-defined name/value pairs. */
  userProperties?: Record<string, string | string[]>
}

function said(properties: AckPropertiesLike | undefined): string {
  return properties?.reasonString ? `: ${properties.reasonString}` : ''
}

/** The operation cannot complete because the client was ended (or is ending). */
export class ClientClosedError extends MqttError {
  override readonly name = 'ClientClosedError'
  declare readonly code: 'CLIENT_CLOSED'
  constructor(message = 'Client was ended before the operation completed') {
    super('CLIENT_CLOSED', message)
  }
}

/** The connection was lost and the client will not reconnect, so the operation cannot complete. */
export class ConnectionClosedError extends MqttError {
  override readonly name = 'ConnectionClosedError'
  declare readonly code: 'CONNECTION_CLOSED'
  constructor(message = 'Connection closed before the operation completed', options?: { cause?: unknown }) {
    super('CONNECTION_CLOSED', message, options)
  }
}

/** No PINGRESP (nor any other packet) came back in time: the connection is presumed dead. */
export class KeepaliveTimeoutError extends MqttError {
  override readonly name = 'KeepaliveTimeoutError'
  declare readonly code: 'KEEPALIVE_TIMEOUT'
  constructor() {
    super('KEEPALIVE_TIMEOUT', 'Keepalive timeout: the broker stopped answering')
  }
}

/**
 * The broker sent bytes that are not valid MQTT, a packet over the size limit, or a packet out of
 * place. `reasonCode` is the MQTT 5 DISCONNECT reason the client sends before it closes: 0x81
 * Malformed Packet, 0x82 Protocol Error (the default), 0x94 Topic Alias invalid, 0x95 Packet too large.
 */
export class ProtocolError extends MqttError {
  override readonly name = 'ProtocolError'
  declare readonly code: 'PROTOCOL_ERROR'
  /** The MQTT 5 DISCONNECT reason code the client sent (or would send, on 3.1.1) before closing. */
  readonly reasonCode: number
  constructor(message: string, options?: { cause?: unknown; reasonCode?: number }) {
    super('PROTOCOL_ERROR', message, options)
    this.reasonCode = options?.reasonCode ?? 0x82
  }
}

/** The offline queue is full, so the new operation was not accepted. */
export class QueueFullError extends MqttError {
  override readonly name = 'QueueFullError'
  declare readonly code: 'QUEUE_FULL'
  constructor(limit: number) {
    super('QUEUE_FULL', `Offline queue is full (${limit} operations)`)
  }
}

/**
 * A messages() stream with `overflow: 'error'` got more messages than its bufferLimit while its
 * consumer was not reading: the stream stopped there (after the messages it holds) and unsubscribed.
 */
export class BufferOverflowError extends MqttError {
  override readonly name = 'BufferOverflowError'
  declare readonly code: 'BUFFER_OVERFLOW'
  constructor(filter: string, limit: number) {
    super('BUFFER_OVERFLOW', `messages(${JSON.stringify(truncate(filter, 80))}) fell ${limit} messages behind (its bufferLimit) and stopped`)
  }
}

/** The client is offline and QoS 0 messages are not queued (queueQoS0: false), so it was not sent. */
export class OfflineError extends MqttError {
  override readonly name = 'OfflineError'
  declare readonly code: 'OFFLINE'
  constructor() {
    super('OFFLINE', 'Not connected, and QoS 0 messages are not queued while offline (queueQoS0: false)')
  }
}

/** The transport failed (the WebSocket could not open or errored). */
export class TransportError extends MqttError {
  override readonly name = 'TransportError'
  declare readonly code: 'TRANSPORT_ERROR'
  constructor(message: string, options?: { cause?: unknown }) {
    super('TRANSPORT_ERROR', message, options)
  }
}

/** What a broker announces in its MQTT 5 CONNACK that it will not take. */
export type BrokerLimit =
  | 'maximumQoS'
  | 'retainAvailable'
  | 'maximumPacketSize'
  | 'wildcardSubscriptionAvailable'
  | 'subscriptionIdentifiersAvailable'
  | 'sharedSubscriptionAvailable'

/**
 * The broker said in its CONNACK that it cannot take this operation, so it was not sent: sending
 * it would only earn a DISCONNECT, and a reconnect that sends it again.
 */
export class BrokerLimitError extends MqttError {
  override readonly name = 'BrokerLimitError'
  declare readonly code: 'BROKER_LIMIT'
  /** The CONNACK property that rules it out. */
  readonly limit: BrokerLimit

  constructor(limit: BrokerLimit, message: string) {
    super('BROKER_LIMIT', `${message} (${limit} in the broker's CONNACK)`)
    this.limit = limit
  }
}

/**
 * Another connection with this client id took the session: the broker said so (MQTT 5
 * DISCONNECT 0x8E), or another client in this browser connected to the same broker with the same
 * id. The client stops rather than take the session back, which would knock the other off in turn.
 */
export class SessionTakenOverError extends MqttError {
  override readonly name = 'SessionTakenOverError'
  declare readonly code: 'SESSION_TAKEN_OVER'
  constructor(message: string) {
    super('SESSION_TAKEN_OVER', `${message}; not reconnecting`)
  }
}

/**
 * The url function or the credentials hook failed one connection attempt: it threw or rejected
 * (its error is the `cause`), or answered something the client cannot connect with (the
 * InvalidArgumentError saying what is the `cause`). The client then follows its reconnect plan.
 * The message never shows the URL or the credentials.
 */
export class CredentialsError extends MqttError {
  override readonly name = 'CredentialsError'
  declare readonly code: 'CREDENTIALS_FAILED'
  /** Which of the caller's functions failed: the url function or the credentials hook. */
  readonly source: 'url' | 'credentials'

  constructor(source: 'url' | 'credentials', message: string, options?: { cause?: unknown }) {
    super('CREDENTIALS_FAILED', message, options)
    this.source = source
  }
}

/** No reply to a request() came within its timeout. */
export class RequestTimeoutError extends MqttError {
  override readonly name = 'RequestTimeoutError'
  declare readonly code: 'REQUEST_TIMEOUT'
  constructor(topic: string, ms: number) {
    super('REQUEST_TIMEOUT', `No reply to the request on ${JSON.stringify(truncate(topic, 80))} within ${ms} ms`)
  }
}

/** A caller's string as an error message shows it: cut to `max` characters, the cut marked. */
export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s
}
