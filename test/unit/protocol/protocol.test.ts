import { describe, expect, it } from 'vitest'
import { encode } from '../../../src/codec/encode.js'
import type { ConnackProperties, IncomingPacket, IncomingPublishPacket, Packet, ProtocolVersion, PublishPacket, SubscribePacket, Subscription } from '../../../src/codec/packets.js'
import {
  BrokerLimitError,
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  KeepaliveTimeoutError,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  SessionTakenOverError,
  SubscribeError,
  TransportError,
} from '../../../src/errors.js'
import type { LifeState } from '../../../src/protocol/lifecycle.js'
import { type Action, Protocol, type ProtocolOptions } from '../../../src/protocol/protocol.js'
import { RECONNECT, testProtocol } from './test-protocol.js'

/** Ops are the caller's opaque tokens; numbers make them easy to read in expectations. */
type Op = number
type Actions = Array<Action<Op>>

const SERVERS = ['ws://one', 'ws://two']

function protocol(overrides: Partial<ProtocolOptions> = {}, granted: () => Subscription[] = () => []): Protocol<Op> {
  return testProtocol({ servers: SERVERS, ...overrides }, granted)
}

/** A protocol that has asked for its first socket at `t` (connecting), the socket not open yet. */
function opening(overrides: Partial<ProtocolOptions> = {}, t = 0): Protocol<Op> {
  const p = protocol(overrides)
  p.open(t)
  return p
}

function connected(overrides: Partial<ProtocolOptions> = {}, t = 0, granted?: () => Subscription[]): Protocol<Op> {
  const p = protocol(overrides, granted)
  p.open(t)
  p.connectionOpened(t)
  p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, t)
  return p
}

const accept = (sessionPresent = false): IncomingPacket => ({ cmd: 'connack', sessionPresent, returnCode: 0 })

/** Connects a protocol not yet opened, or waiting to reconnect, at `t`; returns what the CONNACK caused. */
function connect(p: Protocol<Op>, t: number, sessionPresent = false): Actions {
  p.open(t)
  p.connectionOpened(t)
  return p.packetReceived(accept(sessionPresent), t)
}

/** The socket goes by itself at `t` and a new one is opened at once and accepted; returns what that CONNACK caused. */
function reconnect(p: Protocol<Op>, t: number, sessionPresent = true): Actions {
  p.connectionLost(undefined, t)
  return connect(p, t, sessionPresent)
}

/**
 * A graceful end sends DISCONNECT at once exactly when nothing is queued and nothing is in
 * flight: the tests see "idle" through that behaviour rather than a getter.
 */
const endsAtOnce = (p: Protocol<Op>, t: number): boolean => cmds(p.end(false, t)).includes('disconnect')

/** The send action for `packet`: the packet and its bytes. */
const wrote = (packet: Packet, version: ProtocolVersion = 4): Action<Op> => ({ type: 'send', packet, bytes: encode(packet, version) })
const sent = (actions: Actions) => actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []))
const cmds = (actions: Actions) => sent(actions).map((p) => p.cmd)
const settled = (actions: Actions) => actions.flatMap((a) => (a.type === 'settle' ? [a] : []))
const messages = (actions: Actions) => actions.flatMap((a) => (a.type === 'message' ? [a.packet] : []))
const closes = (actions: Actions) => actions.flatMap((a) => (a.type === 'close' ? [a] : []))
const errors = (actions: Actions) => actions.flatMap((a) => (a.type === 'error' ? [a.error] : []))
const topics = (actions: Actions) => sent(actions).map((p) => (p as PublishPacket).topic)
const move = (from: LifeState, to: LifeState): Action<Op> => ({ type: 'state', from, to })

function pub(topic: string, qos: 0 | 1 | 2, payload = 'x'): PublishPacket {
  return { cmd: 'publish', topic, payload, qos, retain: false, dup: false }
}

function incoming(qos: 0 | 1 | 2, messageId?: number, dup = false): IncomingPublishPacket {
  const p: IncomingPublishPacket = { cmd: 'publish', topic: 't', payload: new Uint8Array([1]), qos, retain: false, dup }
  if (messageId !== undefined) p.messageId = messageId
  return p
}

const subscribePacket = (topic: string) => ({ cmd: 'subscribe' as const, subscriptions: [{ topic, qos: 1 as const }] })
const unsubscribePacket = (topic: string) => ({ cmd: 'unsubscribe' as const, unsubscriptions: [topic] })

describe('connecting', () => {
  it('sends CONNECT with the session options when the connection opens', () => {
    const p = opening({ username: 'u', password: new Uint8Array([1]), clean: false, keepalive: 30 })
    const [connect] = sent(p.connectionOpened(0))
    expect(connect).toMatchObject({ cmd: 'connect', clientId: 'c1', clean: false, keepalive: 30, username: 'u', protocolVersion: 4 })
  })

  it('reports connected on an accepting CONNACK', () => {
    const p = opening()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: true, returnCode: 0 }, 5)
    expect(actions[0]).toMatchObject({ type: 'state', from: 'connecting', to: 'connected', connack: { sessionPresent: true } })
    expect(p.state).toBe('connected')
  })

  it('reports a refusal with the return code and a readable reason, then closes', () => {
    const p = opening()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 4 }, 1)
    const [close] = closes(actions)
    expect(close?.error).toBeInstanceOf(ConnectionRefusedError)
    expect((close?.error as ConnectionRefusedError).returnCode).toBe(4)
    expect(close?.error?.message).toMatch(/bad user name or password/)
    expect(closes(actions)).toHaveLength(1)
    expect(p.state).toBe('disconnected')
  })

  it('treats any packet before CONNACK as a protocol error and closes', () => {
    const p = opening()
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
    const p = opening()
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
    // Strict: a publish that succeeded settles with neither an error nor a granted field.
    expect(settled(actions)).toStrictEqual([{ type: 'settle', op: 1, result: { reasonCode: 0 } }])
    expect(endsAtOnce(p, 3)).toBe(true)
  })

  it('runs QoS 2 through PUBREC, PUBREL and PUBCOMP before settling', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    const rec = p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)
    expect(sent(rec)).toEqual([{ cmd: 'pubrel', messageId: 1 }])
    expect(settled(rec)).toEqual([])
    // A duplicate PUBREC is answered with PUBREL again.
    expect(sent(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 3))).toEqual([{ cmd: 'pubrel', messageId: 1 }])
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 4))).toEqual([{ type: 'settle', op: 1, result: { reasonCode: 0 } }])
    expect(endsAtOnce(p, 5)).toBe(true)
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
    const p = opening({ protocolVersion: 5, maxInflight: 10 })
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
    // Two were kept: exactly those go out once connected.
    expect(topics(connect(p, 1))).toEqual(['a', 'b'])
  })
})

describe('offline publishing', () => {
  it('queues QoS 0 while offline by default and sends it after CONNACK', () => {
    const p = protocol()
    expect(settled(p.publish(1, pub('a', 0), 0))).toEqual([])
    p.open(1)
    p.connectionOpened(1)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 2)
    expect(cmds(actions)).toEqual(['publish'])
  })

  it('rejects QoS 0 while offline with OfflineError when queueQoS0 is off, but still queues QoS 1', () => {
    const p = protocol({ queueQoS0: false })
    const [s] = settled(p.publish(1, pub('a', 0), 0))
    expect(s?.error).toBeInstanceOf(OfflineError)
    expect(settled(p.publish(2, pub('b', 1), 0))).toEqual([])
    expect(topics(connect(p, 1))).toEqual(['b'])
  })

  it('sends restored messages ahead of what was queued, and beyond the queue limit', () => {
    const p = protocol({ queueLimit: 1 })
    p.publish(1, pub('new', 1), 0)
    p.restore([{ op: 8, packet: pub('old-1', 1) }, { op: 9, packet: pub('old-2', 2) }], 0)
    p.open(1)
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
    p.connectionLost(undefined, 2)
    p.open(2)
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
    p.connectionLost(undefined, 2)
    p.publish(3, pub('later', 1), 3)
    p.open(4)
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
    p.connectionLost(undefined, 2)
    p.open(2)
    p.connectionOpened(2)
    const packets = sent(p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 0 }, 3))
    expect(packets).toMatchObject([{ cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }] }])
  })

  it('rejects every queued and in-flight operation when it gives up reconnecting, carrying the reason', () => {
    const p = connected({ maxInflight: 1, reconnect: false })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    const error = new ProtocolError('gone')
    const s = settled(p.connectionLost(error, 2))
    expect(s.map((x) => x.op).sort()).toEqual([1, 2])
    // The protocol now makes the error itself; the caller's reason travels as its cause.
    expect(s.every((x) => x.error instanceof ConnectionClosedError && x.error.cause === error)).toBe(true)
    // Nothing is left pending: ending settles nothing more.
    expect(settled(p.end(false, 3))).toEqual([])
  })
})

describe('subscriptions', () => {
  it('settles SUBSCRIBE with the granted codes of SUBACK', () => {
    const p = connected()
    const [packet] = sent(p.subscribe(4, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 2 }, { topic: 'b', qos: 1 }] }, 1))
    const id = (packet as { messageId: number }).messageId
    const granted = [
      { topic: 'a', qos: 2 },
      { topic: 'b', qos: 0x80 },
    ]
    // The protocol judges the codes: one filter refused makes the whole SUBSCRIBE fail, with every code kept.
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: id, granted: [2, 0x80] }, 2))).toEqual([
      { type: 'settle', op: 4, error: expect.any(SubscribeError), granted },
    ])
  })

  it('settles UNSUBSCRIBE on UNSUBACK', () => {
    const p = connected()
    const [packet] = sent(p.unsubscribe(4, { cmd: 'unsubscribe', unsubscriptions: ['a'] }, 1))
    const id = (packet as { messageId: number }).messageId
    expect(settled(p.packetReceived({ cmd: 'unsuback', messageId: id }, 2))).toEqual([{ type: 'settle', op: 4, result: { reasonCodes: [] } }])
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

  it('has no deadline when keepalive is 0 or the connection is down for good', () => {
    expect(connected({ keepalive: 0 }).nextDeadline()).toBeUndefined()
    const p = connected({ reconnect: false })
    p.connectionLost(undefined, 1)
    expect(p.nextDeadline()).toBeUndefined()
  })
})

