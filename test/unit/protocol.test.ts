import { describe, expect, it } from 'vitest'
import type { IncomingPacket, IncomingPublishPacket, PublishPacket } from '../../src/codec/packets.js'
import { ConnectionClosedError, ConnectionRefusedError, KeepaliveTimeoutError, OfflineError, ProtocolError, QueueFullError, ReasonCodeError } from '../../src/errors.js'
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

// ---- deeper coverage of the state machine ----

const accept = (sessionPresent = false): IncomingPacket => ({ cmd: 'connack', sessionPresent, returnCode: 0 })
const topics = (actions: Action[]) => sent(actions).map((p) => (p as PublishPacket).topic)
const subscribePacket = (topic: string) => ({ cmd: 'subscribe' as const, subscriptions: [{ topic, qos: 1 as const }] })
const unsubscribePacket = (topic: string) => ({ cmd: 'unsubscribe' as const, unsubscriptions: [topic] })

/** Drops the connection and opens a new one at `t`, answering with an accepting CONNACK; returns what that CONNACK caused. */
function reconnect(p: Protocol, t: number, sessionPresent = true): Action[] {
  p.connectionClosed()
  p.connectionOpened(t)
  return p.packetReceived(accept(sessionPresent), t)
}

describe('the CONNECT packet', () => {
  it('carries exactly the session fields, and no credentials or will when none are set', () => {
    const p = protocol({ clientId: 'abc', clean: true, keepalive: 45 })
    // Strict: a field left unset is absent, not present with the value undefined.
    expect(sent(p.connectionOpened(0))).toStrictEqual([
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'abc', clean: true, keepalive: 45 },
    ])
  })

  it('carries the password and the will when set', () => {
    const will = { topic: 'w', payload: new Uint8Array([9]), qos: 1 as const, retain: true }
    const p = protocol({ password: new Uint8Array([7]), will })
    const [connect] = sent(p.connectionOpened(0))
    expect(connect).toEqual({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'c1',
      clean: true,
      keepalive: 10,
      password: new Uint8Array([7]),
      will,
    })
  })

  it('carries CONNECT properties on MQTT 5 and leaves them out on 3.1.1', () => {
    const properties = { sessionExpiryInterval: 60 }
    const [v5] = sent(protocol({ protocolVersion: 5, properties }).connectionOpened(0))
    expect(v5).toMatchObject({ protocolVersion: 5, properties })
    const [v4] = sent(protocol({ protocolVersion: 4, properties }).connectionOpened(0))
    expect(v4).not.toHaveProperty('properties')
  })

  it('is not connected before CONNACK, nor after the connection closes', () => {
    const p = protocol()
    expect(p.connected).toBe(false)
    p.connectionOpened(0)
    expect(p.connected).toBe(false)
    p.packetReceived(accept(), 1)
    expect(p.connected).toBe(true)
    expect(p.connectionClosed()).toEqual([])
    expect(p.connected).toBe(false)
  })
})

