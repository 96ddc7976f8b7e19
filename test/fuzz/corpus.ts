import { generate, type Packet as WirePacket } from 'mqtt-packet'
import type { Rng } from './prng.js'

/**
 * Valid packets a broker may send, drawn at random and encoded by mqtt-packet's generate (not by
 * our codec, so that our own encoder's habits do not shape the input). Some choices are valid
 * to encode but wrong in MQTT (a wildcard in a PUBLISH topic, packet id 0, an unknown topic
 * alias): the client must refuse those cleanly too.
 */

/** A character whose three UTF-8 bytes (E2 98 83) the mutator may swap for invalid ones. */
export const UTF8_MARK = '\u2603'
export const UTF8_MARK_BYTES = [0xe2, 0x98, 0x83] as const

export interface CorpusContext {
  version: 4 | 5
  /** Packet ids the client probably used: it hands them out from 1 upwards. */
  maxId: number
  /** Topics the client subscribed to, which a PUBLISH should usually hit. */
  topics: readonly string[]
  /** The client's MQTT 5 authentication method, if it has one. */
  authMethod: string | undefined
}

export type ServerCmd = 'connack' | 'publish' | 'puback' | 'pubrec' | 'pubrel' | 'pubcomp' | 'suback' | 'unsuback' | 'pingresp' | 'disconnect' | 'auth'

const V4_CMDS: readonly ServerCmd[] = ['publish', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'pingresp', 'disconnect', 'connack']
const V5_CMDS: readonly ServerCmd[] = [...V4_CMDS, 'disconnect', 'auth']
/** A client with an authentication method gets AUTH more often: its challenges reach the onAuth hook. */
const V5_AUTH_CMDS: readonly ServerCmd[] = [...V5_CMDS, 'auth', 'auth', 'auth']

/** Encodes with mqtt-packet; undefined when it refuses the packet (it throws on some values). */
export function encodeWire(packet: object, version: 4 | 5): Uint8Array | undefined {
  try {
    const bytes = generate(packet as WirePacket, { protocolVersion: version })
    return bytes.length > 0 ? new Uint8Array(bytes) : undefined
  } catch {
    return undefined
  }
}

/** One valid server packet of a random kind (or of `cmd`), encoded. */
export function serverPacket(rng: Rng, ctx: CorpusContext, cmd?: ServerCmd): Uint8Array {
  for (let attempt = 0; attempt < 8; attempt++) {
    const kind = cmd ?? rng.pick(ctx.version === 4 ? V4_CMDS : ctx.authMethod ? V5_AUTH_CMDS : V5_CMDS)
    const bytes = encodeWire(build(rng, ctx, kind), ctx.version)
    if (bytes) return bytes
  }
  return Uint8Array.of(0xd0, 0x00) // PINGRESP: mqtt-packet refused every draw (not expected)
}

/** A CONNACK: mostly accepting, sometimes a refusal; MQTT 5 with a random set of properties. */
export function connackPacket(rng: Rng, ctx: CorpusContext, accept: boolean): Uint8Array {
  return encodeWire(connack(rng, ctx, accept), ctx.version) ?? encodeWire(plainConnack(ctx.version, accept), ctx.version) ?? Uint8Array.of(0x20, 0x02, 0, 0)
}

function plainConnack(version: 4 | 5, accept: boolean): object {
  const code = accept ? 0 : version === 5 ? 0x88 : 3
  return version === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: code } : { cmd: 'connack', sessionPresent: false, returnCode: code }
}

function build(rng: Rng, ctx: CorpusContext, cmd: ServerCmd): object {
  switch (cmd) {
    case 'connack':
      return connack(rng, ctx, rng.chance(0.7))
    case 'publish':
      return publish(rng, ctx)
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return withProperties(ctx, rng, { cmd, messageId: packetId(rng, ctx), reasonCode: ctx.version === 5 ? rng.pick([0, 0, 0, 0x10, 0x80, 0x87, 0x91, 0x92, 0x97]) : undefined }, ackProperties)
    case 'suback': {
      const codes = ctx.version === 5 ? [0, 1, 2, 0x80, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2] : [0, 1, 2, 0x80]
      const granted = Array.from({ length: rng.range(1, 3) }, () => (rng.chance(0.7) ? rng.int(3) : rng.pick(codes)))
      return withProperties(ctx, rng, { cmd, messageId: packetId(rng, ctx), granted }, ackProperties)
    }
    case 'unsuback': {
      const packet: Record<string, unknown> = { cmd, messageId: packetId(rng, ctx) }
      if (ctx.version === 5) packet.granted = Array.from({ length: rng.range(1, 3) }, () => rng.pick([0, 0, 0x11, 0x80, 0x87, 0x8f]))
      return withProperties(ctx, rng, packet, ackProperties)
    }
    case 'pingresp':
      return { cmd }
    case 'disconnect':
      return withProperties(ctx, rng, { cmd, reasonCode: rng.pick([0, 0x04, 0x80, 0x81, 0x82, 0x89, 0x8b, 0x8d, 0x8e, 0x90, 0x93, 0x94, 0x95, 0x97, 0x9c, 0x9d]) }, (r) => ({
        ...ackProperties(r),
        ...(r.chance(0.2) ? { serverReference: r.pick(['ws://elsewhere.test/mqtt', 'other.test:9001', 'not a url']) } : {}),
        ...(r.chance(0.2) ? { sessionExpiryInterval: r.int(100) } : {}),
      }))
    case 'auth':
      return {
        cmd,
        reasonCode: rng.pick([0, 0x18, 0x18, 0x19, 0x8c]),
        properties: {
          authenticationMethod: rng.chance(0.8) && ctx.authMethod ? ctx.authMethod : rng.pick(['other', `m${UTF8_MARK}`]),
          ...(rng.chance(0.6) ? { authenticationData: Buffer.from(rng.bytes(rng.int(8))) } : {}),
          ...ackProperties(rng),
        },
      }
  }
}