describe('ending', () => {
  it('sends DISCONNECT and closes only after in-flight messages settle', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    expect(cmds(p.end(false, 2))).toEqual([])
    const actions = p.packetReceived({ cmd: 'puback', messageId: 1 }, 3)
    expect(cmds(actions)).toEqual(['disconnect'])
    expect(closes(actions)).toEqual([{ type: 'close' }])
  })

  it('sends DISCONNECT at once when idle', () => {
    const p = connected()
    expect(cmds(p.end(false, 1))).toEqual(['disconnect'])
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

describe('the CONNECT packet', () => {
  it('carries exactly the session fields, and no credentials or will when none are set', () => {
    const p = opening({ clientId: 'abc', clean: true, keepalive: 45 })
    // Strict: a field left unset is absent, not present with the value undefined.
    expect(sent(p.connectionOpened(0))).toStrictEqual([
      { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'abc', clean: true, keepalive: 45 },
    ])
  })

  it('carries the password and the will when set', () => {
    const will = { topic: 'w', payload: new Uint8Array([9]), qos: 1 as const, retain: true }
    const p = opening({ username: 'u', password: new Uint8Array([7]), will })
    const [connect] = sent(p.connectionOpened(0))
    expect(connect).toEqual({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clientId: 'c1',
      clean: true,
      keepalive: 10,
      username: 'u',
      password: new Uint8Array([7]),
      will,
    })
  })

  it('carries CONNECT properties on MQTT 5 and leaves them out on 3.1.1', () => {
    const properties = { sessionExpiryInterval: 60 }
    const [v5] = sent(opening({ protocolVersion: 5, properties }).connectionOpened(0))
    expect(v5).toMatchObject({ protocolVersion: 5, properties })
    const [v4] = sent(opening({ protocolVersion: 4, properties }).connectionOpened(0))
    expect(v4).not.toHaveProperty('properties')
  })

  it('is not connected before CONNACK, nor after the connection closes', () => {
    const p = protocol()
    expect(p.state).toBe('starting')
    p.open(0)
    p.connectionOpened(0)
    expect(p.state).toBe('connecting')
    p.packetReceived(accept(), 1)
    expect(p.state).toBe('connected')
    // The loss asks nothing of the socket layer (it is gone already); only the life moves on.
    expect(p.connectionLost(undefined, 2)).toEqual([move('connected', 'reconnecting')])
    expect(p.state).toBe('reconnecting')
  })
})

describe('CONNACK handling', () => {
  it('reports connected before re-sending or sending anything', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    p.open(0)
    p.connectionOpened(0)
    const actions = p.packetReceived(accept(), 1)
    expect(actions.map((a) => a.type)).toEqual(['state', 'send'])
  })

  it('treats a CONNACK without a return or reason code as an acceptance', () => {
    const p = opening()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false }, 1)
    expect(actions).toEqual([{ type: 'state', from: 'connecting', to: 'connected', connack: { cmd: 'connack', sessionPresent: false } }])
    expect(p.state).toBe('connected')
  })

  it('refuses on an MQTT 5 reason code, naming it by the 5.0 table, and closes with the same error', () => {
    const p = opening({ protocolVersion: 5 })
    p.connectionOpened(0)
    const connack: IncomingPacket = { cmd: 'connack', sessionPresent: false, reasonCode: 0x86 }
    const actions = p.packetReceived(connack, 1)
    // 0x86 is a refusal retrying cannot fix, so the client gives up at once.
    expect(actions.map((a) => a.type)).toEqual(['close', 'state'])
    const [close, state] = actions
    if (close?.type !== 'close' || !(close.error instanceof ConnectionRefusedError)) throw new Error('expected a close with the refusal')
    expect(close.error.returnCode).toBe(0x86)
    expect(close.error.message).toBe('Connection refused (code 134): bad user name or password')
    expect(state).toEqual(move('connecting', 'disconnected'))
    // The refusal the socket closed with is the one later operations are refused for.
    expect(p.refusal()?.cause).toBe(close.error)
    expect(p.state).toBe('disconnected')
  })

  it('prefers the reason code to the return code when a CONNACK carries both', () => {
    const p = opening({ protocolVersion: 5 })
    p.connectionOpened(0)
    const [close] = closes(p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0x87, returnCode: 0 }, 1))
    expect((close?.error as ConnectionRefusedError).returnCode).toBe(0x87)
  })

  it('sends nothing queued after a refusal', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    p.open(0)
    p.connectionOpened(0)
    // Code 3 (server unavailable) may pass on a retry, so what is queued waits for it.
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 3 }, 1)
    expect(sent(actions)).toEqual([])
    expect(settled(actions)).toEqual([])
    expect(topics(connect(p, 2))).toEqual(['a'])
  })

  it('stops being connected, and sends nothing, on a second CONNACK', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    expect(sent(p.packetReceived(accept(), 2))).toEqual([])
    expect(p.state).toBe('reconnecting')
  })

  it('closes with a protocol error on a second CONNACK', () => {
    const p = connected()
    const actions = p.packetReceived(accept(), 2)
    expect(actions).toEqual([{ type: 'close', error: expect.any(ProtocolError) }, move('connected', 'reconnecting')])
    expect(closes(actions)[0]?.error?.message).toBe('Protocol error from broker: a second CONNACK on one connection')
  })

  it('on MQTT 5 tells the broker why with DISCONNECT 0x82 before closing on a second CONNACK, and keeps what is in flight for the next connection', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 1), 1)
    const actions = p.packetReceived(accept(), 2)
    expect(sent(actions)).toEqual([{ cmd: 'disconnect', reasonCode: 0x82 }])
    expect(actions.map((a) => a.type)).toEqual(['send', 'close', 'state'])
    expect(settled(actions)).toEqual([])
    expect(p.stats.inFlight).toBe(1)
  })

  it('names the packet that came before CONNACK in the protocol error', () => {
    const p = opening()
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'suback', messageId: 1, granted: [0] }, 1)
    expect(actions).toEqual([{ type: 'close', error: expect.any(ProtocolError) }, move('connecting', 'reconnecting')])
    expect(closes(actions)[0]?.error?.message).toBe('Protocol error from broker: expected CONNACK first, got SUBACK')
    expect(p.state).toBe('reconnecting')
  })

  it('names a packet the broker must never send in the protocol error', () => {
    const p = connected()
    const [close] = closes(p.packetReceived({ cmd: 'pingreq' }, 1))
    expect(close?.error?.message).toBe('Protocol error from broker: a server must not send PINGREQ')
    expect(p.state).toBe('reconnecting')
  })
})

describe('the in-flight window', () => {
  it('uses maxInflight when the broker Receive Maximum is larger', () => {
    const p = opening({ protocolVersion: 5, maxInflight: 2 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 50 } }, 0)
    const out = [1, 2, 3].flatMap((op) => sent(p.publish(op, pub(`t${op}`, 1), 1)))
    expect(out).toMatchObject([{ messageId: 1 }, { messageId: 2 }])
    // The third waited in the queue for a free slot.
    expect(topics(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2))).toEqual(['t3'])
  })

  it('goes back to maxInflight on a reconnect whose CONNACK has no Receive Maximum', () => {
    const p = opening({ protocolVersion: 5, maxInflight: 3 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 1 } }, 0)
    p.connectionLost(undefined, 1)
    p.open(1)
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
    // All four are in flight: a reconnect sends each again.
    expect(cmds(reconnect(p, 2))).toEqual(['subscribe', 'unsubscribe', 'publish', 'subscribe'])
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
    // Nothing in flight and nothing queued: a reconnect has nothing to send again.
    expect(sent(reconnect(p, 2))).toEqual([])
    // The id space is untouched: the next QoS 1 publish gets id 1.
    expect(sent(p.publish(2, pub('b', 1), 3))).toMatchObject([{ messageId: 1 }])
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
    const actions = [1, 2, 3, 4].flatMap((op) => p.publish(op, pub('a', 1), 1))
    expect(settled(actions)).toEqual([])
    expect(sent(actions)).toMatchObject([{ messageId: 1 }, { messageId: 2 }, { messageId: 3 }, { messageId: 4 }])
  })

  it('applies to SUBSCRIBE and UNSUBSCRIBE too, naming the limit in the error', () => {
    const p = protocol({ queueLimit: 1 })
    expect(p.subscribe(1, subscribePacket('a'), 0)).toEqual([])
    const [sub] = settled(p.subscribe(2, subscribePacket('b'), 0))
    const [unsub] = settled(p.unsubscribe(3, unsubscribePacket('a'), 0))
    expect(sub).toEqual({ type: 'settle', op: 2, error: expect.any(QueueFullError) })
    expect(unsub).toEqual({ type: 'settle', op: 3, error: expect.any(QueueFullError) })
    expect(sub?.error?.message).toBe('Offline queue is full (1 operations)')
    expect(sent(connect(p, 1))).toMatchObject([{ cmd: 'subscribe', subscriptions: [{ topic: 'a' }] }])
  })

  it('accepts operations again once the queue drains', () => {
    const p = protocol({ queueLimit: 1 })
    p.publish(1, pub('a', 1), 0)
    p.open(1)
    p.connectionOpened(1)
    p.packetReceived(accept(), 1)
    p.connectionLost(undefined, 1)
    expect(p.publish(2, pub('b', 1), 2)).toEqual([])
    // 'a' goes again as in flight, 'b' as the one queued.
    expect(topics(connect(p, 3, true))).toEqual(['a', 'b'])
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
    const p = opening({ queueQoS0: false })
    p.connectionOpened(0)
    const actions = p.publish(1, pub('a', 0), 0)
    expect(actions).toEqual([{ type: 'settle', op: 1, error: expect.any(OfflineError) }])
    // It was not queued either: the CONNACK has nothing to send.
    expect(sent(p.packetReceived(accept(), 1))).toEqual([])
  })

  it('queues QoS 2 while offline when queueQoS0 is off', () => {
    const p = protocol({ queueQoS0: false })
    expect(p.publish(1, pub('a', 2), 0)).toEqual([])
    expect(topics(connect(p, 1))).toEqual(['a'])
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
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2))).toEqual([{ type: 'settle', op: 8, result: { reasonCode: 0 } }])
    p.packetReceived({ cmd: 'pubrec', messageId: 2 }, 3)
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 2 }, 4))).toEqual([{ type: 'settle', op: 9, result: { reasonCode: 0 } }])
  })

  it('are limited by the in-flight window like any publish', () => {
    const p = connected({ maxInflight: 1 })
    const actions = p.restore([{ op: 8, packet: pub('old-1', 1) }, { op: 9, packet: pub('old-2', 1) }], 1)
    expect(topics(actions)).toEqual(['old-1'])
    expect(topics(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2))).toEqual(['old-2'])
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
    expect(topics(connect(p, 1))).toEqual(['old'])
  })
})

describe('publish acknowledgements', () => {
  it('ignores PUBREC and PUBCOMP for a QoS 1 publish', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    expect(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2)).toEqual([])
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 1 }, 3))).toEqual([{ type: 'settle', op: 1, result: { reasonCode: 0 } }])
  })

  it('ignores an early PUBCOMP for a QoS 2 publish, and a PUBACK once past PUBREC', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    expect(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2)).toEqual([])
    p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 3)
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 4)).toEqual([])
    // Still in flight: a graceful end waits for it.
    expect(endsAtOnce(p, 4)).toBe(false)
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 5))).toEqual([{ type: 'settle', op: 1, result: { reasonCode: 0 } }])
  })

  it('ignores and counts a publish acknowledgement carrying the id of a SUBSCRIBE, answering the PUBREC with PUBREL', () => {
    const p = connected()
    p.subscribe(1, subscribePacket('s'), 1)
    expect(p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)).toEqual([])
    expect(sent(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 2))).toEqual([{ cmd: 'pubrel', messageId: 1 }])
    expect(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 2)).toEqual([])
    expect(p.stats.unknownAcks).toBe(3)
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1] }, 3))).toEqual([
      { type: 'settle', op: 1, granted: [{ topic: 's', qos: 1 }] },
    ])
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
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 1, reasonCode: 0x10 }, 2))).toEqual([{ type: 'settle', op: 1, result: { reasonCode: 0x10 } }])
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
    expect(endsAtOnce(p, 4)).toBe(true)
  })
})

describe('subscription acknowledgements', () => {
  it('settles SUBSCRIBE with the SUBACK reason string and user properties on each granted filter (MQTT 5)', () => {
    const p = connected({ protocolVersion: 5 })
    p.subscribe(4, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }, { topic: 'b', qos: 0 }] }, 1)
    const properties = { reasonString: 'granted at QoS 1', userProperties: { region: 'eu' } }
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1, 0], properties }, 2))).toEqual([
      { type: 'settle', op: 4, granted: [{ topic: 'a', qos: 1, properties }, { topic: 'b', qos: 0, properties }] },
    ])
  })

  it('settles UNSUBSCRIBE with the MQTT 5 reason codes of UNSUBACK', () => {
    const p = connected({ protocolVersion: 5 })
    p.unsubscribe(4, { cmd: 'unsubscribe', unsubscriptions: ['a', 'b'] }, 1)
    // 0x11 (no subscription existed) is below 0x80: a success, so no error.
    expect(settled(p.packetReceived({ cmd: 'unsuback', messageId: 1, granted: [0, 0x11] }, 2))).toEqual([{ type: 'settle', op: 4, result: { reasonCodes: [0, 0x11] } }])
    expect(endsAtOnce(p, 3)).toBe(true)
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
    // All three are still in flight: a reconnect sends each again.
    expect(cmds(reconnect(p, 3))).toEqual(['subscribe', 'unsubscribe', 'publish'])
  })

  it('sends a SUBSCRIBE queued behind others once they settle', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    p.unsubscribe(3, unsubscribePacket('u'), 1)
    const actions = p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)
    expect(sent(actions)).toMatchObject([{ cmd: 'publish', topic: 'b', messageId: 2 }, { cmd: 'unsubscribe', unsubscriptions: ['u'], messageId: 3 }])
    expect(settled(p.packetReceived({ cmd: 'unsuback', messageId: 3 }, 3))).toEqual([{ type: 'settle', op: 3, result: { reasonCodes: [] } }])
  })
})

describe('incoming QoS 2, exactly once per flow', () => {
  it('delivers the message with its content and answers PUBREC, then PUBCOMP on PUBREL', () => {
    const p = connected()
    const packet = incoming(2, 4)
    expect(p.packetReceived(packet, 1)).toEqual([
      { type: 'message', packet },
      wrote({ cmd: 'pubrec', messageId: 4 }),
    ])
    expect(p.packetReceived({ cmd: 'pubrel', messageId: 4 }, 2)).toEqual([wrote({ cmd: 'pubcomp', messageId: 4 })])
  })

  it('delivers a QoS 1 message before acknowledging it, and every copy of it', () => {
    const p = connected()
    const packet = incoming(1, 4)
    expect(p.packetReceived(packet, 1)).toEqual([
      { type: 'message', packet },
      wrote({ cmd: 'puback', messageId: 4 }),
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
    expect(actions[0]).toMatchObject({ type: 'state', to: 'connected' })
    expect(sent(actions)).toEqual([
      { ...pub('p1', 1), dup: true, messageId: 1 },
      { ...subscribePacket('s'), messageId: 2 },
      { cmd: 'pubrel', messageId: 3 },
      { ...unsubscribePacket('u'), messageId: 4 },
      { ...pub('p3', 2), dup: true, messageId: 5 },
    ])
    expect(settled(actions)).toEqual([])
    // One is still queued behind the full window, and goes as soon as a slot frees.
    expect(topics(p.packetReceived({ cmd: 'puback', messageId: 1 }, 4))).toEqual(['waiting'])
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
    expect(settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 4))).toEqual([{ type: 'settle', op: 1, result: { reasonCode: 0 } }])
    expect(endsAtOnce(p, 5)).toBe(true)
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
    p.connectionLost(undefined, 1)
    expect(p.publish(1, pub('a', 1), 2)).toEqual([])
    expect(p.subscribe(2, subscribePacket('s'), 2)).toEqual([])
    expect(cmds(connect(p, 3, true))).toEqual(['publish', 'subscribe'])
  })
})

