import { describe, expect, it } from 'vitest'
import type { ConnackProperties, PublishPacket } from '../../../src/codec/packets.js'
import type { Action, Protocol, ProtocolOptions } from '../../../src/protocol/protocol.js'
import { testProtocol } from './test-protocol.js'

/**
 * The send window as the protocol applies it (the rule itself: send-window.test.ts). A broker
 * stand-in reads the protocol's actions: the publishes written, each one's first sending in order,
 * and the most ever in flight, and it acknowledges the oldest on request.
 */
class Wire {
  /** Packet ids written and not acknowledged, oldest first. */
  readonly outstanding: number[] = []
  /** Topics in the order first written (resent copies, DUP set, left out). */
  readonly firstSent: string[] = []
  readonly settled: number[] = []
  peak = 0
  private t = 1

  constructor(readonly p: Protocol<number>) {}

  read(actions: Array<Action<number>>): void {
    for (const a of actions) {
      if (a.type === 'settle') {
        expect(a.error).toBeUndefined()
        this.settled.push(a.op)
      }
      if (a.type !== 'send' || a.packet.cmd !== 'publish') continue
      if (!a.packet.dup) this.firstSent.push(a.packet.topic)
      this.outstanding.push(a.packet.messageId as number)
    }
    this.peak = Math.max(this.peak, this.p.stats.inFlight)
  }

  connect(properties?: ConnackProperties, sessionPresent = false): void {
    this.read(this.p.open(this.t))
    this.read(this.p.connectionOpened(this.t))
    this.read(this.p.packetReceived({ cmd: 'connack', sessionPresent, ...(properties ? { reasonCode: 0, properties } : { returnCode: 0 }) }, this.t))
  }

  publish(from: number, to: number, qos: 1 | 2 = 1): void {
    for (let op = from; op <= to; op++) this.read(this.p.publish(op, { ...pub(`t${op}`), qos }, this.t))
  }

  /** Acknowledges the oldest publish in flight, `n` times; returns how many new publishes went. */
  ackOldest(n = 1): number {
    const before = this.firstSent.length
    for (let i = 0; i < n; i++) {
      const messageId = this.outstanding.shift()
      if (messageId === undefined) throw new Error('nothing in flight to acknowledge')
      this.read(this.p.packetReceived({ cmd: 'puback', messageId }, ++this.t))
    }
    return this.firstSent.length - before
  }

  /** The connection dies, and the next one (the session kept) resends what was in flight. */
  dropAndReconnect(): void {
    this.outstanding.length = 0
    this.read(this.p.connectionLost(undefined, ++this.t))
    this.connect(undefined, true)
  }
}

function pub(topic: string): PublishPacket {
  return { cmd: 'publish', topic, payload: 'x', qos: 1, retain: false, dup: false }
}

function wire(overrides: Partial<ProtocolOptions> = {}): Wire {
  const w = new Wire(testProtocol({ queueLimit: 10_000, ...overrides }))
  w.connect()
  return w
}

const inOrder = (n: number) => Array.from({ length: n }, (_, i) => `t${i + 1}`)