function connack(rng: Rng, ctx: CorpusContext, accept: boolean): object {
  if (ctx.version === 4) return { cmd: 'connack', sessionPresent: rng.chance(0.3), returnCode: accept ? 0 : rng.range(1, 5) }
  const reasonCode = accept ? 0 : rng.pick([0x80, 0x81, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x95, 0x9c, 0x9d, 0x9f, 1])
  const p: Record<string, unknown> = {}
  const maybe = (probability: number, name: string, value: () => unknown) => {
    if (rng.chance(probability)) p[name] = value()
  }
  maybe(0.3, 'sessionExpiryInterval', () => rng.int(1000))
  maybe(0.4, 'receiveMaximum', () => rng.range(1, 4))
  maybe(0.3, 'maximumQoS', () => rng.int(2))
  maybe(0.3, 'retainAvailable', () => rng.chance(0.5))
  maybe(0.3, 'maximumPacketSize', () => rng.pick([16, 40, 100, 1000, 65536]))
  maybe(0.3, 'assignedClientIdentifier', () => rng.pick(['assigned', `id${UTF8_MARK}`]))
  maybe(0.5, 'topicAliasMaximum', () => rng.int(4))
  maybe(0.3, 'reasonString', () => `why${UTF8_MARK}`)
  maybe(0.2, 'userProperties', () => ({ k: rng.chance(0.5) ? 'v' : ['a', `b${UTF8_MARK}`] }))
  maybe(0.3, 'wildcardSubscriptionAvailable', () => rng.chance(0.5))
  maybe(0.3, 'subscriptionIdentifiersAvailable', () => rng.chance(0.5))
  maybe(0.3, 'sharedSubscriptionAvailable', () => rng.chance(0.5))
  maybe(0.3, 'serverKeepAlive', () => rng.int(4))
  maybe(0.2, 'responseInformation', () => 'resp/info')
  maybe(0.2, 'serverReference', () => rng.pick(['ws://elsewhere.test/mqtt', 'other.test:9001', '']))
  if (ctx.authMethod && rng.chance(0.6)) p.authenticationMethod = ctx.authMethod
  maybe(0.2, 'authenticationData', () => Buffer.from(rng.bytes(rng.int(6))))
  const packet: Record<string, unknown> = { cmd: 'connack', sessionPresent: rng.chance(0.3), reasonCode }
  if (Object.keys(p).length > 0 || rng.chance(0.5)) packet.properties = p
  return packet
}

function publish(rng: Rng, ctx: CorpusContext): object {
  const qos = rng.int(3)
  let topic = ctx.topics.length > 0 && rng.chance(0.8) ? rng.pick(ctx.topics) : rng.pick(['a', 'a/b', 'x/y/z', `t/${UTF8_MARK}`, 'a/+', '#', ''])
  // A topic built from a filter: resolve its wildcards most of the time, keep them sometimes.
  if (rng.chance(0.8)) topic = topic.replace(/\+/g, 'p').replace(/#/g, 'h/i')
  const packet: Record<string, unknown> = {
    cmd: 'publish',
    topic,
    payload: Buffer.from(rng.bytes(rng.pick([0, 1, 5, 20, 300]))),
    qos,
    retain: rng.chance(0.2),
    dup: rng.chance(0.1),
  }
  if (qos > 0) packet.messageId = rng.chance(0.05) ? 0 : rng.range(1, 65535)
  if (ctx.version === 5) {
    const p: Record<string, unknown> = {}
    if (rng.chance(0.2)) p.payloadFormatIndicator = rng.chance(0.5)
    if (rng.chance(0.2)) p.messageExpiryInterval = rng.int(100)
    if (rng.chance(0.35)) {
      p.topicAlias = rng.pick([0, 1, 1, 2, 3, 9, 65535])
      if (rng.chance(0.5)) packet.topic = ''
    }
    if (rng.chance(0.2)) p.responseTopic = rng.pick(['reply/to', 'reply/+', `r${UTF8_MARK}`])
    if (rng.chance(0.2)) p.correlationData = Buffer.from(rng.bytes(4))
    if (rng.chance(0.2)) p.userProperties = { a: 'b', [`k${UTF8_MARK}`]: ['1', '2'] }
    if (rng.chance(0.3)) p.subscriptionIdentifier = rng.chance(0.5) ? rng.range(1, 5) : [rng.range(1, 3), rng.range(1, 268435455)]
    if (rng.chance(0.2)) p.contentType = `text/plain${UTF8_MARK}`
    if (Object.keys(p).length > 0) packet.properties = p
  }
  return packet
}

function packetId(rng: Rng, ctx: CorpusContext): number {
  if (rng.chance(0.05)) return 0
  if (rng.chance(0.05)) return rng.range(1, 65535)
  return rng.range(1, Math.max(1, ctx.maxId))
}

function ackProperties(rng: Rng): Record<string, unknown> {
  const p: Record<string, unknown> = {}
  if (rng.chance(0.3)) p.reasonString = rng.pick(['because', `why${UTF8_MARK}`])
  if (rng.chance(0.2)) p.userProperties = { x: 'y' }
  return p
}

function withProperties(ctx: CorpusContext, rng: Rng, packet: Record<string, unknown>, properties: (rng: Rng) => Record<string, unknown>): object {
  if (ctx.version !== 5) {
    delete packet.reasonCode
    return packet
  }
  if (packet.reasonCode === undefined) delete packet.reasonCode
  if (rng.chance(0.5)) {
    const p = properties(rng)
    if (Object.keys(p).length > 0) packet.properties = p
  }
  return packet
}