describe('giving up', () => {
  it('settles every in-flight and queued operation, SUBSCRIBE and UNSUBSCRIBE included, in-flight first', () => {
    const p = connected({ maxInflight: 1, reconnect: false })
    p.publish(1, pub('a', 2), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.unsubscribe(3, unsubscribePacket('u'), 1)
    p.publish(4, pub('b', 1), 1)
    p.subscribe(5, subscribePacket('t'), 1)
    p.unsubscribe(6, unsubscribePacket('v'), 1)
    p.publish(7, pub('c', 0), 1)
    const cause = new ProtocolError('gone')
    const actions = p.connectionLost(cause, 2)
    const error = settled(actions)[0]?.error
    expect(error).toBeInstanceOf(ConnectionClosedError)
    expect(error?.cause).toBe(cause)
    expect(actions).toEqual([...[1, 2, 3, 4, 5, 6, 7].map((op) => ({ type: 'settle', op, error })), move('connected', 'disconnected')])
    // Nothing queued, nothing in flight: ending has nothing left to settle.
    expect(settled(p.end(false, 3))).toEqual([])
  })

  it('settles pending SUBSCRIBE and UNSUBSCRIBE while offline', () => {
    const p = opening({ reconnect: false })
    p.subscribe(1, subscribePacket('s'), 0)
    p.unsubscribe(2, unsubscribePacket('s'), 0)
    const cause = new ProtocolError('ended')
    const s = settled(p.connectionLost(cause, 1))
    const error = s[0]?.error
    expect(error?.cause).toBe(cause)
    expect(s).toEqual([
      { type: 'settle', op: 1, error },
      { type: 'settle', op: 2, error },
    ])
  })

  it('returns nothing when nothing is pending', () => {
    expect(connected({ reconnect: false }).connectionLost(new ProtocolError('x'), 1)).toEqual([move('connected', 'disconnected')])
  })

  it('re-sends none of the failed operations, since a client that gave up never connects again', () => {
    const p = connected({ reconnect: false })
    p.publish(1, pub('a', 1), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.connectionLost(new ProtocolError('x'), 2)
    expect(p.open(3)).toEqual([])
    expect(p.connectionOpened(3)).toEqual([])
    expect(p.packetReceived(accept(true), 3)).toEqual([])
  })

  it('ignores acknowledgements for the failed operations', () => {
    const p = connected({ endTimeout: 1_000 })
    p.publish(1, pub('a', 1), 1)
    p.subscribe(2, subscribePacket('s'), 1)
    p.end(false, 1)
    // The end timeout fails both; their acks, coming late, find nothing.
    expect(settled(p.tick(1_001))).toHaveLength(2)
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
    const p = opening({ keepalive: 10 }, 1_000)
    p.connectionOpened(1_000)
    p.packetReceived(accept(), 3_000)
    expect(p.nextDeadline()).toBe(11_000)
  })

  it('pings only once while waiting for the answer, then closes at the timeout and goes quiet', () => {
    // Without reconnecting, so that no retry deadline takes the keepalive's place.
    const p = connected({ keepalive: 10, reconnect: false }, 0)
    expect(cmds(p.tick(10_000))).toEqual(['pingreq'])
    expect(p.tick(12_000)).toEqual([])
    const actions = p.tick(15_000)
    expect(actions).toEqual([{ type: 'close', error: expect.any(KeepaliveTimeoutError) }, move('connected', 'disconnected')])
    expect(p.state).toBe('disconnected')
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.tick(30_000)).toEqual([])
  })

  it('does nothing on tick while connecting or offline', () => {
    const p = protocol({ keepalive: 10 })
    expect(p.tick(100_000)).toEqual([])
    p.open(0)
    p.connectionOpened(0)
    // The connect timeout is the deadline, not the keepalive's 10 s: no ping before CONNACK.
    expect(p.nextDeadline()).toBe(30_000)
    expect(p.tick(29_999)).toEqual([])
  })

  it('does nothing on tick when keepalive is 0', () => {
    const p = connected({ keepalive: 0 }, 0)
    expect(p.tick(1_000_000)).toEqual([])
  })

  it('starts afresh after a reconnect, forgetting a ping that went unanswered', () => {
    const p = connected({ keepalive: 10 }, 0)
    p.tick(10_000)
    p.connectionLost(undefined, 11_000)
    p.open(12_000)
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
    expect(p.end(false, 2)).toEqual([move('connected', 'closing')])
    const first = p.packetReceived({ cmd: 'puback', messageId: 1 }, 3)
    expect(cmds(first)).toEqual(['publish'])
    expect(closes(first)).toEqual([])
    const second = p.packetReceived({ cmd: 'puback', messageId: 2 }, 4)
    expect(second).toEqual([
      { type: 'settle', op: 2, result: { reasonCode: 0 } },
      wrote({ cmd: 'disconnect' }),
      { type: 'close' },
      move('closing', 'closed'),
    ])
  })

  it('waits for a pending SUBSCRIBE and UNSUBSCRIBE', () => {
    const p = connected()
    p.subscribe(1, subscribePacket('s'), 1)
    p.unsubscribe(2, unsubscribePacket('u'), 1)
    expect(p.end(false, 2)).toEqual([move('connected', 'closing')])
    expect(cmds(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1] }, 3))).toEqual([])
    expect(cmds(p.packetReceived({ cmd: 'unsuback', messageId: 2 }, 4))).toEqual(['disconnect'])
  })

  it('waits for the whole QoS 2 flow, not only PUBREC', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    p.end(false, 2)
    expect(cmds(p.packetReceived({ cmd: 'pubrec', messageId: 1 }, 3))).toEqual(['pubrel'])
    expect(cmds(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 4))).toEqual(['disconnect'])
  })

  it('sends DISCONNECT after the last operation settles and then closes, once', () => {
    const p = connected()
    expect(p.end(false, 1)).toEqual([
      move('connected', 'closing'),
      wrote({ cmd: 'disconnect' }),
      { type: 'close' },
      move('closing', 'closed'),
    ])
    expect(p.state).toBe('closed')
    expect(p.end(false, 2)).toEqual([])
    expect(p.publish(1, pub('late', 0), 3)).toEqual([])
    expect(p.refusal()).toBeInstanceOf(ClientClosedError)
  })

  it('ends at once while offline, sending nothing and failing what waits with ClientClosedError', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    expect(p.end(false, 0)).toEqual([{ type: 'settle', op: 1, error: expect.any(ClientClosedError) }, move('starting', 'closed')])
    expect(p.open(1)).toEqual([])
  })

  it('does not disconnect while waiting for CONNACK', () => {
    const p = opening()
    p.connectionOpened(0)
    const actions = p.end(false, 1)
    expect(cmds(actions)).toEqual([])
    expect(actions).toEqual([{ type: 'close' }, move('connecting', 'closed')])
  })
})

describe('broker DISCONNECT messages', () => {
  it('uses the reason string the broker gave over the reason code name', () => {
    const p = connected({ protocolVersion: 5 })
    const actions = p.packetReceived({ cmd: 'disconnect', reasonCode: 0x98, properties: { reasonString: 'kicked by admin' } }, 1)
    expect(closes(actions)[0]?.error).toBeInstanceOf(ConnectionClosedError)
    expect(closes(actions)[0]?.error?.message).toBe('Broker sent DISCONNECT (code 0x98): kicked by admin')
    expect(p.state).toBe('reconnecting')
  })

  it('reads a DISCONNECT without a reason code as code 0', () => {
    const p = connected({ protocolVersion: 5 })
    const actions = p.packetReceived({ cmd: 'disconnect' }, 1)
    expect(actions.map((a) => a.type)).toEqual(['disconnected', 'close', 'state'])
    expect(closes(actions)[0]?.error?.message).toBe('Broker sent DISCONNECT (code 0x0): unknown reason')
  })

  it('writes the code in hexadecimal with the name of the reason', () => {
    const p = connected({ protocolVersion: 5 })
    expect(closes(p.packetReceived({ cmd: 'disconnect', reasonCode: 0x8b }, 1))[0]?.error?.message).toBe(
      'Broker sent DISCONNECT (code 0x8b): server shutting down',
    )
  })
})

describe('judging subscription acknowledgements', () => {
  it('settles a SUBSCRIBE whose filters were all granted with what each got, and no error', () => {
    const p = connected()
    p.subscribe(1, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }, { topic: 'b', qos: 2 }] }, 1)
    // Strict: a success carries no error field at all.
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [0, 2] }, 2))).toStrictEqual([
      { type: 'settle', op: 1, granted: [{ topic: 'a', qos: 0 }, { topic: 'b', qos: 2 }] },
    ])
  })

  it('closes with a protocol error on a SUBACK whose code count does not match the SUBSCRIBE, and subscribes again on the next connection', () => {
    for (const granted of [[1], [1, 1, 1]]) {
      const p = connected()
      p.subscribe(1, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }, { topic: 'b', qos: 1 }] }, 1)
      const actions = p.packetReceived({ cmd: 'suback', messageId: 1, granted }, 2)
      expect(settled(actions)).toEqual([])
      expect(closes(actions)[0]?.error?.message).toBe(`Protocol error from broker: SUBACK with ${granted.length} codes for 2 filters`)
      p.tick(10_000)
      p.connectionOpened(10_001)
      const again = p.packetReceived(accept(), 10_002)
      expect(sent(again)).toEqual([expect.objectContaining({ cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 1 }, { topic: 'b', qos: 1 }] })])
    }
  })

  it('closes with a protocol error on an MQTT 5 UNSUBACK whose code count does not match; a 3.1.1 UNSUBACK carries none', () => {
    const p = connected({ protocolVersion: 5 })
    p.unsubscribe(1, { cmd: 'unsubscribe', unsubscriptions: ['a', 'b'] }, 1)
    const actions = p.packetReceived({ cmd: 'unsuback', messageId: 1, granted: [0] }, 2)
    expect(sent(actions)).toEqual([{ cmd: 'disconnect', reasonCode: 0x82 }])
    expect(closes(actions)[0]?.error?.message).toBe('Protocol error from broker: UNSUBACK with 1 codes for 2 filters')
    const q = connected()
    q.unsubscribe(1, { cmd: 'unsubscribe', unsubscriptions: ['a', 'b'] }, 1)
    expect(settled(q.packetReceived({ cmd: 'unsuback', messageId: 1 }, 2))).toEqual([{ type: 'settle', op: 1, result: { reasonCodes: [] } }])
  })

  it('fails an UNSUBSCRIBE with a ReasonCodeError naming the first failure code of the UNSUBACK', () => {
    const p = connected({ protocolVersion: 5 })
    p.unsubscribe(4, { cmd: 'unsubscribe', unsubscriptions: ['a', 'b', 'c'] }, 1)
    const [s] = settled(p.packetReceived({ cmd: 'unsuback', messageId: 1, granted: [0, 0x87, 0x8f] }, 2))
    expect(s?.op).toBe(4)
    expect(s?.error).toBeInstanceOf(ReasonCodeError)
    expect(s?.error?.message).toBe('Unsubscribe failed with reason code 0x87')
  })
})

describe('life: opening', () => {
  it('moves from starting to connecting on open, asking for a socket to the first server', () => {
    const p = protocol()
    expect(p.state).toBe('starting')
    expect(p.open(0)).toEqual([move('starting', 'connecting'), { type: 'open', url: 'ws://one', attempt: 0 }])
    expect(p.state).toBe('connecting')
  })

  it('opens nothing more while connecting, connected or closed', () => {
    const p = opening()
    expect(p.open(1)).toEqual([])
    p.connectionOpened(1)
    p.packetReceived(accept(), 1)
    expect(p.open(2)).toEqual([])
    p.end(true, 3)
    expect(p.open(4)).toEqual([])
  })

  it('sends CONNECT only on a socket it asked for', () => {
    const p = protocol()
    expect(p.connectionOpened(0)).toEqual([])
    expect(p.state).toBe('starting')
    // A socket that opens after its attempt timed out is not spoken to: a retry is scheduled instead.
    p.open(0)
    p.tick(30_000)
    expect(p.connectionOpened(30_001)).toEqual([])
    expect(p.state).toBe('reconnecting')
  })
})

describe('life: the connect timeout', () => {
  it('gives up on the CONNACK at exactly connectTimeout after open, closing with ConnectTimeoutError and scheduling a retry', () => {
    const p = opening({ connectTimeout: 30_000 }, 1_000)
    p.connectionOpened(1_500)
    // Timed from open(): the socket opening later does not extend it.
    expect(p.nextDeadline()).toBe(31_000)
    expect(p.tick(30_999)).toEqual([])
    const actions = p.tick(31_000)
    expect(actions).toEqual([{ type: 'close', error: expect.any(ConnectTimeoutError) }, move('connecting', 'reconnecting')])
    expect(closes(actions)[0]?.error?.message).toBe('No CONNACK within 30000 ms')
    expect(p.nextDeadline()).toBe(32_000)
  })

  it('times out a socket that never opens the same way, keeping what waits for the next try', () => {
    const p = protocol({ connectTimeout: 5_000 })
    p.publish(1, pub('a', 1), 0)
    p.open(0)
    const actions = p.tick(5_000)
    expect(actions).toEqual([{ type: 'close', error: expect.any(ConnectTimeoutError) }, move('connecting', 'reconnecting')])
    expect(topics(connect(p, 6_000))).toEqual(['a'])
  })
})