describe('CONNACK handling', () => {
  it('reports connected before re-sending or sending anything', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    p.connectionOpened(0)
    const actions = p.packetReceived(accept(), 1)
    expect(actions.map((a) => a.type)).toEqual(['connected', 'send'])
  })

  it('treats a CONNACK without a return or reason code as an acceptance', () => {
    const p = protocol()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false }, 1)
    expect(actions).toEqual([{ type: 'connected', connack: { cmd: 'connack', sessionPresent: false } }])
    expect(p.connected).toBe(true)
  })

  it('refuses on an MQTT 5 reason code, naming it by the 5.0 table, and closes with the same error', () => {
    const p = protocol({ protocolVersion: 5 })
    p.connectionOpened(0)
    const connack: IncomingPacket = { cmd: 'connack', sessionPresent: false, reasonCode: 0x86 }
    const actions = p.packetReceived(connack, 1)
    expect(actions.map((a) => a.type)).toEqual(['refused', 'close'])
    const [refused, close] = actions
    if (refused?.type !== 'refused' || close?.type !== 'close') throw new Error('expected refused then close')
    expect(refused.connack).toBe(connack)
    expect(refused.error.returnCode).toBe(0x86)
    expect(refused.error.message).toBe('Connection refused (code 134): bad user name or password')
    expect(close.error).toBe(refused.error)
    expect(p.connected).toBe(false)
  })

  it('prefers the reason code to the return code when a CONNACK carries both', () => {
    const p = protocol({ protocolVersion: 5 })
    p.connectionOpened(0)
    const [refused] = p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0x87, returnCode: 0 }, 1)
    expect(refused?.type === 'refused' && refused.error.returnCode).toBe(0x87)
  })

  it('sends nothing queued after a refusal', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 5 }, 1)
    expect(sent(actions)).toEqual([])
    expect(settled(actions)).toEqual([])
    expect(p.queued).toBe(1)
  })

  it('stops being connected, and sends nothing, on a second CONNACK', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    expect(sent(p.packetReceived(accept(), 2))).toEqual([])
    expect(p.connected).toBe(false)
  })

  it('closes with a protocol error on a second CONNACK', () => {
    const p = connected()
    const actions = p.packetReceived(accept(), 2)
    expect(actions).toEqual([{ type: 'close', error: expect.any(ProtocolError) }])
    expect(closes(actions)[0]?.error?.message).toBe('unexpected CONNACK')
  })

  it('names the packet that came before CONNACK in the protocol error', () => {
    const p = protocol()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'suback', messageId: 1, granted: [0] }, 1)
    expect(actions).toHaveLength(1)
    expect(closes(actions)[0]?.error?.message).toBe('expected CONNACK first, got SUBACK')
    expect(p.connected).toBe(false)
  })

  it('names a packet the broker must never send in the protocol error', () => {
    const p = connected()
    const [close] = closes(p.packetReceived({ cmd: 'pingreq' }, 1))
    expect(close?.error?.message).toBe('unexpected PINGREQ from broker')
    expect(p.connected).toBe(false)
  })
})

describe('the in-flight window', () => {
  it('uses maxInflight when the broker Receive Maximum is larger', () => {
    const p = protocol({ protocolVersion: 5, maxInflight: 2 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 50 } }, 0)
    const out = [1, 2, 3].flatMap((op) => sent(p.publish(op, pub(`t${op}`, 1), 1)))
    expect(out).toHaveLength(2)
    expect(p.inflightCount).toBe(2)
    expect(p.queued).toBe(1)
  })

  it('goes back to maxInflight on a reconnect whose CONNACK has no Receive Maximum', () => {
    const p = protocol({ protocolVersion: 5, maxInflight: 3 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 1 } }, 0)
    p.connectionClosed()
    p.connectionOpened(1)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 1)
    const out = [1, 2, 3, 4].flatMap((op) => sent(p.publish(op, pub(`t${op}`, 1), 2)))
    expect(out).toHaveLength(3)
  })

  it('holds back QoS 1 and 2 alike once the window is full, and fills it again as each is acknowledged', () => {
    const p = connected({ maxInflight: 1 })
    expect(topics(p.publish(1, pub('q2', 2), 1))).toEqual(['q2'])
    expect(topics(p.publish(2, pub('q1', 1), 1))).toEqual([])
    expect(topics(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2))).toEqual([undefined])
    expect(topics(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 3))).toEqual(['q1'])
  })

  it('does not count SUBSCRIBE or UNSUBSCRIBE against the publish window', () => {
    const p = connected({ maxInflight: 1 })
    expect(cmds(p.subscribe(1, subscribePacket('s'), 1))).toEqual(['subscribe'])
    expect(cmds(p.unsubscribe(2, unsubscribePacket('u'), 1))).toEqual(['unsubscribe'])
    expect(cmds(p.publish(3, pub('a', 1), 1))).toEqual(['publish'])
    // The window is now full of publishes, yet a SUBSCRIBE at the head of the queue still goes.
    expect(cmds(p.subscribe(4, subscribePacket('t'), 1))).toEqual(['subscribe'])
    expect(p.inflightCount).toBe(4)
  })

  it('keeps a SUBSCRIBE behind a blocked publish, so operations go out in the order they were made', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    expect(cmds(p.subscribe(3, subscribePacket('s'), 1))).toEqual([])
    expect(cmds(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2))).toEqual(['publish', 'subscribe'])
  })

  it('sends QoS 0 without a packet id and keeps nothing in flight for it', () => {
    const p = connected()
    const [packet] = sent(p.publish(1, pub('a', 0), 1))
    expect(packet).toEqual(pub('a', 0))
    expect(p.inflightCount).toBe(0)
    expect(p.idle).toBe(true)
    // The id space is untouched: the next QoS 1 publish gets id 1.
    expect(sent(p.publish(2, pub('b', 1), 1))).toMatchObject([{ messageId: 1 }])
  })

  it('gives every in-flight operation its own id, in rising order', () => {
    const p = connected()
    const ids = [
      ...sent(p.publish(1, pub('a', 1), 1)),
      ...sent(p.subscribe(2, subscribePacket('s'), 1)),
      ...sent(p.publish(3, pub('b', 2), 1)),
      ...sent(p.unsubscribe(4, unsubscribePacket('s'), 1)),
    ].map((x) => (x as { messageId: number }).messageId)
    expect(ids).toEqual([1, 2, 3, 4])
  })

})

