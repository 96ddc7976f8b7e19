import { generate, type IPublishPacket, type Packet } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { auditConnections, auditDeliveries } from '../../support/delivery-audit.js'
import { MqttOverWebSocketDecoder, type WireConnection, type WireEntry, WireWitness } from '../../support/wire-witness.js'

const UPGRADE_REQUEST = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n'
const UPGRADE_RESPONSE = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n'

/** One WebSocket frame (RFC 6455 §5.2), masked as a client must send it when `mask` is given. */
function frame(payload: Buffer, options: { opcode?: number; fin?: boolean; mask?: number[] } = {}): Buffer {
  const { opcode = 2, fin = true, mask } = options
  const length = payload.length
  const lengthBytes = length < 126 ? [length] : length < 65536 ? [126, length >> 8, length & 0xff] : [127, 0, 0, 0, 0, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, (mask ? 0x80 : 0) | (lengthBytes[0] as number), ...lengthBytes.slice(1), ...(mask ?? [])])
  const body = Buffer.from(payload)
  if (mask) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number)
  return Buffer.concat([head, body])
}

const publish = (payload: string, messageId: number, qos: 1 | 2 = 2): IPublishPacket => ({ cmd: 'publish', topic: 't', payload, qos, messageId, dup: false, retain: false })

function decodeAll(chunks: Buffer[]): Packet[] {
  const packets: Packet[] = []
  const decoder = new MqttOverWebSocketDecoder((p) => packets.push(p))
  for (const chunk of chunks) decoder.push(chunk)
  return packets
}

/** Splits bytes into pieces of `size`, as a socket might deliver them. */
function pieces(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size))
  return out
}

describe('the wire witness decoder', () => {
  it('skips the upgrade head and reads masked frames holding several packets, one byte at a time', () => {
    const packets = [publish('2:1', 1), { cmd: 'pubrec', messageId: 1 } as Packet, publish('2:2', 2)]
    const payload = Buffer.concat(packets.map((p) => generate(p)))
    const bytes = Buffer.concat([Buffer.from(UPGRADE_REQUEST), frame(payload, { mask: [1, 2, 3, 250] })])
    const decoded = decodeAll(pieces(bytes, 1))
    expect(decoded.map((p) => [p.cmd, p.messageId])).toEqual([['publish', 1], ['pubrec', 1], ['publish', 2]])
    expect(String((decoded[2] as { payload: Buffer }).payload)).toBe('2:2')
  })

  it('joins a packet split across frames, including continuation frames, and ignores pings', () => {
    const bytes = generate(publish('x'.repeat(300), 7, 1))
    const stream = Buffer.concat([
      Buffer.from(UPGRADE_RESPONSE),
      frame(bytes.subarray(0, 100), { fin: false }),
      frame(Buffer.from('hi'), { opcode: 9 }),
      frame(bytes.subarray(100), { opcode: 0 }),
    ])
    const decoded = decodeAll(pieces(stream, 64))
    expect(decoded).toHaveLength(1)
    expect(decoded[0]).toMatchObject({ cmd: 'publish', messageId: 7, qos: 1 })
  })

  it('does not report a packet whose bytes were never all written', () => {
    const bytes = Buffer.concat([Buffer.from(UPGRADE_RESPONSE), frame(generate(publish('2:9', 9)))])
    expect(decodeAll([bytes.subarray(0, bytes.length - 1)])).toEqual([])
  })

  it('reads frames with 16-bit lengths', () => {
    const many = Array.from({ length: 40 }, (_, i) => publish(`1:${i}`, i + 1, 1))
    const payload = Buffer.concat(many.map((p) => generate(p)))
    expect(payload.length).toBeGreaterThan(125)
    const decoded = decodeAll([Buffer.concat([Buffer.from(UPGRADE_REQUEST), frame(payload, { mask: [9, 8, 7, 6] })])])
    expect(decoded.map((p) => p.messageId)).toEqual(many.map((p) => p.messageId))
  })

  it('logs both directions of each connection in order, and records garbage as an error', () => {
    const witness = new WireWitness()
    const taps = witness.open(0)
    taps.toBroker(Buffer.concat([Buffer.from(UPGRADE_REQUEST), frame(generate({ cmd: 'pingreq' }), { mask: [0, 0, 0, 1] })]))
    taps.toClient(Buffer.concat([Buffer.from(UPGRADE_RESPONSE), frame(generate({ cmd: 'pingresp' }))]))
    taps.toClient(frame(Buffer.from([0xff, 0x00])))
    expect(witness.log.map((e) => [e.conn, e.dir, e.packet.cmd])).toEqual([
      [0, 'toBroker', 'pingreq'],
      [0, 'toClient', 'pingresp'],
    ])
    expect(witness.errors).toHaveLength(1)
  })
})