describe('life: reconnecting', () => {
  it('retries at the backoff deadline, taking the servers in turn', () => {
    const p = opening()
    expect(p.connectionLost(new TransportError('refused'), 100)).toEqual([move('connecting', 'reconnecting')])
    expect(p.nextDeadline()).toBe(1_100)
    expect(p.tick(1_099)).toEqual([])
    expect(p.tick(1_100)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://two', attempt: 1 }])
    expect(p.nextDeadline()).toBe(31_100)
    p.connectionLost(undefined, 1_200)
    // The second delay has doubled, and the servers wrap round.
    expect(p.nextDeadline()).toBe(3_200)
    expect(p.tick(3_200)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://one', attempt: 2 }])
  })

  it('tells which try comes next and how long until it starts, only while waiting to reconnect', () => {
    const p = opening()
    expect(p.nextReconnect(0)).toBeUndefined()
    p.connectionLost(undefined, 100)
    expect(p.nextReconnect(100)).toEqual({ attempt: 1, in: 1_000 })
    expect(p.nextReconnect(700)).toEqual({ attempt: 1, in: 400 })
    p.tick(1_100)
    expect(p.nextReconnect(1_100)).toBeUndefined()
    p.connectionLost(undefined, 1_200)
    expect(p.nextReconnect(1_200)).toEqual({ attempt: 2, in: 2_000 })
    connect(p, 3_200)
    expect(p.nextReconnect(3_200)).toBeUndefined()
    p.connectionLost(undefined, 4_000)
    // Counted afresh after an accepted connection.
    expect(p.nextReconnect(4_000)?.attempt).toBe(1)
  })

  it('reconnects at once when opened while waiting to retry', () => {
    const p = connected()
    p.connectionLost(undefined, 500)
    expect(p.open(600)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://two', attempt: 1 }])
    expect(p.nextDeadline()).toBe(30_600)
  })

  it('brings the delay back to minDelay only after a connection that stayed up for resetAfter', () => {
    // Two failed tries grow the delay to 4 s; the connection accepted at 3 000 then decides.
    const afterUpFor = (ms: number): number | undefined => {
      const p = opening()
      p.connectionLost(undefined, 0)
      p.tick(1_000)
      p.connectionLost(undefined, 1_000)
      connect(p, 3_000)
      p.connectionLost(undefined, 3_000 + ms)
      return p.nextDeadline()
    }
    expect(afterUpFor(9_999)).toBe(3_000 + 9_999 + 4_000)
    expect(afterUpFor(10_000)).toBe(3_000 + 10_000 + 1_000)
  })

  it('ignores a loss reported when no socket is open, and packets that arrive on none', () => {
    const p = protocol()
    expect(p.connectionLost(undefined, 0)).toEqual([])
    expect(p.packetReceived(accept(), 0)).toEqual([])
    expect(p.state).toBe('starting')
    p.open(0)
    p.connectionLost(undefined, 1)
    expect(p.connectionLost(undefined, 2)).toEqual([])
    expect(p.packetReceived({ cmd: 'pingresp' }, 2)).toEqual([])
    // The second report did not count as another failed try.
    expect(p.nextDeadline()).toBe(1_001)
  })
})

describe('life: the network', () => {
  it('closes with TransportError when the browser goes offline while connected', () => {
    const p = connected()
    const actions = p.networkOffline(100)
    expect(actions).toEqual([{ type: 'close', error: expect.any(TransportError) }, move('connected', 'reconnecting')])
    expect(closes(actions)[0]?.error?.message).toBe('The browser went offline')
  })

  it('holds a due retry while offline, then retries as soon as the network is back', () => {
    const p = connected()
    p.networkOffline(100)
    expect(p.nextDeadline()).toBe(1_100)
    expect(p.tick(1_100)).toEqual([])
    expect(p.state).toBe('reconnecting')
    // Nothing is timed any more: the online event starts the next try.
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.nextReconnect(1_100)).toEqual({ attempt: 1 })
    expect(p.tick(60_000)).toEqual([])
    expect(p.networkOnline(60_000)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://two', attempt: 1 }])
    expect(p.nextDeadline()).toBe(90_000)
  })

  it('retries at once when the network comes back before the retry is due', () => {
    const p = connected()
    p.connectionLost(undefined, 0)
    expect(p.networkOnline(10)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://two', attempt: 1 }])
  })

  it('retries at the deadline again once the network is back, after an offline spell that saw no deadline', () => {
    const p = connected()
    p.networkOffline(100)
    p.networkOnline(200)
    p.connectionLost(undefined, 300)
    expect(p.tick(2_300)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://one', attempt: 2 }])
  })

  it('only notes the network when there is no socket to close nor a retry to start', () => {
    const p = protocol()
    expect(p.networkOffline(0)).toEqual([])
    expect(p.networkOnline(1)).toEqual([])
    expect(p.state).toBe('starting')
    const q = connected()
    expect(q.networkOnline(1)).toEqual([])
    q.connectionLost(undefined, 2)
    expect(q.networkOffline(3)).toEqual([])
    expect(q.state).toBe('reconnecting')
  })
})

describe('life: giving up', () => {
  it('goes to disconnected on a refusal retrying cannot fix, failing what waits with a ConnectionClosedError that names the cause', () => {
    const p = protocol()
    p.publish(1, pub('a', 1), 0)
    p.open(0)
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 5 }, 1)
    const refused = closes(actions)[0]?.error
    expect(refused).toBeInstanceOf(ConnectionRefusedError)
    expect(actions).toEqual([
      { type: 'close', error: refused },
      { type: 'settle', op: 1, error: expect.any(ConnectionClosedError) },
      move('connecting', 'disconnected'),
    ])
    const failure = settled(actions)[0]?.error
    expect(failure?.message).toBe('Connection closed and not reconnecting: Connection refused (code 5): not authorized')
    expect(failure?.cause).toBe(refused)
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.tick(1_000_000)).toEqual([])
    const refusal = p.refusal()
    expect(refusal).toBeInstanceOf(ConnectionClosedError)
    expect(refusal?.message).toBe('Client is disconnected and will not reconnect: Connection refused (code 5): not authorized')
  })

  it.each([
    [4, 4, 'disconnected'],
    [4, 5, 'disconnected'],
    [4, 3, 'reconnecting'],
    [5, 0x87, 'disconnected'],
    [5, 0x88, 'reconnecting'],
  ] as const)('on an MQTT %s CONNACK refusing with code %s, moves to %s', (protocolVersion, code, state) => {
    const p = opening({ protocolVersion })
    p.connectionOpened(0)
    const connack: IncomingPacket =
      protocolVersion === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: code } : { cmd: 'connack', sessionPresent: false, returnCode: code }
    p.packetReceived(connack, 1)
    expect(p.state).toBe(state)
  })

  it('gives up once maxAttempts tries in a row have failed, naming the last failure', () => {
    const p = protocol({ reconnect: { ...RECONNECT, maxAttempts: 2 } })
    p.publish(1, pub('a', 1), 0)
    p.open(0)
    p.connectionLost(undefined, 0)
    expect(p.tick(1_000)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://two', attempt: 1 }])
    p.connectionLost(undefined, 1_000)
    expect(p.tick(3_000)).toEqual([move('reconnecting', 'connecting'), { type: 'open', url: 'ws://one', attempt: 2 }])
    const actions = p.connectionLost(new TransportError('socket refused'), 3_000)
    expect(actions).toEqual([{ type: 'settle', op: 1, error: expect.any(ConnectionClosedError) }, move('connecting', 'disconnected')])
    expect(settled(actions)[0]?.error?.message).toBe('Connection closed and not reconnecting: socket refused')
    expect(p.refusal()?.message).toBe('Client is disconnected and will not reconnect: socket refused')
  })

  it('gives up at the first loss when reconnect is off, naming no cause when the socket gave none', () => {
    const p = connected({ reconnect: false })
    p.publish(1, pub('a', 1), 1)
    const [s] = settled(p.connectionLost(undefined, 2))
    expect(s?.error).toBeInstanceOf(ConnectionClosedError)
    expect(s?.error?.message).toBe('Connection closed and not reconnecting')
    expect(s?.error?.cause).toBeUndefined()
    expect(p.refusal()?.message).toBe('Client is disconnected and will not reconnect')
  })

  it('refuses new operations only once ending or given up, saying which', () => {
    const p = protocol()
    expect(p.refusal()).toBeUndefined()
    p.open(0)
    expect(p.refusal()).toBeUndefined()
    p.connectionOpened(0)
    p.packetReceived(accept(), 0)
    expect(p.refusal()).toBeUndefined()
    p.connectionLost(undefined, 1)
    expect(p.refusal()).toBeUndefined()
    connect(p, 2)
    p.publish(1, pub('a', 1), 2)
    p.end(false, 3)
    expect(p.state).toBe('closing')
    const ending = p.refusal()
    expect(ending).toBeInstanceOf(ClientClosedError)
    expect(ending?.message).toBe('Client is ending: no new operations are accepted')
    p.tick(5_003)
    expect(p.state).toBe('closed')
    expect(p.refusal()).toBeInstanceOf(ClientClosedError)
  })
})

describe('life: ending', () => {
  it('fails what is still pending at exactly endTimeout, then sends DISCONNECT and closes', () => {
    const p = connected({ keepalive: 60, maxInflight: 1, endTimeout: 5_000 })
    p.publish(1, pub('a', 1), 0)
    p.publish(2, pub('b', 1), 0)
    expect(p.end(false, 1_000)).toEqual([move('connected', 'closing')])
    expect(p.nextDeadline()).toBe(6_000)
    expect(p.tick(5_999)).toEqual([])
    const actions = p.tick(6_000)
    expect(actions).toEqual([
      // Still an intended end: DISCONNECT, so the broker does not publish the will.
      wrote({ cmd: 'disconnect' }),
      { type: 'close' },
      { type: 'settle', op: 1, error: expect.any(ClientClosedError) },
      { type: 'settle', op: 2, error: expect.any(ClientClosedError) },
      move('closing', 'closed'),
    ])
    expect(settled(actions)[0]?.error?.message).toBe('Client was ended before the operation completed')
    expect(p.nextDeadline()).toBeUndefined()
  })

  it('keeps the keepalive running while closing, and a dead connection ends it', () => {
    const p = connected({ keepalive: 10, endTimeout: 30_000 })
    p.publish(1, pub('a', 1), 0)
    p.end(false, 1_000)
    expect(p.nextDeadline()).toBe(10_000)
    expect(sent(p.tick(10_000))).toEqual([{ cmd: 'pingreq' }])
    expect(p.nextDeadline()).toBe(15_000)
    expect(p.tick(15_000)).toEqual([
      { type: 'close', error: expect.any(KeepaliveTimeoutError) },
      { type: 'settle', op: 1, error: expect.any(ClientClosedError) },
      move('closing', 'closed'),
    ])
  })

  it('ends at once while connecting: closes the socket without DISCONNECT, failing what waits', () => {
    const p = opening()
    p.publish(1, pub('a', 1), 0)
    expect(p.end(false, 1)).toEqual([
      { type: 'close' },
      { type: 'settle', op: 1, error: expect.any(ClientClosedError) },
      move('connecting', 'closed'),
    ])
    expect(p.nextDeadline()).toBeUndefined()
  })

  it('ends at once while waiting to reconnect, with no socket to close, and tries no more', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 0)
    p.connectionLost(undefined, 1)
    expect(p.end(false, 2)).toEqual([{ type: 'settle', op: 1, error: expect.any(ClientClosedError) }, move('reconnecting', 'closed')])
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.tick(1_001)).toEqual([])
    expect(p.networkOnline(1_002)).toEqual([])
  })

  it('ends a client that gave up at once, settling nothing twice', () => {
    const p = connected({ reconnect: false })
    p.publish(1, pub('a', 1), 0)
    p.connectionLost(undefined, 1)
    expect(p.end(false, 2)).toEqual([move('disconnected', 'closed')])
    expect(p.refusal()).toBeInstanceOf(ClientClosedError)
  })

  it('force-ends while connected: DISCONNECT and close at once, failing what is pending', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 0)
    expect(p.end(true, 1)).toEqual([
      wrote({ cmd: 'disconnect' }),
      { type: 'close' },
      { type: 'settle', op: 1, error: expect.any(ClientClosedError) },
      move('connected', 'closed'),
    ])
  })

  it('keeps the first end() while closing, even against a forced one', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 0)
    p.end(false, 1)
    expect(p.end(true, 2)).toEqual([])
    expect(p.state).toBe('closing')
    expect(cmds(p.packetReceived({ cmd: 'puback', messageId: 1 }, 3))).toEqual(['disconnect'])
  })

  it('keeps the DISCONNECT reason of the first end() while closing, whatever a later end() gives (MQTT 5)', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 1), 0)
    p.end(false, 1, { reasonCode: 0x04 })
    expect(p.end(false, 2, { reasonCode: 0x00 })).toEqual([])
    expect(p.end(true, 3, { reasonCode: 0x00 })).toEqual([])
    expect(sent(p.packetReceived({ cmd: 'puback', messageId: 1 }, 4))).toEqual([{ cmd: 'disconnect', reasonCode: 0x04 }])
  })

  it('is closed when the connection is lost while closing, failing what was pending and retrying nothing', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 0)
    p.end(false, 1)
    expect(p.connectionLost(new TransportError('reset'), 2)).toEqual([
      { type: 'settle', op: 1, error: expect.any(ClientClosedError) },
      move('closing', 'closed'),
    ])
    expect(p.nextDeadline()).toBeUndefined()
  })

  it('is closed when the browser goes offline while closing', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 0)
    p.end(false, 1)
    expect(p.networkOffline(2)).toEqual([
      { type: 'close', error: expect.any(TransportError) },
      { type: 'settle', op: 1, error: expect.any(ClientClosedError) },
      move('closing', 'closed'),
    ])
  })

  it('sends QoS 0 at once while closing even when queueQoS0 is off, since the connection is still up', () => {
    const p = connected({ queueQoS0: false })
    p.publish(1, pub('a', 1), 0)
    p.end(false, 1)
    expect(p.publish(2, pub('b', 0), 2)).toEqual([wrote(pub('b', 0)), { type: 'settle', op: 2 }])
  })
})