describe('queue limits', () => {
  it('counts only operations waiting to be sent, not those in flight', () => {
    const p = connected({ queueLimit: 1 })
    const s = [1, 2, 3, 4].flatMap((op) => settled(p.publish(op, pub('a', 1), 1)))
    expect(s).toEqual([])
    expect(p.inflightCount).toBe(4)
  })

  it('applies to SUBSCRIBE and UNSUBSCRIBE too, naming the limit in the error', () => {
    const p = protocol({ queueLimit: 1 })
    expect(p.subscribe(1, subscribePacket('a'), 0)).toEqual([])
    const [sub] = settled(p.subscribe(2, subscribePacket('b'), 0))
    const [unsub] = settled(p.unsubscribe(3, unsubscribePacket('a'), 0))
    expect(sub).toEqual({ type: 'settle', op: 2, error: expect.any(QueueFullError) })
    expect(unsub).toEqual({ type: 'settle', op: 3, error: expect.any(QueueFullError) })
    expect(sub?.error?.message).toBe('Offline queue is full (1 operations)')
    expect(p.queued).toBe(1)
  })

  it('accepts operations again once the queue drains', () => {
    const p = protocol({ queueLimit: 1 })
    p.publish(1, pub('a', 1), 0)
    p.connectionOpened(1)
    p.packetReceived(accept(), 1)
    p.connectionClosed()
    expect(p.publish(2, pub('b', 1), 2)).toEqual([])
    expect(p.queued).toBe(1)
  })

  it('rejects a QoS 0 publish on a full queue while offline', () => {
    const p = protocol({ queueLimit: 1 })
    p.publish(1, pub('a', 0), 0)
    const [s] = settled(p.publish(2, pub('b', 0), 0))
    expect(s?.error).toBeInstanceOf(QueueFullError)
  })
})

describe('QoS 0 while not connected', () => {
  it('sends QoS 0 at once while connected even when queueQoS0 is off', () => {
    const p = connected({ queueQoS0: false })
    const actions = p.publish(1, pub('a', 0), 1)
    expect(cmds(actions)).toEqual(['publish'])
    expect(settled(actions)).toEqual([{ type: 'settle', op: 1 }])
  })

  it('rejects QoS 0 with OfflineError while waiting for CONNACK when queueQoS0 is off', () => {
    const p = protocol({ queueQoS0: false })
    p.connectionOpened(0)
    const actions = p.publish(1, pub('a', 0), 0)
    expect(actions).toEqual([{ type: 'settle', op: 1, error: expect.any(OfflineError) }])
    expect(p.queued).toBe(0)
  })

  it('queues QoS 2 while offline when queueQoS0 is off', () => {
    const p = protocol({ queueQoS0: false })
    expect(p.publish(1, pub('a', 2), 0)).toEqual([])
    expect(p.queued).toBe(1)
  })
})

