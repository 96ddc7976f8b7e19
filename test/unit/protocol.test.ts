import { describe, expect, it } from 'vitest'
import type { IncomingPacket, IncomingPublishPacket, PublishPacket } from '../../src/codec/packets.js'
import { ConnectionRefusedError, KeepaliveTimeoutError, OfflineError, ProtocolError, QueueFullError, ReasonCodeError } from '../../src/errors.js'
import { type Action, Protocol, type ProtocolOptions } from '../../src/protocol/protocol.js'

function protocol(overrides: Partial<ProtocolOptions> = {}): Protocol {
  return new Protocol({
    protocolVersion: 4,
    clientId: 'c1',
    clean: true,
    keepalive: 10,
    maxInflight: 20,
    queueLimit: 100,
    queueQoS0: true,
    ...overrides,
  })
}

function connected(overrides: Partial<ProtocolOptions> = {}, t = 0): Protocol {
  const p = protocol(overrides)
  p.connectionOpened(t)
  p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, t)
  return p
}

const sent = (actions: Action[]) => actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []))
const cmds = (actions: Action[]) => sent(actions).map((p) => p.cmd)
const settled = (actions: Action[]) => actions.flatMap((a) => (a.type === 'settle' ? [a] : []))
const messages = (actions: Action[]) => actions.flatMap((a) => (a.type === 'message' ? [a.packet] : []))
const closes = (actions: Action[]) => actions.flatMap((a) => (a.type === 'close' ? [a] : []))

function pub(topic: string, qos: 0 | 1 | 2, payload = 'x'): PublishPacket {
  return { cmd: 'publish', topic, payload, qos, retain: false, dup: false }
}

function incoming(qos: 0 | 1 | 2, messageId?: number, dup = false): IncomingPublishPacket {
  const p: IncomingPublishPacket = { cmd: 'publish', topic: 't', payload: new Uint8Array([1]), qos, retain: false, dup }
  if (messageId !== undefined) p.messageId = messageId
  return p
}

describe('connecting', () => {
  it('sends CONNECT with the session options when the connection opens', () => {
    const p = protocol({ username: 'u', password: new Uint8Array([1]), clean: false, keepalive: 30 })
    const [connect] = sent(p.connectionOpened(0))
    expect(connect).toMatchObject({ cmd: 'connect', clientId: 'c1', clean: false, keepalive: 30, username: 'u', protocolVersion: 4 })
  })

  it('reports connected on an accepting CONNACK', () => {
    const p = protocol()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: true, returnCode: 0 }, 5)
    expect(actions[0]).toMatchObject({ type: 'connected', connack: { sessionPresent: true } })
    expect(p.connected).toBe(true)
  })

  it('reports a refusal with the return code and a readable reason, then closes', () => {
    const p = protocol()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 4 }, 1)
    const refused = actions.find((a) => a.type === 'refused')
    expect(refused?.type === 'refused' && refused.error).toBeInstanceOf(ConnectionRefusedError)
    expect(refused?.type === 'refused' && refused.error.returnCode).toBe(4)
    expect(refused?.type === 'refused' && refused.error.message).toMatch(/bad user name or password/)
    expect(closes(actions)).toHaveLength(1)
    expect(p.connected).toBe(false)
  })

  it('treats any packet before CONNACK as a protocol error and closes', () => {
    const p = protocol()
    p.connectionOpened(0)
    const [close] = closes(p.packetReceived({ cmd: 'pingresp' }, 1))
    expect(close?.error).toBeInstanceOf(ProtocolError)
  })

  it('treats a CONNECT or SUBSCRIBE from the broker as a protocol error', () => {
    const p = connected()
    const [close] = closes(p.packetReceived({ cmd: 'subscribe', messageId: 1, subscriptions: [] }, 1))
    expect(close?.error).toBeInstanceOf(ProtocolError)
  })
})