describe('the send window on 3.1.1', () => {
  it('sends 10 at first, then three more per acknowledgement while the queue is backed up', () => {
    const w = wire({ maxInflight: 200 })
    w.publish(1, 100)
    expect(w.p.stats.inFlight).toBe(10)
    expect(w.ackOldest()).toBe(3)
    expect(w.ackOldest(9)).toBe(27)
    expect(w.p.stats.inFlight).toBe(30)
  })

  it('grows on each PUBREC of a full window as on a PUBACK, so QoS 2 finds the path as fast as QoS 1', () => {
    const w = wire({ maxInflight: 200 })
    w.publish(1, 100, 2)
    expect(w.firstSent).toHaveLength(10)
    // Ten PUBRECs free no place (each waits for its PUBCOMP) but each adds two.
    for (const messageId of w.outstanding.slice(0, 10)) w.read(w.p.packetReceived({ cmd: 'pubrec', messageId }, 2))
    expect(w.p.stats.inFlight).toBe(30)
    expect(w.firstSent).toHaveLength(30)
  })

  it('never has more than maxInflight unacknowledged, and sends everything in order', () => {
    const w = wire({ maxInflight: 15 })
    w.publish(1, 300)
    while (w.outstanding.length > 0) w.ackOldest()
    expect(w.peak).toBe(15)
    expect(w.firstSent).toEqual(inOrder(300))
    expect(w.settled).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
  })

  it('halves after a connection dies with the window full: nothing new goes until the resent half is acknowledged', () => {
    const w = wire({ maxInflight: 200 })
    w.publish(1, 500)
    w.ackOldest(10)
    expect(w.p.stats.inFlight).toBe(30)
    w.dropAndReconnect()
    // All 30 go again; the window is now 15, so 15 acks bring nothing new and the 16th does.
    expect(w.outstanding).toHaveLength(30)
    expect(w.ackOldest(15)).toBe(0)
    expect(w.ackOldest()).toBe(3)
    expect(w.p.stats.inFlight).toBe(17)
  })

  it('keeps its window after a connection dies with few in flight', () => {
    const w = wire({ maxInflight: 200 })
    w.publish(1, 70)
    // Each ack sends three: after 20, all 70 are out, 50 in flight, window 50. The next ack comes
    // while it is still full (52); those after it, not.
    w.ackOldest(20)
    expect(w.firstSent).toHaveLength(70)
    w.ackOldest(45)
    expect(w.p.stats.inFlight).toBe(5)
    w.dropAndReconnect()
    w.ackOldest(5)
    w.publish(71, 200)
    expect(w.p.stats.inFlight).toBe(52)
  })

  it('keeps order and loses nothing through growth, losses and resends', () => {
    const w = wire({ maxInflight: 50 })
    w.publish(1, 1_000)
    for (let round = 0; round < 20; round++) {
      w.ackOldest(Math.min(w.outstanding.length, 7 + round))
      w.dropAndReconnect()
    }
    while (w.outstanding.length > 0) w.ackOldest()
    expect(w.peak).toBeLessThanOrEqual(50)
    expect(w.firstSent).toEqual(inOrder(1_000))
    expect(new Set(w.settled).size).toBe(1_000)
    expect(w.p.stats).toMatchObject({ inFlight: 0, queued: 0 })
  })
})

describe('the send window on MQTT 5', () => {
  it('fills the broker Receive Maximum at once and never goes past it', () => {
    const w = new Wire(testProtocol({ protocolVersion: 5, maxInflight: 200, queueLimit: 10_000 }))
    w.connect({ receiveMaximum: 30 })
    w.publish(1, 200)
    expect(w.p.stats.inFlight).toBe(30)
    while (w.outstanding.length > 0) w.ackOldest()
    expect(w.peak).toBe(30)
    expect(w.firstSent).toEqual(inOrder(200))
  })

  it('is capped by maxInflight when the Receive Maximum is larger', () => {
    const w = new Wire(testProtocol({ protocolVersion: 5, maxInflight: 25, queueLimit: 10_000 }))
    w.connect({ receiveMaximum: 1000 })
    w.publish(1, 100)
    expect(w.p.stats.inFlight).toBe(25)
    while (w.outstanding.length > 0) w.ackOldest()
    expect(w.peak).toBe(25)
  })

  it('adapts as on 3.1.1 when the broker announces no Receive Maximum', () => {
    const w = new Wire(testProtocol({ protocolVersion: 5, maxInflight: 200, queueLimit: 10_000 }))
    w.connect({})
    w.publish(1, 100)
    expect(w.p.stats.inFlight).toBe(10)
    w.ackOldest(10)
    expect(w.p.stats.inFlight).toBe(30)
  })
})