describe('restored messages', () => {
  it('are sent at once when restored while connected, and settle on their acknowledgements', () => {
    const p = connected()
    const actions = p.restore([{ op: 8, packet: pub('old-1', 1) }, { op: 9, packet: pub('old-2', 2) }], 1)
    expect(sent(actions)).toMatchObject([
      { topic: 'old-1', messageId: 1 },
      { topic: 'old-2', messageId: 2 },
    ])
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2))).toEqual([{ type: 'settle', op: 8 }])
    p.packetReceived({ cmd: 'pubrec', messageId: 2 }, 3)
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 2 }, 4))).toEqual([{ type: 'settle', op: 9 }])
  })

  it('are limited by the in-flight window like any publish', () => {
    const p = connected({ maxInflight: 1 })
    const actions = p.restore([{ op: 8, packet: pub('old-1', 1) }, { op: 9, packet: pub('old-2', 1) }], 1)
    expect(topics(actions)).toEqual(['old-1'])
    expect(p.queued).toBe(1)
  })

  it('fail with the reason code when a restored QoS 2 publish is refused at PUBREC', () => {
    const p = connected({ protocolVersion: 5 })
    p.restore([{ op: 9, packet: pub('old', 2) }], 1)
    const actions = p.packetReceived({ cmd: 'pubrec', messageId: 1, reasonCode: 0x97 }, 2)
    expect(settled(actions)).toEqual([{ type: 'settle', op: 9, error: expect.any(ReasonCodeError) }])
    expect(sent(actions)).toEqual([])
  })

  it('wait while offline without being sent', () => {
    const p = protocol()
    expect(p.restore([{ op: 8, packet: pub('old', 1) }], 0)).toEqual([])
    expect(p.queued).toBe(1)
  })
})

describe('publish acknowledgements', () => {
  it('ignores PUBREC and PUBCOMP for a QoS 1 publish', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    expect(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2)).toEqual([])
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 1 }, 3))).toEqual([{ type: 'settle', op: 1 }])
  })

  it('ignores PUBACK and an early PUBCOMP for a QoS 2 publish', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2)).toEqual([])
    p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 3)
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 4)).toEqual([])
    expect(p.inflightCount).toBe(1)
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 5))).toEqual([{ type: 'settle', op: 1 }])
  })

  it('ignores a publish acknowledgement carrying the id of a SUBSCRIBE', () => {
    const p = connected()
    p.subscribe(1, subscribePacket('s'), 1)
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2)).toEqual([])
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1] }, 3))).toEqual([{ type: 'settle', op: 1, codes: [1] }])
  })

  it('ignores a late duplicate PUBACK after the publish settled', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 3)).toEqual([])
  })

  it('treats reason codes below 0x80 as success and 0x80 as failure (MQTT 5)', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 1, reasonCode: 0x10 }, 2))).toEqual([{ type: 'settle', op: 1 }])
    const [s] = settled(p.packetReceived({ cmd: 'puback', messageId: 2, reasonCode: 0x80 }, 2))
    expect(s?.op).toBe(2)
    expect(s?.error).toBeInstanceOf(ReasonCodeError)
    expect(s?.error?.message).toBe('Publish failed with reason code 0x80')
  })

  it('fails a QoS 2 publish refused at PUBREC without sending PUBREL, and frees its window slot', () => {
    const p = connected({ protocolVersion: 5, maxInflight: 1 })
    p.publish(1, pub('a', 2), 1)
    p.publish(2, pub('b', 1), 1)
    const actions = p.packetReceived({ cmd: 'pubrec', messageId: 1, reasonCode: 0x87 }, 2)
    expect(settled(actions)).toEqual([{ type: 'settle', op: 1, error: expect.any(ReasonCodeError) }])
    expect(topics(actions)).toEqual(['b'])
  })

  it('fails a QoS 2 publish whose PUBCOMP reports a failure', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 2), 1)
    p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)
    const [s] = settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1, reasonCode: 0x92 }, 3))
    expect((s?.error as ReasonCodeError).reasonCode).toBe(0x92)
    expect(p.idle).toBe(true)
  })
})