/** A small wire log, written as the proxy would record it. */
class Wire {
  readonly log: WireEntry[] = []
  conn = -1

  connect(sessionPresent: boolean): this {
    this.conn++
    this.log.push({ conn: this.conn, dir: 'toClient', packet: { cmd: 'connack', returnCode: 0, sessionPresent } })
    return this
  }

  toClient(packet: Packet): this {
    this.log.push({ conn: this.conn, dir: 'toClient', packet })
    return this
  }

  toBroker(packet: Packet): this {
    this.log.push({ conn: this.conn, dir: 'toBroker', packet })
    return this
  }

  /** A whole QoS 2 flow, answered by the client. */
  flow(payload: string, id: number): this {
    return this.toClient(publish(payload, id)).toBroker({ cmd: 'pubrec', messageId: id }).toClient({ cmd: 'pubrel', messageId: id }).toBroker({ cmd: 'pubcomp', messageId: id })
  }
}

const ack = (cmd: 'puback' | 'pubrec' | 'pubcomp', messageId: number): Packet => ({ cmd, messageId })
const times = (entries: Record<string, number>) => new Map(Object.entries(entries))

describe('the delivery audit', () => {
  it('requires one delivery of a QoS 2 flow the client answered, and allows no second', () => {
    const wire = new Wire().connect(false).flow('2:1', 1)
    expect(auditDeliveries(wire.log, times({ '2:1': 1 }), ['2:1'])).toMatchObject({ tooMany: [], tooFew: [] })
    expect(auditDeliveries(wire.log, times({ '2:1': 2 }), ['2:1']).tooMany).toEqual([{ key: '2:1', delivered: 2, atLeast: 1, atMost: 1 }])
    const lost = auditDeliveries(wire.log, times({}), ['2:1'])
    expect(lost.tooFew).toHaveLength(1)
    expect(lost.lost.byClient).toEqual(['2:1'])
  })

  it('counts a re-sent PUBLISH within an open flow as the same flow', () => {
    const wire = new Wire()
      .connect(false)
      .toClient(publish('2:1', 1))
      .connect(true)
      .toClient({ ...publish('2:1', 1), dup: true })
      .toBroker(ack('pubrec', 1))
    const audit = auditDeliveries(wire.log, times({ '2:1': 2 }), ['2:1'])
    expect(audit.tooMany).toEqual([{ key: '2:1', delivered: 2, atLeast: 1, atMost: 1 }])
    expect(audit.qos2.brokerResends).toBe(0)
  })

  it('allows a second delivery when the broker starts a new flow after PUBCOMP, and calls it a broker re-send', () => {
    const wire = new Wire().connect(false).flow('2:1', 1).flow('2:1', 1)
    const audit = auditDeliveries(wire.log, times({ '2:1': 2 }), ['2:1'])
    expect(audit).toMatchObject({ tooMany: [], tooFew: [], qos2: { brokerResends: 1 } })
    expect(auditDeliveries(wire.log, times({ '2:1': 1 }), ['2:1']).tooFew).toHaveLength(1)
  })

  it('allows either outcome when a PUBREL was written before a cut and never answered', () => {
    const wire = new Wire()
      .connect(false)
      .toClient(publish('2:1', 1))
      .toBroker(ack('pubrec', 1))
      .toClient({ cmd: 'pubrel', messageId: 1 })
      .connect(true)
      .toClient(publish('2:1', 1))
      .toBroker(ack('pubrec', 1))
    for (const delivered of [1, 2]) {
      expect(auditDeliveries(wire.log, times({ '2:1': delivered }), ['2:1'])).toMatchObject({ tooMany: [], tooFew: [] })
    }
    expect(auditDeliveries(wire.log, times({ '2:1': 3 }), ['2:1']).tooMany).toHaveLength(1)
    expect(auditDeliveries(wire.log, times({ '2:1': 1 }), ['2:1']).qos2.flows).toMatchObject({ free: 1, maybe: 1 })
  })

  it('requires delivery of a new flow that follows a PUBREL on the same connection', () => {
    const wire = new Wire()
      .connect(false)
      .toClient(publish('2:1', 1))
      .toBroker(ack('pubrec', 1))
      .toClient({ cmd: 'pubrel', messageId: 1 })
      .toClient(publish('2:2', 1))
      .toBroker(ack('pubcomp', 1))
      .toBroker(ack('pubrec', 1))
    expect(auditDeliveries(wire.log, times({ '2:1': 1 }), ['2:1', '2:2']).tooFew.map((v) => v.key)).toEqual(['2:2'])
  })

  it('forbids delivering a message sent on an id the client still holds, and blames the broker for its loss', () => {
    const wire = new Wire().connect(false).toClient(publish('2:1', 1)).toBroker(ack('pubrec', 1)).toClient(publish('2:2', 1)).toBroker(ack('pubrec', 1))
    const audit = auditDeliveries(wire.log, times({ '2:1': 1 }), ['2:1', '2:2'])
    expect(audit).toMatchObject({ tooMany: [], tooFew: [], lost: { idReused: ['2:2'], byClient: [] }, qos2: { flows: { held: 1 } } })
    expect(auditDeliveries(wire.log, times({ '2:1': 1, '2:2': 1 }), ['2:1', '2:2']).tooMany.map((v) => v.key)).toEqual(['2:2'])
  })

  it('forgets held ids when a CONNACK says no session was kept', () => {
    const wire = new Wire().connect(false).toClient(publish('2:1', 1)).toBroker(ack('pubrec', 1)).connect(false).toClient(publish('2:2', 1)).toBroker(ack('pubrec', 1))
    expect(auditDeliveries(wire.log, times({ '2:1': 1 }), ['2:1', '2:2']).tooFew.map((v) => v.key)).toEqual(['2:2'])
  })

  it('holds QoS 1 to one delivery per answered copy and no more than the copies written', () => {
    const wire = new Wire()
      .connect(false)
      .toClient(publish('1:1', 5, 1))
      .toBroker(ack('puback', 5))
      .connect(true)
      .toClient({ ...publish('1:1', 5, 1), dup: true })
      .toBroker(ack('puback', 5))
      .toClient(publish('1:2', 6, 1))
    expect(auditDeliveries(wire.log, times({ '1:1': 2, '1:2': 1 }), ['1:1', '1:2'])).toMatchObject({ tooMany: [], tooFew: [], qos1: { copies: 3, answered: 2 } })
    expect(auditDeliveries(wire.log, times({ '1:1': 1, '1:2': 1 }), ['1:1', '1:2']).tooFew.map((v) => v.key)).toEqual(['1:1'])
    expect(auditDeliveries(wire.log, times({ '1:1': 2, '1:2': 2 }), ['1:1', '1:2']).tooMany.map((v) => v.key)).toEqual(['1:2'])
  })

  it('blames a loss on the broker only where the wire shows it: never sent, or not sent again after a kept session', () => {
    const wire = new Wire().connect(false).toClient(publish('1:1', 1, 1)).toClient(publish('2:1', 2)).connect(true).toClient(publish('1:2', 3, 1))
    const audit = auditDeliveries(wire.log, times({}), ['1:0', '1:1', '2:1', '1:2'])
    expect(audit.lost).toEqual({ neverSent: ['1:0'], idReused: [], notResent: ['1:1', '2:1'], sessionLost: [], byClient: ['1:2'] })
  })

  it('counts the CONNACKs written and the sessions cut after one', () => {
    const wire = new Wire().connect(false).connect(true).connect(true)
    wire.log.push({ conn: 3, dir: 'toClient', packet: { cmd: 'connack', returnCode: 5, sessionPresent: false } })
    const connections = new Map<number, WireConnection>([
      [0, { conn: 0, cut: true, closed: true }],
      [1, { conn: 1, cut: true, closed: true }],
      [2, { conn: 2, cut: false, closed: false }],
      [3, { conn: 3, cut: true, closed: true }],
    ])
    expect(auditConnections(wire.log, connections)).toEqual({ connacks: 3, cutAfterConnack: 2 })
  })
})