describe('publishing', () => {
  it('queues publishes made before CONNACK and sends them in order after it', () => {
    const p = protocol()
    p.connectionOpened(0)
    expect(cmds(p.publish(1, pub('a', 0), 0))).toEqual([])
    expect(cmds(p.publish(2, pub('b', 1), 0))).toEqual([])
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 1)
    expect(sent(actions).map((s) => (s as PublishPacket).topic)).toEqual(['a', 'b'])
    expect(settled(actions).map((s) => s.op)).toEqual([1])
  })

  it('settles QoS 0 as soon as it is written', () => {
    const p = connected()
    const actions = p.publish(7, pub('a', 0), 1)
    expect(cmds(actions)).toEqual(['publish'])
    expect(settled(actions)).toEqual([{ type: 'settle', op: 7 }])
  })

  it('settles QoS 1 on PUBACK and releases the id', () => {
    const p = connected()
    const [packet] = sent(p.publish(1, pub('a', 1), 1)) as PublishPacket[]
    expect(packet?.messageId).toBe(1)
    const actions = p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)
    expect(settled(actions)).toEqual([{ type: 'settle', op: 1 }])
    expect(p.idle).toBe(true)
  })

  it('runs QoS 2 through PUBREC, PUBREL and PUBCOMP before settling', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    const rec = p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)
    expect(sent(rec)).toEqual([{ cmd: 'pubrel', messageId: 1 }])
    expect(settled(rec)).toEqual([])
    // A duplicate PUBREC is answered with PUBREL again.
    expect(sent(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 3))).toEqual([{ cmd: 'pubrel', messageId: 1 }])
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 4))).toEqual([{ type: 'settle', op: 1 }])
    expect(p.idle).toBe(true)
  })

  it('ignores acks for ids it is not waiting on', () => {
    const p = connected()
    expect(p.packetReceived({ cmd: 'puback', messageId: 99 }, 1)).toEqual([])
    p.publish(1, pub('a', 1), 1)
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2))).toEqual([])
  })

  it('keeps at most maxInflight QoS 1/2 publishes unacknowledged and sends the rest as acks come', () => {
    const p = connected({ maxInflight: 2 })
    const first = [1, 2, 3].flatMap((op) => sent(p.publish(op, pub(`t${op}`, 1), 1)))
    expect(first.map((s) => (s as PublishPacket).topic)).toEqual(['t1', 't2'])
    // QoS 0 behind a blocked QoS 1 waits too, so order is kept.
    expect(cmds(p.publish(4, pub('t4', 0), 1))).toEqual([])
    const next = sent(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)) as PublishPacket[]
    expect(next.map((s) => s.topic)).toEqual(['t3', 't4'])
  })

  it('narrows the window to the broker receiveMaximum (MQTT 5)', () => {
    const p = protocol({ protocolVersion: 5, maxInflight: 10 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 1 } }, 0)
    expect(sent(p.publish(1, pub('a', 1), 1))).toHaveLength(1)
    expect(sent(p.publish(2, pub('b', 1), 1))).toHaveLength(0)
  })

  it('rejects with the reason code when an MQTT 5 PUBACK reports failure', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 1), 1)
    const [s] = settled(p.packetReceived({ cmd: 'puback', messageId: 1, reasonCode: 0x87 }, 2))
    expect(s?.error).toBeInstanceOf(ReasonCodeError)
    expect((s?.error as ReasonCodeError).reasonCode).toBe(0x87)
  })

  it('rejects a new operation with QueueFullError when the queue is full', () => {
    const p = protocol({ queueLimit: 2 })
    p.publish(1, pub('a', 1), 0)
    p.publish(2, pub('b', 1), 0)
    const [s] = settled(p.publish(3, pub('c', 1), 0))
    expect(s?.op).toBe(3)
    expect(s?.error).toBeInstanceOf(QueueFullError)
    expect(p.queued).toBe(2)
  })
})