describe('subscription acknowledgements', () => {
  it('settles UNSUBSCRIBE with the MQTT 5 reason codes of UNSUBACK', () => {
    const p = connected({ protocolVersion: 5 })
    p.unsubscribe(4, { cmd: 'unsubscribe', unsubscriptions: ['a', 'b'] }, 1)
    expect(settled(p.packetReceived({ cmd: 'unsuback', messageId: 1, granted: [0, 0x11] }, 2))).toEqual([
      { type: 'settle', op: 4, codes: [0, 0x11] },
    ])
    expect(p.idle).toBe(true)
  })

  it('ignores a SUBACK for an UNSUBSCRIBE, an UNSUBACK for a SUBSCRIBE, and either for a publish or an unknown id', () => {
    const p = connected()
    p.subscribe(1, subscribePacket('s'), 1)
    p.unsubscribe(2, unsubscribePacket('u'), 1)
    p.publish(3, pub('a', 1), 1)
    expect(p.packetReceived({ cmd: 'unsuback', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'suback', messageId: 2, granted: [0] }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'suback', messageId: 3, granted: [0] }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'unsuback', messageId: 3 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'suback', messageId: 42, granted: [0] }, 2)).toEqual([])
    expect(p.inflightCount).toBe(3)
  })

  it('sends a SUBSCRIBE queued behind others once they settle', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    p.unsubscribe(3, unsubscribePacket('u'), 1)
    const actions = p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)
    expect(sent(actions)).toMatchObject([{ cmd: 'publish', topic: 'b', messageId: 2 }, { cmd: 'unsubscribe', unsubscriptions: ['u'], messageId: 3 }])
    expect(settled(p.packetReceived({ cmd: 'unsuback', messageId: 3 }, 3))).toEqual([{ type: 'settle', op: 3, codes: [] }])
  })
})

describe('incoming QoS 2, exactly once per flow', () => {
  it('delivers the message with its content and answers PUBREC, then PUBCOMP on PUBREL', () => {
    const p = connected()
    const packet = incoming(2, 4)
    expect(p.packetReceived(packet, 1)).toEqual([
      { type: 'message', packet },
      { type: 'send', packet: { cmd: 'pubrec', messageId: 4 } },
    ])
    expect(p.packetReceived({ cmd: 'pubrel', messageId: 4 }, 2)).toEqual([{ type: 'send', packet: { cmd: 'pubcomp', messageId: 4 } }])
  })

  it('delivers a QoS 1 message before acknowledging it, and every copy of it', () => {
    const p = connected()
    const packet = incoming(1, 4)
    expect(p.packetReceived(packet, 1)).toEqual([
      { type: 'message', packet },
      { type: 'send', packet: { cmd: 'puback', messageId: 4 } },
    ])
    expect(messages(p.packetReceived(incoming(1, 4, true), 2))).toHaveLength(1)
  })

  it('keeps flows with different ids apart: each is delivered once, and PUBREL of one does not free another', () => {
    const p = connected()
    expect(messages(p.packetReceived(incoming(2, 1), 1))).toHaveLength(1)
    expect(messages(p.packetReceived(incoming(2, 2), 1))).toHaveLength(1)
    p.packetReceived({ cmd: 'pubrel', messageId: 1 }, 2)
    expect(messages(p.packetReceived(incoming(2, 2, true), 3))).toHaveLength(0)
    expect(messages(p.packetReceived(incoming(2, 1), 3))).toHaveLength(1)
  })

  it('answers a PUBREL for an id it does not know with PUBCOMP', () => {
    const p = connected()
    expect(sent(p.packetReceived({ cmd: 'pubrel', messageId: 77 }, 1))).toEqual([{ cmd: 'pubcomp', messageId: 77 }])
  })

  it('forgets the ids awaiting PUBREL when the broker starts a new session (sessionPresent 0)', () => {
    const p = connected({ clean: false })
    p.packetReceived(incoming(2, 3), 1)
    reconnect(p, 2, false)
    const again = p.packetReceived(incoming(2, 3), 3)
    expect(messages(again)).toHaveLength(1)
    expect(sent(again)).toEqual([{ cmd: 'pubrec', messageId: 3 }])
  })

  it('still knows a flow after a reconnect that keeps the session, until its PUBREL', () => {
    const p = connected({ clean: false })
    p.packetReceived(incoming(2, 3), 1)
    reconnect(p, 2, true)
    expect(messages(p.packetReceived(incoming(2, 3, true), 3))).toHaveLength(0)
    expect(sent(p.packetReceived({ cmd: 'pubrel', messageId: 3 }, 4))).toEqual([{ cmd: 'pubcomp', messageId: 3 }])
    expect(messages(p.packetReceived(incoming(2, 3), 5))).toHaveLength(1)
  })
})