describe('resubscribing after a fresh session', () => {
  const granted = Array.from({ length: 120 }, (_, i): Subscription => ({ topic: `t/${i}`, qos: 1 }))

  it('makes the granted subscriptions again in SUBSCRIBEs of at most 50 filters, ahead of the re-sent in-flight packets', () => {
    const p = connected({ maxInflight: 1 }, 0, () => granted)
    p.publish(1, pub('p', 1), 1)
    p.unsubscribe(2, unsubscribePacket('u'), 1)
    p.publish(3, pub('q', 1), 1)
    const actions = reconnect(p, 2, false)
    expect(actions[0]).toMatchObject({ type: 'state', to: 'connected' })
    // Each once: the new SUBSCRIBEs are not re-sent again among the in-flight packets.
    expect(sent(actions)).toEqual([
      { cmd: 'subscribe', messageId: 3, subscriptions: granted.slice(0, 50) },
      { cmd: 'subscribe', messageId: 4, subscriptions: granted.slice(50, 100) },
      { cmd: 'subscribe', messageId: 5, subscriptions: granted.slice(100) },
      { ...pub('p', 1), dup: true, messageId: 1 },
      { ...unsubscribePacket('u'), messageId: 2 },
    ])
    expect(settled(actions)).toEqual([])
  })

  it('puts exactly 50 filters in one SUBSCRIBE, and makes none when nothing was granted', () => {
    const fifty = connected({}, 0, () => granted.slice(0, 50))
    expect(sent(reconnect(fifty, 1, false))).toEqual([{ cmd: 'subscribe', messageId: 1, subscriptions: granted.slice(0, 50) }])
    const none = connected({}, 0, () => [])
    expect(sent(reconnect(none, 1, false))).toEqual([])
  })

  it('makes exactly 50 filters again in one SUBSCRIBE and nothing more: no empty SUBSCRIBE, no error', () => {
    const p = connected({}, 0, () => granted.slice(0, 50))
    const actions = reconnect(p, 1, false)
    expect(actions.filter((a) => a.type !== 'state')).toEqual([wrote({ cmd: 'subscribe', messageId: 1, subscriptions: granted.slice(0, 50) })])
  })

  it('does not count the SUBSCRIBEs made again against the publish window', () => {
    const p = connected({ maxInflight: 1 }, 0, () => granted.slice(0, 2))
    reconnect(p, 1, false)
    expect(topics(p.publish(1, pub('a', 1), 2))).toEqual(['a'])
  })

  it('does not resubscribe on the first connection, even after refused tries, nor when the broker kept the session', () => {
    const p = protocol({}, () => granted)
    p.open(0)
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 3 }, 1)
    expect(cmds(connect(p, 2, false))).toEqual([])
    expect(cmds(reconnect(p, 3, true))).toEqual([])
  })

  it('settles nothing when the broker grants the SUBSCRIBE made again, and has nothing left to send of it', () => {
    const p = connected({}, 0, () => granted.slice(0, 2))
    reconnect(p, 1, false)
    expect(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1, 1] }, 2)).toEqual([])
    expect(sent(reconnect(p, 3, true))).toEqual([])
  })

  it('reports a filter refused on resubscribe as an error action, settling nothing', () => {
    const p = connected({}, 0, () => granted.slice(0, 2))
    reconnect(p, 1, false)
    const actions = p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1, 0x80] }, 2)
    expect(actions).toEqual([{ type: 'error', error: expect.any(SubscribeError) }])
    expect(errors(actions)[0]?.message).toBe('Broker refused subscription to "t/1" (code 0x80)')
  })

  it('sends a SUBSCRIBE made again once more when the next connection keeps the session before its SUBACK', () => {
    const p = connected({}, 0, () => granted.slice(0, 2))
    reconnect(p, 1, false)
    expect(sent(reconnect(p, 2, true))).toEqual([{ cmd: 'subscribe', messageId: 1, subscriptions: granted.slice(0, 2) }])
  })
})

describe('state moves', () => {
  it('carry where the life came from and where it went, and only a move to connected carries its CONNACK', () => {
    const p = protocol({ endTimeout: 1_000 })
    const first: IncomingPacket = { cmd: 'connack', sessionPresent: false, returnCode: 0 }
    const second: IncomingPacket = { cmd: 'connack', sessionPresent: true, returnCode: 0 }
    const all: Actions = [
      ...p.open(0),
      ...p.connectionOpened(0),
      ...p.packetReceived(first, 1),
      ...p.connectionLost(undefined, 2),
      ...p.tick(1_002),
      ...p.connectionOpened(1_002),
      ...p.packetReceived(second, 1_003),
      ...p.publish(1, pub('a', 1), 1_003),
      ...p.end(false, 1_004),
      ...p.tick(2_004),
    ]
    // Strict: a move that is not to connected has no connack field at all.
    expect(all.filter((a) => a.type === 'state')).toStrictEqual([
      move('starting', 'connecting'),
      { type: 'state', from: 'connecting', to: 'connected', connack: first },
      move('connected', 'reconnecting'),
      move('reconnecting', 'connecting'),
      { type: 'state', from: 'connecting', to: 'connected', connack: second },
      move('connected', 'closing'),
      move('closing', 'closed'),
    ])
  })
})

describe('the one deadline', () => {
  it('is the CONNACK, the keepalive, the next try or the end of closing, as the state wants', () => {
    const p = protocol({ keepalive: 10, connectTimeout: 30_000, endTimeout: 5_000 })
    expect(p.nextDeadline()).toBeUndefined()
    p.open(0)
    expect(p.nextDeadline()).toBe(30_000)
    p.connectionOpened(0)
    p.packetReceived(accept(), 100)
    expect(p.nextDeadline()).toBe(10_000)
    p.connectionLost(undefined, 2_000)
    expect(p.nextDeadline()).toBe(3_000)
    p.tick(3_000)
    expect(p.nextDeadline()).toBe(33_000)
    p.connectionOpened(3_000)
    p.packetReceived(accept(true), 3_000)
    expect(p.nextDeadline()).toBe(13_000)
    p.publish(1, pub('a', 1), 3_000)
    p.end(false, 4_000)
    // Closing: the end timeout comes before the keepalive's 13 000.
    expect(p.nextDeadline()).toBe(9_000)
    p.tick(9_000)
    expect(p.state).toBe('closed')
    expect(p.nextDeadline()).toBeUndefined()
  })

  it('is the end of closing alone when keepalive is off', () => {
    const p = connected({ keepalive: 0, endTimeout: 5_000 })
    p.publish(1, pub('a', 1), 0)
    p.end(false, 100)
    expect(p.nextDeadline()).toBe(5_100)
  })
})

// Last in the file, being the slowest: it fills the whole id space, the only way to see ids run out and come back.
describe('the packet id space', () => {
  it('queues operations while all 65535 ids are in flight, and gives each id back on its ack', { timeout: 60_000 }, () => {
    const p = connected()
    const ids = new Set<number>()
    for (let op = 1; op <= 65_535; op++) {
      for (const packet of sent(p.subscribe(op, subscribePacket('s'), 1))) ids.add((packet as SubscribePacket).messageId)
    }
    expect(ids.size).toBe(65_535)
    // Neither is sent nor refused: both wait in the queue.
    expect(p.publish(65_536, pub('a', 1), 1)).toEqual([])
    expect(p.unsubscribe(65_537, unsubscribePacket('s'), 1)).toEqual([])
    // The SUBACK frees id 7 for the queued publish, and its PUBACK frees it again for the UNSUBSCRIBE.
    const suback = p.packetReceived({ cmd: 'suback', messageId: 7, granted: [1] }, 2)
    expect(settled(suback)).toEqual([{ type: 'settle', op: 7, granted: [{ topic: 's', qos: 1 }] }])
    expect(sent(suback)).toEqual([{ ...pub('a', 1), messageId: 7 }])
    const puback = p.packetReceived({ cmd: 'puback', messageId: 7 }, 3)
    expect(settled(puback)).toEqual([{ type: 'settle', op: 65_536, result: { reasonCode: 0 } }])
    expect(sent(puback)).toEqual([{ ...unsubscribePacket('s'), messageId: 7 }])
    // The queue is empty now: the next freed id has nothing to carry.
    expect(sent(p.packetReceived({ cmd: 'suback', messageId: 8, granted: [1] }, 4))).toEqual([])
  })
})

describe('a packet that cannot be encoded', () => {
  // Input checks keep such packets out; these reach the protocol anyway, as a bug would, through
  // a topic longer than MQTT's 65,535 bytes.
  const unencodable = (qos: 0 | 1 | 2) => pub('t'.repeat(65_536), qos)

  it('rejects a QoS 1 publish with a ProtocolError, sends nothing, and frees its window slot for the next', () => {
    const p = connected({ maxInflight: 1 })
    const actions = p.publish(1, unencodable(1), 1)
    expect(sent(actions)).toEqual([])
    expect(settled(actions)).toEqual([{ type: 'settle', op: 1, error: expect.any(ProtocolError) }])
    expect(topics(p.publish(2, pub('next', 1), 2))).toEqual(['next'])
    expect(settled(p.packetReceived({ cmd: 'puback', messageId: 2 }, 3))).toEqual([{ type: 'settle', op: 2, result: { reasonCode: 0 } }])
  })

  it('rejects a QoS 0 publish rather than resolving it, and sends nothing', () => {
    const actions = connected().publish(1, unencodable(0), 1)
    expect(sent(actions)).toEqual([])
    expect(settled(actions)).toEqual([{ type: 'settle', op: 1, error: expect.any(ProtocolError) }])
  })

  it('fails a queued publish when its turn comes after the CONNACK, and sends the ones behind it', () => {
    const p = protocol()
    p.publish(1, unencodable(2), 0)
    p.publish(2, pub('ok', 1), 0)
    const actions = connect(p, 1)
    expect(settled(actions)).toEqual([{ type: 'settle', op: 1, error: expect.any(ProtocolError) }])
    expect(topics(actions)).toEqual(['ok'])
    expect(endsAtOnce(p, 2)).toBe(false)
  })

  it('gives up at once on a CONNECT it cannot encode, naming why, rather than retrying forever', () => {
    const p = opening({ clientId: 'c'.repeat(65_536) })
    const actions = p.connectionOpened(1)
    expect(sent(actions)).toEqual([])
    expect(closes(actions)).toEqual([{ type: 'close', error: expect.any(ProtocolError) }])
    expect(p.state).toBe('disconnected')
    expect(p.refusal()?.message).toMatch(/Cannot encode connect/)
    expect(p.nextDeadline()).toBeUndefined()
  })
})

/** Connects an MQTT 5 protocol at 0 with a CONNACK carrying these properties. */
function connected5(properties: ConnackProperties, overrides: Partial<ProtocolOptions> = {}): Protocol<Op> {
  const p = protocol({ protocolVersion: 5, ...overrides })
  p.open(0)
  p.connectionOpened(0)
  p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties }, 0)
  return p
}