describe('offline publishing', () => {
  it('queues QoS 0 while offline by default and sends it after CONNACK', () => {
    const p = protocol()
    expect(settled(p.publish(1, pub('a', 0), 0))).toEqual([])
    p.connectionOpened(1)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 2)
    expect(cmds(actions)).toEqual(['publish'])
  })

  it('rejects QoS 0 while offline with OfflineError when queueQoS0 is off, but still queues QoS 1', () => {
    const p = protocol({ queueQoS0: false })
    const [s] = settled(p.publish(1, pub('a', 0), 0))
    expect(s?.error).toBeInstanceOf(OfflineError)
    expect(settled(p.publish(2, pub('b', 1), 0))).toEqual([])
    expect(p.queued).toBe(1)
  })

  it('sends restored messages ahead of what was queued, and beyond the queue limit', () => {
    const p = protocol({ queueLimit: 1 })
    p.publish(1, pub('new', 1), 0)
    p.restore([{ op: 8, packet: pub('old-1', 1) }, { op: 9, packet: pub('old-2', 2) }], 0)
    p.connectionOpened(1)
    const packets = sent(p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 2)) as PublishPacket[]
    expect(packets.map((x) => x.topic)).toEqual(['old-1', 'old-2', 'new'])
  })
})

describe('receiving', () => {
  it('delivers QoS 0 without an ack', () => {
    const p = connected()
    const actions = p.packetReceived(incoming(0), 1)
    expect(messages(actions)).toHaveLength(1)
    expect(sent(actions)).toEqual([])
  })

  it('delivers QoS 1 and answers PUBACK', () => {
    const p = connected()
    const actions = p.packetReceived(incoming(1, 5), 1)
    expect(messages(actions)).toHaveLength(1)
    expect(sent(actions)).toEqual([{ cmd: 'puback', messageId: 5 }])
  })

  it('delivers QoS 2 once even when the broker re-sends it before PUBREL', () => {
    const p = connected()
    const first = p.packetReceived(incoming(2, 9), 1)
    expect(messages(first)).toHaveLength(1)
    expect(sent(first)).toEqual([{ cmd: 'pubrec', messageId: 9 }])
    const again = p.packetReceived(incoming(2, 9, true), 2)
    expect(messages(again)).toHaveLength(0)
    expect(sent(again)).toEqual([{ cmd: 'pubrec', messageId: 9 }])
    expect(sent(p.packetReceived({ cmd: 'pubrel', messageId: 9 }, 3))).toEqual([{ cmd: 'pubcomp', messageId: 9 }])
    // After PUBREL the id is free: the next PUBLISH with it is a new message.
    expect(messages(p.packetReceived(incoming(2, 9), 4))).toHaveLength(1)
  })

  it('remembers undelivered QoS 2 state across a reconnect when the session is kept', () => {
    const p = connected({ clean: false })
    p.packetReceived(incoming(2, 3), 1)
    p.connectionClosed()
    p.connectionOpened(2)
    p.packetReceived({ cmd: 'connack', sessionPresent: true, returnCode: 0 }, 2)
    expect(messages(p.packetReceived(incoming(2, 3, true), 3))).toHaveLength(0)
  })
})

describe('across a lost connection', () => {
  it('re-sends unacknowledged publishes with DUP and PUBREL for QoS 2 past PUBREC, before queued ones', () => {
    const p = connected()
    p.publish(1, pub('q1', 1), 1)
    p.publish(2, pub('q2', 2), 1)
    p.packetReceived({ cmd: 'pubrec', messageId: 2 }, 2)
    p.connectionClosed()
    p.publish(3, pub('later', 1), 3)
    p.connectionOpened(4)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: true, returnCode: 0 }, 5)
    const packets = sent(actions)
    expect(packets[0]).toMatchObject({ cmd: 'publish', topic: 'q1', dup: true, messageId: 1 })
    expect(packets[1]).toEqual({ cmd: 'pubrel', messageId: 2 })
    expect(packets[2]).toMatchObject({ cmd: 'publish', topic: 'later', dup: false })
    expect(settled(actions)).toEqual([])
  })

  it('re-sends an unacknowledged SUBSCRIBE after the reconnect', () => {
    const p = connected()
    p.subscribe(1, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }] }, 1)
    p.connectionClosed()
    p.connectionOpened(2)
    const packets = sent(p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 3))
    expect(packets).toMatchObject([{ cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }] }])
  })

  it('rejects every queued and in-flight operation on failAll', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    const error = new ProtocolError('gone')
    const s = settled(p.failAll(error))
    expect(s.map((x) => x.op).sort()).toEqual([1, 2])
    expect(s.every((x) => x.error === error)).toBe(true)
    expect(p.idle).toBe(true)
  })
})