describe('re-sending after a reconnect', () => {
  it('re-sends every unacknowledged operation in its original order, then the queued ones', () => {
    const p = connected({ maxInflight: 3 })
    p.publish(1, pub('p1', 1), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.publish(3, pub('p2', 2), 1)
    p.unsubscribe(4, unsubscribePacket('u'), 1)
    p.publish(5, pub('p3', 2), 1)
    p.publish(6, pub('waiting', 1), 1)
    p.packetReceived({ cmd: 'pubrec', messageId: 3 }, 2)
    const actions = reconnect(p, 3)
    expect(actions[0]?.type).toBe('connected')
    expect(sent(actions)).toEqual([
      { ...pub('p1', 1), dup: true, messageId: 1 },
      { ...subscribePacket('s'), messageId: 2 },
      { cmd: 'pubrel', messageId: 3 },
      { ...unsubscribePacket('u'), messageId: 4 },
      { ...pub('p3', 2), dup: true, messageId: 5 },
    ])
    expect(settled(actions)).toEqual([])
    expect(p.queued).toBe(1)
  })

  it('does not mark the original packet as a duplicate when re-sending a copy with DUP', () => {
    const p = connected()
    const [original] = sent(p.publish(1, pub('a', 1), 1)) as PublishPacket[]
    reconnect(p, 2)
    expect(original?.dup).toBe(false)
    const [again] = sent(reconnect(p, 3)) as PublishPacket[]
    expect(again).toMatchObject({ topic: 'a', dup: true, messageId: 1 })
  })

  it('completes a re-sent QoS 2 publish when its PUBCOMP comes after the re-sent PUBREL', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)
    expect(sent(reconnect(p, 3))).toEqual([{ cmd: 'pubrel', messageId: 1 }])
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 4))).toEqual([{ type: 'settle', op: 1 }])
    expect(p.idle).toBe(true)
  })

  it('re-sends nothing for operations already acknowledged', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)
    p.packetReceived({ cmd: 'suback', messageId: 2, granted: [1] }, 2)
    expect(sent(reconnect(p, 3))).toEqual([])
  })

  it('keeps queued operations waiting, unsent, while offline', () => {
    const p = connected()
    p.connectionClosed()
    expect(p.publish(1, pub('a', 1), 2)).toEqual([])
    expect(p.subscribe(2, subscribePacket('s'), 2)).toEqual([])
    expect(p.queued).toBe(2)
  })
})

describe('failAll', () => {
  it('settles every in-flight and queued operation, SUBSCRIBE and UNSUBSCRIBE included, in-flight first', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 2), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.unsubscribe(3, unsubscribePacket('u'), 1)
    p.publish(4, pub('b', 1), 1)
    p.subscribe(5, subscribePacket('t'), 1)
    p.unsubscribe(6, unsubscribePacket('v'), 1)
    p.publish(7, pub('c', 0), 1)
    const error = new ProtocolError('gone')
    expect(p.failAll(error)).toEqual([1, 2, 3, 4, 5, 6, 7].map((op) => ({ type: 'settle', op, error })))
    expect(p.idle).toBe(true)
    expect(p.queued).toBe(0)
    expect(p.inflightCount).toBe(0)
  })

  it('settles pending SUBSCRIBE and UNSUBSCRIBE while offline', () => {
    const p = protocol()
    p.subscribe(1, subscribePacket('s'), 0)
    p.unsubscribe(2, unsubscribePacket('s'), 0)
    const error = new ProtocolError('ended')
    expect(settled(p.failAll(error))).toEqual([
      { type: 'settle', op: 1, error },
      { type: 'settle', op: 2, error },
    ])
  })

  it('returns nothing when nothing is pending', () => {
    expect(connected().failAll(new ProtocolError('x'))).toEqual([])
  })

  it('re-sends none of the failed operations after the next CONNACK', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.connectionClosed()
    p.failAll(new ProtocolError('x'))
    expect(sent(reconnect(p, 2))).toEqual([])
  })

  it('frees the publish window, so a new publish goes out at once', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.connectionClosed()
    p.failAll(new ProtocolError('x'))
    reconnect(p, 2)
    expect(topics(p.publish(2, pub('b', 1), 3))).toEqual(['b'])
    expect(topics(p.publish(3, pub('c', 1), 3))).toEqual([])
  })

  it('ignores acknowledgements for the failed operations', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.failAll(new ProtocolError('x'))
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'suback', messageId: 2, granted: [1] }, 2)).toEqual([])
  })
})