describe('what an MQTT 5 CONNACK announces', () => {
  it('pings on the Server Keep Alive rather than the keepalive asked for, and goes back to ours without one', () => {
    const p = connected5({ serverKeepAlive: 10 }, { keepalive: 60 })
    expect(p.nextDeadline()).toBe(10_000)
    p.connectionLost(undefined, 1)
    connect(p, 1)
    expect(p.nextDeadline()).toBe(60_001)
  })

  it('adopts the client id the broker assigned, and gives it in every later CONNECT', () => {
    const p = connected5({ assignedClientIdentifier: 'srv-7' }, { clientId: '' })
    expect(p.clientId).toBe('srv-7')
    p.connectionLost(undefined, 1)
    p.open(1)
    expect(sent(p.connectionOpened(1))).toMatchObject([{ cmd: 'connect', clientId: 'srv-7' }])
  })

  it('keeps the last CONNACK readable, and none before the first', () => {
    expect(protocol().connack).toBeUndefined()
    const p = connected5({ maximumQoS: 1 })
    expect(p.connack).toEqual({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { maximumQoS: 1 } })
  })

  it('rejects a publish over the Maximum QoS, naming the limit, and sends nothing', () => {
    const p = connected5({ maximumQoS: 1 })
    const actions = p.publish(1, pub('t', 2), 1)
    expect(sent(actions)).toEqual([])
    const [settle] = settled(actions)
    expect(settle?.error).toBeInstanceOf(BrokerLimitError)
    expect(settle?.error).toMatchObject({ limit: 'maximumQoS' })
    expect(topics(p.publish(2, pub('ok', 1), 2))).toEqual(['ok'])
  })

  it('rejects a retained publish when Retain Available is 0, and a packet over the Maximum Packet Size', () => {
    const p = connected5({ retainAvailable: false, maximumPacketSize: 100 })
    const retained = { ...pub('t', 0), retain: true }
    expect(settled(p.publish(1, retained, 1))[0]?.error).toMatchObject({ limit: 'retainAvailable' })
    expect(settled(p.publish(2, pub('t', 1, 'x'.repeat(200)), 1))[0]?.error).toMatchObject({ limit: 'maximumPacketSize' })
    const subscribe = { cmd: 'subscribe' as const, subscriptions: [{ topic: 'x'.repeat(200), qos: 0 as const }] }
    expect(settled(p.subscribe(3, subscribe, 1))[0]?.error).toMatchObject({ limit: 'maximumPacketSize' })
    expect(cmds(p.publish(4, pub('t', 1, 'x'.repeat(50)), 1))).toEqual(['publish'])
  })

  it('rejects wildcard, shared and identified subscriptions the broker says it does not support', () => {
    const p = connected5({ wildcardSubscriptionAvailable: false, sharedSubscriptionAvailable: false, subscriptionIdentifiersAvailable: false })
    const sub = (topic: string, properties?: SubscribePacket['properties']) => ({ cmd: 'subscribe' as const, subscriptions: [{ topic, qos: 0 as const }], ...(properties ? { properties } : {}) })
    expect(settled(p.subscribe(1, sub('a/+'), 1))[0]?.error).toMatchObject({ limit: 'wildcardSubscriptionAvailable' })
    expect(settled(p.subscribe(2, sub('$share/g/a'), 1))[0]?.error).toMatchObject({ limit: 'sharedSubscriptionAvailable' })
    expect(settled(p.subscribe(3, sub('a', { subscriptionIdentifier: 4 }), 1))[0]?.error).toMatchObject({ limit: 'subscriptionIdentifiersAvailable' })
    expect(cmds(p.subscribe(4, sub('a'), 1))).toEqual(['subscribe'])
  })

  it('judges a queued message by the limits of the connection it would go on, not an earlier one', () => {
    const p = connected5({ maximumQoS: 0 })
    p.connectionLost(undefined, 1)
    p.publish(1, pub('t', 2), 1)
    p.open(2)
    p.connectionOpened(2)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: true, reasonCode: 0 }, 2)
    expect(topics(actions)).toEqual(['t'])
  })

  it('announces our maximum packet size in an MQTT 5 CONNECT, beside the caller properties, and not in 3.1.1', () => {
    const [v5] = sent(opening({ protocolVersion: 5, maxPacketSize: 1000, properties: { sessionExpiryInterval: 5 } }).connectionOpened(0))
    expect(v5).toMatchObject({ properties: { sessionExpiryInterval: 5, maximumPacketSize: 1000 } })
    const [v4] = sent(opening({ protocolVersion: 4, maxPacketSize: 1000 }).connectionOpened(0))
    expect(v4).not.toHaveProperty('properties')
  })

  it('sends an MQTT 5 CONNECT with no properties at all when no properties and no maximum packet size are set', () => {
    const [bare] = sent(opening({ protocolVersion: 5 }).connectionOpened(0))
    expect(bare).not.toHaveProperty('properties')
    const [given] = sent(opening({ protocolVersion: 5, properties: { sessionExpiryInterval: 5 } }).connectionOpened(0))
    expect(given).toHaveProperty('properties', { sessionExpiryInterval: 5 })
    expect((given as { properties: object }).properties).not.toHaveProperty('maximumPacketSize')
  })

  it('keeps its own client id when the CONNACK assigns none', () => {
    const p = connected5({})
    expect(p.clientId).toBe('c1')
    p.connectionLost(undefined, 1)
    p.open(1)
    expect(sent(p.connectionOpened(1))).toMatchObject([{ cmd: 'connect', clientId: 'c1' }])
  })
})

describe('the MQTT version', () => {
  it('stops for good when a 3.1.1 broker refuses MQTT 5, saying so', () => {
    const p = opening({ protocolVersion: 5 })
    p.connectionOpened(0)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 1 }, 1)
    expect(closes(actions)[0]?.error?.message).toMatch(/does not support MQTT 5/)
    expect(p.state).toBe('disconnected')
  })

  it("under 'auto' falls back to 3.1.1 on a new socket at once, still connecting, and keeps 3.1.1", () => {
    const p = opening({ protocolVersion: 'auto' })
    expect(p.protocolVersion).toBe(5)
    expect(sent(p.connectionOpened(0))).toMatchObject([{ cmd: 'connect', protocolVersion: 5 }])
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 1 }, 1)
    expect(actions).toEqual([{ type: 'close' }, { type: 'open', url: SERVERS[0], attempt: 0 }])
    expect(p.state).toBe('connecting')
    expect(p.protocolVersion).toBe(4)
    expect(sent(p.connectionOpened(2))).toMatchObject([{ cmd: 'connect', protocolVersion: 4 }])
    p.packetReceived(accept(), 3)
    expect(p.state).toBe('connected')
    p.connectionLost(undefined, 4)
    p.open(5)
    expect(sent(p.connectionOpened(5))).toMatchObject([{ cmd: 'connect', protocolVersion: 4 }])
  })

  it("under 'auto' gives the 3.1.1 socket a whole connectTimeout for its CONNACK, from the refusal", () => {
    const p = opening({ protocolVersion: 'auto', connectTimeout: 30_000 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 1 }, 1_000)
    expect(p.nextDeadline()).toBe(31_000)
    expect(p.tick(30_999)).toEqual([])
    expect(closes(p.tick(31_000))[0]?.error).toBeInstanceOf(ConnectTimeoutError)
  })

  it("under 'auto' treats a refusal of 3.1.1 too as final, without trying again", () => {
    const p = opening({ protocolVersion: 'auto' })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0x84 }, 1)
    p.connectionOpened(2)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, returnCode: 1 }, 3)
    expect(p.state).toBe('disconnected')
  })
})

describe('a session taken over', () => {
  it('stops reconnecting when the broker says another connection took the session (0x8E)', () => {
    const p = connected5({})
    const actions = p.packetReceived({ cmd: 'disconnect', reasonCode: 0x8e }, 1)
    const error = closes(actions)[0]?.error
    expect(error).toBeInstanceOf(SessionTakenOverError)
    expect(error?.message).toMatch(/session taken over; not reconnecting/)
    expect(p.state).toBe('disconnected')
    expect(p.nextDeadline()).toBeUndefined()
  })

  it('stops on a claim by another client in this browser while connected: closes the socket and fails what waits', () => {
    const p = connected()
    const pending = p.publish(1, pub('t', 1), 1)
    expect(cmds(pending)).toEqual(['publish'])
    const actions = p.sessionClaimed(2)
    expect(closes(actions)[0]?.error).toBeInstanceOf(SessionTakenOverError)
    expect(settled(actions).map((a) => a.error?.code)).toEqual(['CONNECTION_CLOSED'])
    expect(p.state).toBe('disconnected')
    expect(p.nextDeadline()).toBeUndefined()
  })

  it('stops on a claim heard while waiting to reconnect: no socket is opened again', () => {
    const p = connected()
    p.connectionLost(undefined, 1)
    expect(p.state).toBe('reconnecting')
    const actions = p.sessionClaimed(2)
    expect(actions.filter((a) => a.type === 'open' || a.type === 'close')).toEqual([])
    expect(actions.find((a) => a.type === 'error')?.error).toBeInstanceOf(SessionTakenOverError)
    expect(p.state).toBe('disconnected')
    expect(p.nextDeadline()).toBeUndefined()
    expect(p.tick(60_000)).toEqual([])
  })

  it('ignores a claim once it has given up or is ending', () => {
    const p = connected()
    p.publish(1, pub('t', 1), 1)
    p.end(false, 2)
    expect(p.state).toBe('closing')
    expect(p.sessionClaimed(3).filter((a) => a.type === 'close')).toEqual([])
    expect(p.state).toBe('closing')
  })

  it('ignores a claim once it has given up or is closed: nothing happens and the state stays', () => {
    const gaveUp = connected({ reconnect: false })
    gaveUp.connectionLost(undefined, 1)
    expect(gaveUp.state).toBe('disconnected')
    expect(gaveUp.sessionClaimed(2)).toEqual([])
    expect(gaveUp.state).toBe('disconnected')
    const ended = connected()
    ended.end(true, 1)
    expect(ended.sessionClaimed(2)).toEqual([])
    expect(ended.state).toBe('closed')
  })

  it('says another client in this browser took the session when claimed', () => {
    const error = closes(connected().sessionClaimed(1))[0]?.error
    expect(error?.message).toBe('Another client in this browser connected with this client id; not reconnecting')
  })

  it('still reconnects after any other broker DISCONNECT, such as a server shutting down', () => {
    const p = connected5({})
    p.packetReceived({ cmd: 'disconnect', reasonCode: 0x8b }, 1)
    expect(p.state).toBe('reconnecting')
  })
})

describe('what an acknowledgement says, reported whole', () => {
  it('resolves a QoS 1 publish with the PUBACK reason code and properties', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('t', 1), 1)
    const properties = { reasonString: 'nobody listens', userProperties: { k: 'v' } }
    const [s] = settled(p.packetReceived({ cmd: 'puback', messageId: 1, reasonCode: 0x10, properties }, 2))
    expect(s).toEqual({ type: 'settle', op: 1, result: { reasonCode: 0x10, properties } })
  })

  it('resolves a QoS 2 publish with what its PUBREC said, not the PUBCOMP', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('t', 2), 1)
    p.packetReceived({ cmd: 'pubrec', messageId: 1, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } }, 2)
    const [s] = settled(p.packetReceived({ cmd: 'pubcomp', messageId: 1 }, 3))
    expect(s?.result).toEqual({ reasonCode: 0x10, properties: { reasonString: 'no subscribers' } })
  })

  it("puts the broker's reason code and reason string on a refused publish, subscribe and unsubscribe", () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('t', 1), 1)
    const pubError = settled(p.packetReceived({ cmd: 'puback', messageId: 1, reasonCode: 0x87, properties: { reasonString: 'no' } }, 2))[0]?.error
    expect(pubError).toBeInstanceOf(ReasonCodeError)
    expect(pubError).toMatchObject({ reasonCode: 0x87, reasonString: 'no', message: 'Publish failed with reason code 0x87: no' })
    p.subscribe(2, { cmd: 'subscribe', subscriptions: [{ topic: 'a', qos: 0 }, { topic: 'b', qos: 0 }] }, 3)
    const subError = settled(p.packetReceived({ cmd: 'suback', messageId: 2, granted: [0, 0x87], properties: { reasonString: 'acl' } }, 4))[0]?.error
    expect(subError).toBeInstanceOf(SubscribeError)
    expect(subError).toMatchObject({ reasonCode: 0x87, reasonString: 'acl' })
    p.unsubscribe(3, { cmd: 'unsubscribe', unsubscriptions: ['a'] }, 5)
    const unsubError = settled(p.packetReceived({ cmd: 'unsuback', messageId: 3, granted: [0x8f], properties: { reasonString: 'bad' } }, 6))[0]?.error
    expect(unsubError).toMatchObject({ reasonCode: 0x8f, reasonString: 'bad' })
  })
})

describe('a message the broker will never take', () => {
  it('fails the publish a DISCONNECT blames (0x95 packet too large) and reconnects without it', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('ok', 1), 1)
    p.publish(2, pub('poison', 1), 1)
    const actions = p.packetReceived({ cmd: 'disconnect', reasonCode: 0x95, properties: { reasonString: 'too big' } }, 2)
    const [s] = settled(actions)
    expect(s?.op).toBe(2)
    expect(s?.error).toBeInstanceOf(ReasonCodeError)
    expect(s?.error).toMatchObject({ reasonCode: 0x95, reasonString: 'too big' })
    expect(p.state).toBe('reconnecting')
    p.open(3)
    p.connectionOpened(3)
    const resent = p.packetReceived({ cmd: 'connack', sessionPresent: true, reasonCode: 0 }, 3)
    expect(topics(resent)).toEqual(['ok'])
  })

  it('blames nothing when the last thing written was a QoS 0 message, or on a DISCONNECT about the connection', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 0), 1)
    expect(settled(p.packetReceived({ cmd: 'disconnect', reasonCode: 0x97 }, 2))).toEqual([])
    const q = connected({ protocolVersion: 5 })
    q.publish(1, pub('a', 1), 1)
    expect(settled(q.packetReceived({ cmd: 'disconnect', reasonCode: 0x8b }, 2))).toEqual([])
  })

  it('fails a SUBSCRIBE the broker disconnects over (0xA2 wildcards not supported)', () => {
    const p = connected({ protocolVersion: 5 })
    p.subscribe(1, { cmd: 'subscribe', subscriptions: [{ topic: 'a/#', qos: 0 }] }, 1)
    const [s] = settled(p.packetReceived({ cmd: 'disconnect', reasonCode: 0xa2 }, 2))
    expect(s).toMatchObject({ op: 1, error: { reasonCode: 0xa2 } })
  })

  it('names the kind of operation it blames in the error: Publish, Subscribe or Unsubscribe', () => {
    const blamed = (write: (p: Protocol<Op>) => void) => {
      const p = connected({ protocolVersion: 5 })
      write(p)
      return settled(p.packetReceived({ cmd: 'disconnect', reasonCode: 0x8f }, 2))[0]?.error?.message
    }
    expect(blamed((p) => p.publish(1, pub('a', 1), 1))).toBe('Publish failed with reason code 0x8f')
    expect(blamed((p) => p.subscribe(1, subscribePacket('a'), 1))).toBe('Subscribe failed with reason code 0x8f')
    expect(blamed((p) => p.unsubscribe(1, unsubscribePacket('a'), 1))).toBe('Unsubscribe failed with reason code 0x8f')
  })
})