describe('subscriptions', () => {
  it('settles SUBSCRIBE with the granted codes of SUBACK', () => {
    const p = connected()
    const [packet] = sent(p.subscribe(4, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 2 }, { topic: 'b', qos: 1 }] }, 1))
    const id = (packet as { messageId: number }).messageId
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: id, granted: [2, 0x80] }, 2))).toEqual([
      { type: 'settle', op: 4, codes: [2, 0x80] },
    ])
  })

  it('settles UNSUBSCRIBE on UNSUBACK', () => {
    const p = connected()
    const [packet] = sent(p.unsubscribe(4, { cmd: 'unsubscribe', unsubscriptions: ['a'] }, 1))
    const id = (packet as { messageId: number }).messageId
    expect(settled(p.packetReceived({ cmd: 'unsuback', messageId: id }, 2))).toEqual([{ type: 'settle', op: 4, codes: [] }])
  })
})

describe('keepalive', () => {
  it('pings after a keepalive period without traffic, and finds a dead broker half a period later', () => {
    const p = connected({ keepalive: 10 }, 0)
    expect(p.nextDeadline()).toBe(10_000)
    expect(p.tick(9_999)).toEqual([])
    expect(sent(p.tick(10_000))).toEqual([{ cmd: 'pingreq' }])
    expect(p.nextDeadline()).toBe(15_000)
    expect(p.tick(14_999)).toEqual([])
    const [close] = closes(p.tick(15_000))
    expect(close?.error).toBeInstanceOf(KeepaliveTimeoutError)
  })

  it('keeps the connection when PINGRESP arrives and pings again a period after the last ping', () => {
    const p = connected({ keepalive: 10 }, 0)
    p.tick(10_000)
    p.packetReceived({ cmd: 'pingresp' }, 10_050)
    expect(closes(p.tick(15_000))).toEqual([])
    expect(p.nextDeadline()).toBe(20_000)
  })

  it('pings when the broker has been silent even while the client keeps sending', () => {
    const p = connected({ keepalive: 10 }, 0)
    for (let t = 1_000; t < 10_000; t += 1_000) p.publish(t, pub('a', 0), t)
    expect(sent(p.tick(10_000))).toEqual([{ cmd: 'pingreq' }])
  })

  it('counts any packet from the broker as an answer to a ping', () => {
    const p = connected({ keepalive: 10 }, 0)
    p.tick(10_000)
    p.packetReceived(incoming(0), 12_000)
    expect(closes(p.tick(15_000))).toEqual([])
  })

  it('has no deadline when keepalive is 0 or the connection is down', () => {
    expect(connected({ keepalive: 0 }).nextDeadline()).toBeUndefined()
    const p = connected()
    p.connectionClosed()
    expect(p.nextDeadline()).toBeUndefined()
  })
})

describe('ending', () => {
  it('sends DISCONNECT and closes only after in-flight messages settle', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    expect(cmds(p.end(2))).toEqual([])
    const actions = p.packetReceived({ cmd: 'puback', messageId: 1 }, 3)
    expect(cmds(actions)).toEqual(['disconnect'])
    expect(closes(actions)).toEqual([{ type: 'close' }])
  })

  it('sends DISCONNECT at once when idle', () => {
    const p = connected()
    expect(cmds(p.end(1))).toEqual(['disconnect'])
  })
})

describe('broker DISCONNECT (MQTT 5)', () => {
  it('reports it and closes with the reason', () => {
    const p = connected({ protocolVersion: 5 })
    const packet: IncomingPacket = { cmd: 'disconnect', reasonCode: 0x8b }
    const actions = p.packetReceived(packet, 1)
    expect(actions[0]).toEqual({ type: 'disconnected', packet })
    expect(closes(actions)[0]?.error?.message).toMatch(/server shutting down/)
  })
})