describe('keepalive through the protocol', () => {
  it('postpones the ping while both sides keep talking, pinging a period after the quieter side fell silent', () => {
    const p = connected({ keepalive: 10 }, 0)
    p.publish(1, pub('a', 0), 6_000)
    p.packetReceived(incoming(0), 4_000)
    expect(p.nextDeadline()).toBe(14_000)
    expect(p.tick(13_999)).toEqual([])
    expect(sent(p.tick(14_000))).toEqual([{ cmd: 'pingreq' }])
  })

  it('pings when the client has sent nothing even while the broker keeps sending', () => {
    const p = connected({ keepalive: 10 }, 0)
    for (let t = 1_000; t < 10_000; t += 1_000) p.packetReceived(incoming(0), t)
    expect(p.nextDeadline()).toBe(10_000)
    expect(sent(p.tick(10_000))).toEqual([{ cmd: 'pingreq' }])
  })

  it('counts the acknowledgements the client sends as traffic', () => {
    const p = connected({ keepalive: 10 }, 0)
    p.packetReceived(incoming(1, 1), 7_000)
    expect(p.nextDeadline()).toBe(17_000)
  })

  it('times the first ping from the CONNECT, not from the CONNACK', () => {
    const p = protocol({ keepalive: 10 })
    p.connectionOpened(1_000)
    p.packetReceived(accept(), 3_000)
    expect(p.nextDeadline()).toBe(11_000)
  })

  it('pings only once while waiting for the answer, then closes at the timeout and goes quiet', () => {
    const p = connected({ keepalive: 10 }, 0)
    expect(cmds(p.tick(10_000))).toEqual(['pingreq'])
    expect(p.tick(12_000)).toEqual([])
    const actions = p.tick(15_000)
    expect(actions).toEqual([{ type: 'close', error: expect.any(KeepaliveTimeoutError) }])
    expect(p.connected).toBe(false)
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.tick(30_000)).toEqual([])
  })

  it('does nothing on tick while connecting or offline', () => {
    const p = protocol({ keepalive: 10 })
    expect(p.tick(100_000)).toEqual([])
    p.connectionOpened(0)
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.tick(100_000)).toEqual([])
  })

  it('does nothing on tick when keepalive is 0', () => {
    const p = connected({ keepalive: 0 }, 0)
    expect(p.tick(1_000_000)).toEqual([])
  })

  it('starts afresh after a reconnect, forgetting a ping that went unanswered', () => {
    const p = connected({ keepalive: 10 }, 0)
    p.tick(10_000)
    p.connectionClosed()
    p.connectionOpened(12_000)
    p.packetReceived(accept(), 12_500)
    expect(p.nextDeadline()).toBe(22_000)
    expect(p.tick(17_000)).toEqual([])
  })
})

describe('graceful end', () => {
  it('waits for queued operations behind a full window, not only for those in flight', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    expect(p.end(2)).toEqual([])
    const first = p.packetReceived({ cmd: 'puback', messageId: 1 }, 3)
    expect(cmds(first)).toEqual(['publish'])
    expect(closes(first)).toEqual([])
    const second = p.packetReceived({ cmd: 'puback', messageId: 2 }, 4)
    expect(second).toEqual([
      { type: 'settle', op: 2 },
      { type: 'send', packet: { cmd: 'disconnect' } },
      { type: 'close' },
    ])
  })

  it('waits for a pending SUBSCRIBE and UNSUBSCRIBE', () => {
    const p = connected()
    p.subscribe(1, subscribePacket('s'), 1)
    p.unsubscribe(2, unsubscribePacket('u'), 1)
    expect(p.end(2)).toEqual([])
    expect(cmds(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1] }, 3))).toEqual([])
    expect(cmds(p.packetReceived({ cmd: 'unsuback', messageId: 2 }, 4))).toEqual(['disconnect'])
  })

  it('waits for the whole QoS 2 flow, not only PUBREC', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    p.end(2)
    expect(cmds(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 3))).toEqual(['pubrel'])
    expect(cmds(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 4))).toEqual(['disconnect'])
  })

  it('sends DISCONNECT after the last operation settles and then closes, once', () => {
    const p = connected()
    expect(p.end(1)).toEqual([{ type: 'send', packet: { cmd: 'disconnect' } }, { type: 'close' }])
    expect(p.connected).toBe(false)
    expect(p.end(2)).toEqual([])
    expect(p.publish(1, pub('late', 0), 3)).toEqual([])
    expect(p.queued).toBe(1)
  })

  it('sends nothing while offline, and DISCONNECT once a later connection has nothing left to do', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    expect(p.end(0)).toEqual([])
    p.connectionOpened(1)
    expect(cmds(p.packetReceived(accept(), 2))).toEqual(['publish'])
    expect(cmds(p.packetReceived({ cmd: 'puback', messageId: 1 }, 3))).toEqual(['disconnect'])
  })

  it('does not disconnect while waiting for CONNACK', () => {
    const p = protocol()
    p.connectionOpened(0)
    expect(p.end(1)).toEqual([])
  })

  it('reports idle only when nothing is queued and nothing is in flight', () => {
    const p = protocol()
    expect(p.idle).toBe(true)
    p.publish(1, pub('a', 1), 0)
    expect(p.idle).toBe(false)
    p.connectionOpened(1)
    p.packetReceived(accept(), 1)
    expect(p.queued).toBe(0)
    expect(p.idle).toBe(false)
  })
})