describe('ending with a reason (MQTT 5)', () => {
  it('sends the DISCONNECT reason code and properties given to end, now or once what is pending settles', () => {
    const p = connected({ protocolVersion: 5 })
    const farewell = { reasonCode: 0x04, properties: { sessionExpiryInterval: 0 } }
    expect(sent(p.end(true, 1, farewell))).toEqual([{ cmd: 'disconnect', ...farewell }])
    const q = connected({ protocolVersion: 5 })
    q.publish(1, pub('a', 1), 1)
    expect(sent(q.end(false, 2, farewell))).toEqual([])
    expect(sent(q.packetReceived({ cmd: 'puback', messageId: 1 }, 3))).toEqual([{ cmd: 'disconnect', ...farewell }])
  })

  it('sends a bare DISCONNECT on 3.1.1 whatever end was given', () => {
    const p = connected({ protocolVersion: 4 })
    expect(sent(p.end(true, 1, { reasonCode: 0x04 }))).toEqual([{ cmd: 'disconnect' }])
  })
})

describe('topic aliases through the protocol', () => {
  it('delivers an alias-only PUBLISH under the topic its alias was given, when we announced a maximum', () => {
    const p = connected5({}, { properties: { topicAliasMaximum: 5 } })
    const first = { ...incoming(0), topic: 'a/b', properties: { topicAlias: 2 } }
    const second = { ...incoming(0), topic: '', properties: { topicAlias: 2 } }
    expect(messages(p.packetReceived(first, 1)).map((m) => m.topic)).toEqual(['a/b'])
    expect(messages(p.packetReceived(second, 2)).map((m) => m.topic)).toEqual(['a/b'])
  })

  it('answers an alias it cannot know with DISCONNECT 0x94 and closes, delivering nothing', () => {
    const p = connected5({}, { properties: { topicAliasMaximum: 5 } })
    const actions = p.packetReceived({ ...incoming(1, 1), topic: '', properties: { topicAlias: 4 } }, 1)
    expect(messages(actions)).toEqual([])
    expect(sent(actions)).toEqual([{ cmd: 'disconnect', reasonCode: 0x94 }])
    expect(closes(actions)[0]?.error).toBeInstanceOf(ProtocolError)
    expect(p.state).toBe('reconnecting')
  })

  it('names the alias it cannot know in the protocol error', () => {
    const p = connected5({}, { properties: { topicAliasMaximum: 5 } })
    const actions = p.packetReceived({ ...incoming(0), topic: '', properties: { topicAlias: 4 } }, 1)
    expect(closes(actions)[0]?.error?.message).toBe('Protocol error from broker: topic alias 4, which it never set or is over our maximum')
  })

  it('takes no topic alias on 3.1.1, where CONNECT announced no maximum, whatever the options say', () => {
    const p = connected({ protocolVersion: 4, properties: { topicAliasMaximum: 5 } })
    const actions = p.packetReceived({ ...incoming(0), topic: 'a', properties: { topicAlias: 1 } }, 1)
    expect(messages(actions)).toEqual([])
    expect(closes(actions)[0]?.error?.message).toBe('Protocol error from broker: topic alias 1, which it never set or is over our maximum')
  })

  it('sends SUBSCRIBE and UNSUBSCRIBE as they are to a broker that takes topic aliases', () => {
    const p = connected5({ topicAliasMaximum: 10 })
    expect(sent(p.subscribe(1, subscribePacket('a'), 1))).toEqual([{ ...subscribePacket('a'), messageId: 1 }])
    expect(sent(p.unsubscribe(2, unsubscribePacket('a'), 1))).toEqual([{ ...unsubscribePacket('a'), messageId: 2 }])
    expect(settled(p.packetReceived({ cmd: 'suback', messageId: 1, granted: [1] }, 2))).toEqual([{ type: 'settle', op: 1, granted: [{ topic: 'a', qos: 1 }] }])
  })

  it('forgets incoming aliases with the connection that set them', () => {
    const p = connected5({}, { properties: { topicAliasMaximum: 5 } })
    p.packetReceived({ ...incoming(0), topic: 'a', properties: { topicAlias: 1 } }, 1)
    p.connectionLost(undefined, 2)
    p.open(2)
    p.connectionOpened(2)
    p.packetReceived({ cmd: 'connack', sessionPresent: true, reasonCode: 0 }, 2)
    expect(closes(p.packetReceived({ ...incoming(0), topic: '', properties: { topicAlias: 1 } }, 3))).toHaveLength(1)
  })

  it('gives repeated topics aliases when the broker takes them, and a message sent again after a reconnect its full topic', () => {
    const p = connected5({ topicAliasMaximum: 10 })
    const wire = [...sent(p.publish(1, pub('t/1', 1), 1)), ...sent(p.publish(2, pub('t/1', 1), 1))] as PublishPacket[]
    expect(wire.map((w) => [w.topic, w.properties?.topicAlias])).toEqual([
      ['t/1', 1],
      ['', 1],
    ])
    p.connectionLost(undefined, 2)
    p.open(2)
    p.connectionOpened(2)
    const resent = sent(p.packetReceived({ cmd: 'connack', sessionPresent: true, reasonCode: 0 }, 2)) as PublishPacket[]
    expect(resent.map((w) => w.topic)).toEqual(['t/1', 't/1'])
  })

  it("sends every topic in full with topicAliases: false, or to a broker that announces no maximum", () => {
    const off = connected5({ topicAliasMaximum: 10 }, { topicAliases: false })
    off.publish(1, pub('t', 0), 1)
    expect(topics(off.publish(2, pub('t', 0), 1))).toEqual(['t'])
    const none = connected5({})
    none.publish(1, pub('t', 0), 1)
    expect(sent(none.publish(2, pub('t', 0), 1))).toEqual([pub('t', 0)])
  })
})

describe('resubscribing with MQTT 5 properties', () => {
  it('makes each filter again with the identifier and user properties it had, one SUBSCRIBE per set', () => {
    const granted = [
      { topic: 'a', qos: 1 as const, properties: { subscriptionIdentifier: 4 } },
      { topic: 'b', qos: 0 as const },
      { topic: 'c', qos: 2 as const, nl: true, properties: { subscriptionIdentifier: 4 } },
      { topic: 'd', qos: 1 as const, properties: { userProperties: { app: 'x' } } },
    ]
    const p = connected({ protocolVersion: 5 }, 0, () => granted)
    p.connectionLost(undefined, 1)
    p.open(1)
    p.connectionOpened(1)
    const actions = p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 1)
    expect(sent(actions)).toEqual([
      { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 1 }, { topic: 'c', qos: 2, nl: true }], properties: { subscriptionIdentifier: 4 } },
      { cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'b', qos: 0 }] },
      { cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'd', qos: 1 }], properties: { userProperties: { app: 'x' } } },
    ])
  })

  it('gives a SUBSCRIBE made again for filters that had no properties no properties field', () => {
    const p = connected({ protocolVersion: 5 }, 0, () => [{ topic: 'b', qos: 0 }])
    const actions = reconnect(p, 1, false)
    // Strict: not even an undefined properties field.
    expect(sent(actions)).toStrictEqual([{ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'b', qos: 0 }] }])
  })
})

describe('sent to another server (MQTT 5)', () => {
  it('on CONNACK 0x9C with a Server Reference, opens that server at once, once, then goes back to its own', () => {
    const p = opening({ protocolVersion: 5 })
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0x9c, properties: { serverReference: 'other:9001' } }, 1)
    expect(p.state).toBe('reconnecting')
    expect(p.nextDeadline()).toBe(1)
    expect(p.tick(1)).toContainEqual({ type: 'open', url: 'ws://other:9001/', attempt: 1 })
    p.connectionLost(undefined, 2)
    expect(p.tick(2 + 1000)).toContainEqual({ type: 'open', url: SERVERS[1], attempt: 2 })
  })

  it('on DISCONNECT 0x9D with a Server Reference, moves to that server for good', () => {
    const p = connected5({})
    p.packetReceived({ cmd: 'disconnect', reasonCode: 0x9d, properties: { serverReference: 'ws://new/' } }, 1)
    expect(p.tick(1)).toContainEqual({ type: 'open', url: 'ws://new/', attempt: 1 })
  })

  it('follows no Server Reference on a DISCONNECT for any other reason: the next try waits its backoff, on the next server', () => {
    const p = connected5({})
    p.packetReceived({ cmd: 'disconnect', reasonCode: 0x8b, properties: { serverReference: 'ws://elsewhere/' } }, 1)
    expect(p.nextDeadline()).toBe(1_001)
    expect(p.tick(1_001)).toContainEqual({ type: 'open', url: SERVERS[1], attempt: 1 })
  })

  it('on 0x9C or 0x9D without a Server Reference, retries as after any other loss', () => {
    for (const reasonCode of [0x9c, 0x9d]) {
      const p = connected5({})
      p.packetReceived({ cmd: 'disconnect', reasonCode }, 1)
      expect(p.nextDeadline()).toBe(1_001)
      expect(p.tick(1_001)).toContainEqual({ type: 'open', url: SERVERS[1], attempt: 1 })
    }
  })

  it('with one server, goes back to it after a 0x9C try elsewhere, but stays on the server a 0x9D names', () => {
    const once = connected5({}, { servers: ['ws://one'] })
    once.packetReceived({ cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'ws://other/' } }, 1)
    expect(once.tick(1)).toContainEqual({ type: 'open', url: 'ws://other/', attempt: 1 })
    once.connectionLost(undefined, 2)
    expect(once.tick(1_002)).toContainEqual({ type: 'open', url: 'ws://one', attempt: 2 })
    const moved = connected5({}, { servers: ['ws://one'] })
    moved.packetReceived({ cmd: 'disconnect', reasonCode: 0x9d, properties: { serverReference: 'ws://new/' } }, 1)
    expect(moved.tick(1)).toContainEqual({ type: 'open', url: 'ws://new/', attempt: 1 })
    moved.connectionLost(undefined, 2)
    expect(moved.tick(1_002)).toContainEqual({ type: 'open', url: 'ws://new/', attempt: 2 })
  })
})

