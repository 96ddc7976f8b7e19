import type { AckPacket, AckProperties, Subscription } from '../codec/packets.js'
import { ReasonCodeError, SubscribeError } from '../errors.js'

/** Readable text for CONNACK refusals, so errors say why rather than only a number. */
const CONNACK_3: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
}

const REASON_5: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x8f: 'topic filter invalid',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x92: 'packet identifier not found',
  0x93: 'receive maximum exceeded',
  0x94: 'topic alias invalid',
  0x95: 'packet too large',
  0x96: 'message rate too high',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
  0x9a: 'retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9e: 'shared subscriptions not supported',
  0x9f: 'connection rate exceeded',
  0xa0: 'maximum connect time',
  0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
}

export function connackReason(code: number, protocolVersion: 4 | 5): string {
  // A 3.1.1 broker answers an MQTT 5 CONNECT in 3.1.1, with its code 1.
  if (protocolVersion === 5 && code === 1) return 'the broker does not support MQTT 5 (unacceptable protocol version)'
  const text = protocolVersion === 5 ? REASON_5[code] : CONNACK_3[code]
  return text ?? 'unknown reason'
}

/** A refusal of the MQTT version we spoke: a 3.1.1 broker's code 1, or MQTT 5's 0x84. */
export function refusesVersion(code: number): boolean {
  return code === 1 || code === 0x84
}

export function reasonText(code: number): string {
  return REASON_5[code] ?? 'unknown reason'
}

/**
 * Refusals that retrying cannot fix: wrong credentials, no permission, a protocol version or
 * client id the broker will never take. Reconnecting on these would only hammer the broker.
 */
export function isPermanentRefusal(code: number, protocolVersion: 4 | 5): boolean {
  if (protocolVersion === 4) return code === 1 || code === 2 || code === 4 || code === 5
  return [1, 0x84, 0x85, 0x86, 0x87, 0x8a, 0x8c].includes(code)
}

/**
 * DISCONNECT reasons that blame the packet just received, not the connection: the message (or
 * subscription) is one the broker will never take, so it must not be sent again.
 */
const FAULTS_THE_PACKET = new Set([0x8f, 0x90, 0x93, 0x94, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9e, 0xa1, 0xa2])

export function faultsThePacket(code: number | undefined): code is number {
  return code !== undefined && FAULTS_THE_PACKET.has(code)
}

/** What the broker granted for one filter: the QoS, or a failure code of 0x80 and above. */
export interface Granted {
  /** The topic filter. */
  topic: string
  /** The granted QoS (0, 1 or 2), or the refusal code (0x80 and above). */
  qos: number
  /** The SUBACK's MQTT 5 properties (reason string, user properties), when it had any; one SUBACK answers every filter of its SUBSCRIBE. */
  properties?: AckProperties
}

/** MQTT 5 reason codes of 0x80 and above, and the 3.1.1 SUBACK's 0x80, say the request failed. */
export function isFailure(code: number | undefined): code is number {
  return code !== undefined && code >= 0x80
}

// Every acknowledgement is judged here, so the rule that 0x80 and above is a failure has one home.

/** What a QoS 1 or 2 publish resolves with: the broker's reason code (0 from a 3.1.1 broker) and MQTT 5 properties. */
export interface PublishResult {
  /** 0 success, 0x10 no matching subscribers (MQTT 5). */
  reasonCode: number
  /** The PUBACK's or PUBREC's MQTT 5 properties, when it had any. */
  properties?: AckProperties
}

/** What an unsubscribe resolves with: one reason code per filter (MQTT 5; none from a 3.1.1 broker), 0x11 where none existed. */
export interface UnsubscribeResult {
  /** One code per filter, in order: 0 success, 0x11 no subscription existed; empty from a 3.1.1 broker. */
  reasonCodes: number[]
  /** The UNSUBACK's MQTT 5 properties, when it had any. */
  properties?: AckProperties
}

/** What an UNSUBACK that refused nothing says. */
export function unsubscribeResult(codes: readonly number[], properties?: AckProperties): UnsubscribeResult {
  const result: UnsubscribeResult = { reasonCodes: [...codes] }
  if (properties) result.properties = properties
  return result
}

/** A PUBACK, PUBREC or PUBCOMP that refuses the message (MQTT 5), or undefined. */
export function publishAckError(ack: AckPacket): ReasonCodeError | undefined {
  return isFailure(ack.reasonCode) ? new ReasonCodeError('Publish', ack.reasonCode, ack.properties) : undefined
}

/** What a publish the broker accepted resolves with, from its PUBACK or (QoS 2) its PUBREC. */
export function publishResult(ack: AckPacket): PublishResult {
  const result: PublishResult = { reasonCode: ack.reasonCode ?? 0 }
  if (ack.properties) result.properties = ack.properties
  return result
}

/**
 * What a SUBACK granted each filter of its SUBSCRIBE, in order; a code missing from the SUBACK
 * counts as a refusal. `error` is set when any filter was refused.
 */
export function subackOutcome(
  subscriptions: readonly Subscription[],
  codes: readonly number[],
  properties?: AckProperties,
): { granted: Granted[]; error?: SubscribeError } {
  const granted = subscriptions.map((s, i): Granted => {
    const g: Granted = { topic: s.topic, qos: codes[i] ?? 0x80 }
    if (properties) g.properties = properties
    return g
  })
  return granted.some((g) => isFailure(g.qos)) ? { granted, error: new SubscribeError(granted, properties) } : { granted }
}

/** The first failure an UNSUBACK reports (MQTT 5), or undefined. */
export function unsubackError(codes: readonly number[], properties?: AckProperties): ReasonCodeError | undefined {
  const code = codes.find(isFailure)
  return code === undefined ? undefined : new ReasonCodeError('Unsubscribe', code, properties)
}