describe('broker DISCONNECT messages', () => {
  it('uses the reason string the broker gave over the reason code name', () => {
    const p = connected({ protocolVersion: 5 })
    const actions = p.packetReceived({ cmd: 'disconnect', reasonCode: 0x98, properties: { reasonString: 'kicked by admin' } }, 1)
    expect(closes(actions)[0]?.error).toBeInstanceOf(ConnectionClosedError)
    expect(closes(actions)[0]?.error?.message).toBe('Broker sent DISCONNECT (code 0x98): kicked by admin')
    expect(p.connected).toBe(false)
  })

  it('reads a DISCONNECT without a reason code as code 0', () => {
    const p = connected({ protocolVersion: 5 })
    const actions = p.packetReceived({ cmd: 'disconnect' }, 1)
    expect(actions.map((a) => a.type)).toEqual(['disconnected', 'close'])
    expect(closes(actions)[0]?.error?.message).toBe('Broker sent DISCONNECT (code 0x0): unknown reason')
  })

  it('writes the code in hexadecimal with the name of the reason', () => {
    const p = connected({ protocolVersion: 5 })
    expect(closes(p.packetReceived({ cmd: 'disconnect', reasonCode: 0x8b }, 1))[0]?.error?.message).toBe(
      'Broker sent DISCONNECT (code 0x8b): server shutting down',
    )
  })
})

// Last in the file, being the slowest: it fills the whole id space, the only way to see ids run out and come back.
describe('the packet id space', () => {
  it('queues operations while all 65535 ids are in flight, and gives each id back on its ack or on failAll', { timeout: 60_000 }, () => {
    const p = connected()
    for (let op = 1; op <= 65_535; op++) p.subscribe(op, subscribePacket('s'), 1)
    expect(p.inflightCount).toBe(65_535)
    expect(cmds(p.publish(65_536, pub('a', 1), 1))).toEqual([])
    expect(cmds(p.unsubscribe(65_537, unsubscribePacket('s'), 1))).toEqual([])
    expect(p.queued).toBe(2)
    // The SUBACK frees id 7 for the queued publish, and its PUBACK frees it again for the UNSUBSCRIBE.
    const suback = p.packetReceived({ cmd: 'suback', messageId: 7, granted: [1] }, 2)
    expect(settled(suback)).toEqual([{ type: 'settle', op: 7, codes: [1] }])
    expect(sent(suback)).toEqual([{ ...pub('a', 1), messageId: 7 }])
    const puback = p.packetReceived({ cmd: 'puback', messageId: 7 }, 3)
    expect(settled(puback)).toEqual([{ type: 'settle', op: 65_536 }])
    expect(sent(puback)).toEqual([{ ...unsubscribePacket('s'), messageId: 7 }])
    expect(p.queued).toBe(0)
    // Giving up on everything frees every id.
    p.failAll(new ProtocolError('x'))
    expect(sent(p.subscribe(0, subscribePacket('t'), 4))).toMatchObject([{ cmd: 'subscribe', subscriptions: [{ topic: 't' }] }])
  })
})