describe('enhanced authentication (MQTT 5 AUTH)', () => {
  const method = { protocolVersion: 5 as const, properties: { authenticationMethod: 'SCRAM' } }
  const challenge = (reasonCode: number, data?: number[]) => ({
    cmd: 'auth' as const,
    reasonCode,
    properties: { authenticationMethod: 'SCRAM', ...(data ? { authenticationData: new Uint8Array(data) } : {}) },
  })

  it('hands each challenge before CONNACK to the owner, and sends its answer under our method', () => {
    const p = opening(method)
    p.connectionOpened(0)
    const asked = p.packetReceived(challenge(0x18, [1]), 1)
    expect(asked).toEqual([{ type: 'auth', packet: challenge(0x18, [1]), connection: 1 }])
    expect(sent(p.authenticate(1, new Uint8Array([2]), 2))).toEqual([challenge(0x18, [2])])
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0 }, 3)
    expect(p.state).toBe('connected')
  })

  it('drops an answer meant for a connection that is gone', () => {
    const p = opening(method)
    p.connectionOpened(0)
    p.packetReceived(challenge(0x18), 1)
    p.connectionLost(undefined, 2)
    expect(p.authenticate(1, undefined, 3)).toEqual([])
  })

  it('gives up for good when the hook fails, and closes on an AUTH it did not ask for', () => {
    const p = opening(method)
    p.connectionOpened(0)
    p.packetReceived(challenge(0x18), 1)
    p.authenticationFailed(1, new ProtocolError('no'), 2)
    expect(p.state).toBe('disconnected')
    const q = opening({ protocolVersion: 5 })
    q.connectionOpened(0)
    expect(closes(q.packetReceived(challenge(0x18), 1))[0]?.error?.message).toMatch(/AUTH without our authentication method/)
  })

  it('re-authenticates on a live connection, settling once the broker answers AUTH 0x00', () => {
    const p = connected({ ...method, clientId: 'c' })
    expect(sent(p.reauthenticate(9, new Uint8Array([5]), 1))).toEqual([challenge(0x19, [5])])
    expect(p.packetReceived(challenge(0x18, [6]), 2)).toEqual([{ type: 'auth', packet: challenge(0x18, [6]), connection: 1 }])
    p.authenticate(1, new Uint8Array([7]), 3)
    expect(settled(p.packetReceived(challenge(0x00), 4))).toEqual([{ type: 'settle', op: 9 }])
  })

  it('settles a re-authentication the broker accepts while a graceful end() waits, and keeps closing', () => {
    const p = connected({ ...method, clientId: 'c' })
    p.publish(5, pub('t', 1), 1)
    p.reauthenticate(9, new Uint8Array([5]), 1)
    p.end(false, 2)
    expect(p.state).toBe('closing')
    const actions = p.packetReceived(challenge(0x00), 3)
    expect(settled(actions)).toEqual([{ type: 'settle', op: 9 }])
    expect(closes(actions)).toEqual([])
    expect(p.state).toBe('closing')
  })

  it('refuses a re-authentication without a method, or while one is under way, and fails it with the connection', () => {
    expect(settled(connected({ protocolVersion: 5 }).reauthenticate(1, undefined, 1))[0]?.error).toBeInstanceOf(ProtocolError)
    const p = connected(method)
    p.reauthenticate(1, undefined, 1)
    expect(settled(p.reauthenticate(2, undefined, 1))[0]?.error?.message).toMatch(/none under way/)
    expect(settled(p.connectionLost(undefined, 2))).toEqual([{ type: 'settle', op: 1, error: expect.any(ConnectionClosedError) }])
  })

  it('drops an answer or a hook failure meant for an earlier connection, even while the next one is connecting', () => {
    const p = opening(method)
    p.connectionOpened(0)
    p.packetReceived(challenge(0x18), 1)
    p.connectionLost(undefined, 2)
    p.open(3)
    p.connectionOpened(3)
    expect(p.authenticate(1, new Uint8Array([1]), 4)).toEqual([])
    expect(p.authenticationFailed(1, new ProtocolError('no'), 4)).toEqual([])
    expect(p.state).toBe('connecting')
    expect(sent(p.authenticate(2, new Uint8Array([1]), 5))).toEqual([challenge(0x18, [1])])
  })

  it('ignores a hook failure reported once the connection is gone', () => {
    const p = opening(method)
    p.connectionOpened(0)
    p.packetReceived(challenge(0x18), 1)
    p.connectionLost(undefined, 2)
    expect(p.authenticationFailed(1, new ProtocolError('no'), 3)).toEqual([])
    expect(p.state).toBe('reconnecting')
  })

  it('answers a challenge with no authentication data when the hook gives none', () => {
    const p = opening(method)
    p.connectionOpened(0)
    p.packetReceived(challenge(0x18), 1)
    // Strict: not even an undefined authenticationData field.
    expect(sent(p.authenticate(1, undefined, 2))).toStrictEqual([{ cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM' } }])
  })

  it('refuses a re-authentication on 3.1.1 even with an authentication method, saying what it needs', () => {
    const p = connected({ protocolVersion: 4, properties: { authenticationMethod: 'SCRAM' } })
    const actions = p.reauthenticate(1, undefined, 1)
    expect(sent(actions)).toEqual([])
    expect(settled(actions)[0]?.error?.message).toBe('re-authentication needs MQTT 5 and an authenticationMethod in the CONNECT properties')
  })

  it('fails a re-authentication under way when the connection goes by itself, saying so', () => {
    const p = connected(method)
    p.reauthenticate(1, undefined, 1)
    expect(settled(p.connectionLost(undefined, 2))[0]?.error?.message).toBe('Connection closed during re-authentication')
  })

  it('closes on an AUTH under another method, with no method, or on 3.1.1 even under our method', () => {
    const unexpected = (overrides: Partial<ProtocolOptions>, packet: IncomingPacket) => {
      const p = opening(overrides)
      p.connectionOpened(0)
      const actions = p.packetReceived(packet, 1)
      expect(actions.filter((a) => a.type === 'auth')).toEqual([])
      return closes(actions)[0]?.error
    }
    const other = { cmd: 'auth' as const, reasonCode: 0x18, properties: { authenticationMethod: 'OTHER' } }
    expect(unexpected(method, other)).toMatchObject({ message: 'Protocol error from broker: AUTH without our authentication method' })
    expect(unexpected(method, { cmd: 'auth', reasonCode: 0x18 })).toMatchObject({ message: 'Protocol error from broker: AUTH without our authentication method' })
    expect(unexpected({ ...method, protocolVersion: 4 }, challenge(0x18))).toMatchObject({ message: 'Protocol error from broker: AUTH without our authentication method' })
    expect(unexpected({ protocolVersion: 5 }, { cmd: 'auth', reasonCode: 0x18 })).toBeInstanceOf(ProtocolError)
  })

  it('closes on AUTH 0x00 when no re-authentication is under way, and on any reason but 0x18, naming it', () => {
    const p = connected(method)
    const actions = p.packetReceived(challenge(0x00), 1)
    expect(settled(actions)).toEqual([])
    expect(closes(actions)[0]?.error).toMatchObject({ message: 'Protocol error from broker: AUTH reason 0x0 out of place' })
    const q = opening(method)
    q.connectionOpened(0)
    const odd = q.packetReceived(challenge(0x19), 1)
    expect(odd.filter((a) => a.type === 'auth')).toEqual([])
    expect(closes(odd)[0]?.error).toMatchObject({ message: 'Protocol error from broker: AUTH reason 0x19 out of place' })
    expect(closes(odd)[0]?.error).toBeInstanceOf(ProtocolError)
  })
})

describe('brokers that break the rules, and brokers with quirks', () => {
  it('completes a QoS 2 publish answered with PUBACK as delivered at QoS 1, and warns once per client', () => {
    const p = connected()
    p.publish(1, pub('a', 2), 1)
    p.publish(2, pub('b', 2), 1)
    const first = p.packetReceived({ cmd: 'puback', messageId: 1 }, 2)
    expect(settled(first)).toEqual([{ type: 'settle', op: 1, result: { reasonCode: 0 } }])
    expect(first.filter((a) => a.type === 'warning')).toEqual([{ type: 'warning', warning: { code: 'QOS2_DOWNGRADED', message: expect.stringMatching(/PUBACK/) } }])
    const second = p.packetReceived({ cmd: 'puback', messageId: 2 }, 3)
    expect(settled(second)).toEqual([{ type: 'settle', op: 2, result: { reasonCode: 0 } }])
    expect(second.filter((a) => a.type === 'warning')).toEqual([])
    expect(sent(second)).toEqual([])
    expect(endsAtOnce(p, 4)).toBe(true)
  })

  it('ignores and counts acknowledgements for ids with nothing in flight, and stays connected', () => {
    const p = connected()
    for (const cmd of ['puback', 'pubcomp'] as const) expect(p.packetReceived({ cmd, messageId: 7 }, 1)).toEqual([])
    expect(p.packetReceived({ cmd: 'suback', messageId: 7, granted: [0] }, 1)).toEqual([])
    expect(p.packetReceived({ cmd: 'unsuback', messageId: 7 }, 1)).toEqual([])
    expect(p.stats.unknownAcks).toBe(4)
    expect(p.state).toBe('connected')
  })

  it('answers a PUBREC for an unknown id with PUBREL, reason 0x92 on MQTT 5, so the broker can let the id go', () => {
    expect(sent(connected().packetReceived({ cmd: 'pubrec', messageId: 9 }, 1))).toEqual([{ cmd: 'pubrel', messageId: 9 }])
    expect(sent(connected({ protocolVersion: 5 }).packetReceived({ cmd: 'pubrec', messageId: 9 }, 1))).toEqual([{ cmd: 'pubrel', messageId: 9, reasonCode: 0x92 }])
  })

  it('answers a PUBREL for an id it holds with PUBCOMP, and for one it does not, on MQTT 5, with PUBCOMP 0x92', () => {
    const p = connected({ protocolVersion: 5 })
    p.packetReceived(incoming(2, 3), 1)
    expect(p.stats.awaitingRelease).toBe(1)
    expect(sent(p.packetReceived({ cmd: 'pubrel', messageId: 3 }, 2))).toEqual([{ cmd: 'pubcomp', messageId: 3 }])
    expect(p.stats.awaitingRelease).toBe(0)
    expect(sent(p.packetReceived({ cmd: 'pubrel', messageId: 3 }, 3))).toEqual([{ cmd: 'pubcomp', messageId: 3, reasonCode: 0x92 }])
    expect(sent(connected().packetReceived({ cmd: 'pubrel', messageId: 3 }, 1))).toEqual([{ cmd: 'pubcomp', messageId: 3 }])
  })

  it('on bytes that broke the wire rules sends DISCONNECT with the error reason code on MQTT 5 (none on 3.1.1), closes, and reconnects with the queue kept', () => {
    const p = connected({ protocolVersion: 5 })
    p.publish(1, pub('a', 1), 1)
    const error = new ProtocolError('bad bytes', { reasonCode: 0x81 })
    const actions = p.brokerViolation(error, 2)
    expect(sent(actions)).toEqual([{ cmd: 'disconnect', reasonCode: 0x81 }])
    expect(closes(actions)).toEqual([{ type: 'close', error }])
    expect(p.state).toBe('reconnecting')
    expect(settled(actions)).toEqual([])
    const q = connected()
    expect(sent(q.brokerViolation(error, 2))).toEqual([])
    expect(q.state).toBe('reconnecting')
    // Once the socket is gone there is nothing to close.
    expect(q.brokerViolation(error, 3)).toEqual([])
  })

  it('reads its queue sizes: queued behind the window, in flight, awaiting release', () => {
    const p = connected({ maxInflight: 1 })
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 1), 1)
    // The SUBSCRIBE keeps its place behind the publish the window holds back.
    p.subscribe(3, subscribePacket('s'), 1)
    expect(p.stats).toEqual({ queued: 2, inFlight: 1, awaitingRelease: 0, unknownAcks: 0 })
    p.packetReceived(incoming(2, 5), 2)
    expect(p.stats).toEqual({ queued: 2, inFlight: 1, awaitingRelease: 1, unknownAcks: 0 })
  })
})

describe('incoming QoS 2 state is bounded', () => {
  it('holds as many unreleased QoS 2 messages as the Receive Maximum it announced, and answers one more with DISCONNECT 0x93', () => {
    const p = connected({ protocolVersion: 5, properties: { receiveMaximum: 2 } })
    p.packetReceived(incoming(2, 1), 1)
    p.packetReceived(incoming(2, 2), 1)
    // A copy sent again of one it holds is not one more.
    expect(cmds(p.packetReceived(incoming(2, 2, true), 1))).toEqual(['pubrec'])
    const actions = p.packetReceived(incoming(2, 3), 2)
    expect(messages(actions)).toEqual([])
    expect(sent(actions)).toEqual([{ cmd: 'disconnect', reasonCode: 0x93 }])
    expect(closes(actions)[0]?.error?.message).toMatch(/more than our Receive Maximum of 2/)
  })

  it('takes another once the broker released one', () => {
    const p = connected({ protocolVersion: 5, properties: { receiveMaximum: 1 } })
    p.packetReceived(incoming(2, 1), 1)
    p.packetReceived({ cmd: 'pubrel', messageId: 1 }, 2)
    expect(messages(p.packetReceived(incoming(2, 2), 3))).toHaveLength(1)
    expect(p.state).toBe('connected')
  })

  it('on 3.1.1, where nothing is announced, takes as many as the packet id space holds', () => {
    const p = connected({ protocolVersion: 4, properties: { receiveMaximum: 1 } })
    p.packetReceived(incoming(2, 1), 1)
    expect(messages(p.packetReceived(incoming(2, 2), 1))).toHaveLength(1)
    expect(p.stats.awaitingRelease).toBe(2)
  })
})

describe('what is not a quirk or a violation', () => {
  it('gives no warning for a QoS 1 PUBACK, nor for a QoS 2 flow of PUBREC and PUBCOMP', () => {
    const p = connected()
    p.publish(1, pub('a', 1), 1)
    p.publish(2, pub('b', 2), 1)
    const actions = [
      ...p.packetReceived({ cmd: 'puback', messageId: 1 }, 2),
      ...p.packetReceived({ cmd: 'pubrec', messageId: 2 }, 2),
      ...p.packetReceived({ cmd: 'pubcomp', messageId: 2 }, 3),
    ]
    expect(settled(actions)).toHaveLength(2)
    expect(actions.filter((a) => a.type === 'warning')).toEqual([])
  })

  it('refuses an MQTT 5 PUBLISH with neither a topic nor a topic alias with DISCONNECT 0x82, delivering nothing', () => {
    const p = connected5({ topicAliasMaximum: 5 })
    const actions = p.packetReceived({ ...incoming(0), topic: '' }, 1)
    expect(messages(actions)).toEqual([])
    expect(sent(actions)).toEqual([{ cmd: 'disconnect', reasonCode: 0x82 }])
    expect(closes(actions)[0]?.error?.message).toBe('Protocol error from broker: a PUBLISH with no topic and no topic alias')
  })
})
