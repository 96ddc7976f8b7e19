import { describe, expect, it } from 'vitest'
import type { Packet, PublishPacket } from '../../../src/codec/packets.js'
import { type Entry, Outgoing, type OutgoingSink } from '../../../src/protocol/outgoing.js'

type Op = number

/** A sink that keeps what Outgoing asks for: packets to write, entries done. */
function recorder(): { sent: Packet[]; done: Array<Entry<Op>>; sink: OutgoingSink<Op> } {
  const sent: Packet[] = []
  const done: Array<Entry<Op>> = []
  return { sent, done, sink: { send: (packet) => void sent.push(packet), done: (entry) => void done.push(entry) } }
}

function publish(op: Op, topic: string, qos: 0 | 1 | 2): Entry<Op> {
  return { op, packet: { cmd: 'publish', topic, payload: 'x', qos, retain: false, dup: false }, pubrec: undefined }
}

function subscribe(op: Op | undefined, topic: string): Entry<Op> {
  return { op, packet: { cmd: 'subscribe', messageId: 0, subscriptions: [{ topic, qos: 1 }] }, pubrec: undefined }
}

const topicsOf = (packets: Packet[]) => packets.map((p) => (p.cmd === 'publish' ? p.topic : p.cmd === 'subscribe' ? p.subscriptions[0]?.topic : p.cmd))

/** Every packet id taken by a SUBSCRIBE in flight: the only way to see the id space run out. */
function fillIds(out: Outgoing<Op>, sink: OutgoingSink<Op>): void {
  for (let op = 1; op <= 65_535; op++) {
    out.add(subscribe(op, 's'))
    out.flush(20, sink)
  }
}

describe('Outgoing', () => {
  it('is idle only when nothing is queued and nothing is in flight', () => {
    const out = new Outgoing<Op>(10)
    const { sink } = recorder()
    expect(out.idle).toBe(true)
    out.add(publish(1, 'a', 1))
    expect(out.idle).toBe(false)
    out.flush(20, sink)
    // Sent, so no longer queued, but in flight until acknowledged.
    expect(out.idle).toBe(false)
    out.acknowledgePublish({ cmd: 'puback', messageId: 1 }, true, sink)
    expect(out.idle).toBe(true)
  })

  it('frees the publish window when drained, so a new publish goes out at once', () => {
    const out = new Outgoing<Op>(10)
    const { sent, sink } = recorder()
    out.add(publish(1, 'a', 1))
    out.flush(1, sink)
    out.drain()
    out.add(publish(2, 'b', 1))
    out.add(publish(3, 'c', 1))
    out.flush(1, sink)
    expect(topicsOf(sent)).toEqual(['a', 'b'])
  })

  it('hands back every entry when drained, in flight first, and has nothing left to send again', () => {
    const out = new Outgoing<Op>(10)
    const { sink } = recorder()
    out.add(publish(1, 'a', 1))
    out.add(subscribe(2, 's'))
    out.add(publish(3, 'b', 1))
    out.flush(1, sink)
    expect(out.drain().map((entry) => entry.op)).toEqual([1, 2, 3])
    expect(out.inFlight()).toEqual([])
    expect(out.idle).toBe(true)
  })

  it('frees every packet id when drained', { timeout: 60_000 }, () => {
    const out = new Outgoing<Op>(10)
    const { sent, sink } = recorder()
    fillIds(out, sink)
    out.add(subscribe(0, 'waiting'))
    out.flush(20, sink)
    expect(sent).toHaveLength(65_535)
    expect(out.drain()).toHaveLength(65_536)
    out.add(subscribe(1, 'after'))
    out.flush(20, sink)
    expect(sent.at(-1)).toMatchObject({ cmd: 'subscribe', subscriptions: [{ topic: 'after' }] })
  })

  it('puts an entry it cannot give an id to first in the queue, to go as soon as an id frees', { timeout: 60_000 }, () => {
    const out = new Outgoing<Op>(10)
    const { sent, sink } = recorder()
    fillIds(out, sink)
    out.add(publish(1, 'queued', 1))
    out.sendNow(subscribe(undefined, 'now'), sink)
    expect(sent).toHaveLength(65_535)
    out.acknowledgeSubscription('subscribe', 5)
    out.flush(20, sink)
    expect(sent.slice(65_535)).toEqual([{ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: 'now', qos: 1 }] }])
  })

  it('counts a publish sent at once against the window', () => {
    const out = new Outgoing<Op>(10)
    const { sent, sink } = recorder()
    out.sendNow(publish(1, 'now', 1), sink)
    out.add(publish(2, 'queued', 1))
    out.flush(1, sink)
    expect(sent).toEqual([{ ...(publish(1, 'now', 1).packet as PublishPacket), messageId: 1 }])
  })

  it('keeps the publish window shut when a SUBSCRIBE, not a publish, is acknowledged', () => {
    const out = new Outgoing<Op>(10)
    const { sent, sink } = recorder()
    out.add(publish(1, 'a', 1))
    out.add(subscribe(2, 's'))
    out.flush(1, sink)
    out.acknowledgeSubscription('subscribe', 2)
    out.add(publish(3, 'b', 1))
    out.flush(1, sink)
    expect(topicsOf(sent)).toEqual(['a', 's'])
  })

  it('still blames the entry written last after an earlier one is acknowledged', () => {
    const out = new Outgoing<Op>(10)
    const { sink } = recorder()
    out.add(publish(1, 'a', 1))
    out.add(publish(2, 'b', 1))
    out.flush(20, sink)
    out.acknowledgePublish({ cmd: 'puback', messageId: 1 }, true, sink)
    expect(out.takeLastSent()?.op).toBe(2)
    expect(out.takeLastSent()).toBeUndefined()
  })
})

describe('Outgoing acknowledgements find only what they answer', () => {
  function unsubscribe(op: Op, topic: string): Entry<Op> {
    return { op, packet: { cmd: 'unsubscribe', messageId: 0, unsubscriptions: [topic] }, pubrec: undefined }
  }

  /** A QoS 1 publish (id 1), a SUBSCRIBE (id 2) and an UNSUBSCRIBE (id 3), all in flight. */
  function threeInFlight(): { out: Outgoing<Op>; sink: OutgoingSink<Op> } {
    const out = new Outgoing<Op>(10)
    const { sink } = recorder()
    out.add(publish(1, 'p', 1))
    out.add(subscribe(2, 's'))
    out.add(unsubscribe(3, 'u'))
    out.flush(20, sink)
    expect(out.inFlight().map(([id, entry]) => [id, entry.op])).toEqual([[1, 1], [2, 2], [3, 3]])
    return { out, sink }
  }

  it('awaitedSubscription gives the SUBSCRIBE or UNSUBSCRIBE of that kind under that id, and leaves it in flight', () => {
    const { out } = threeInFlight()
    expect(out.awaitedSubscription('subscribe', 2)?.op).toBe(2)
    expect(out.awaitedSubscription('unsubscribe', 3)?.op).toBe(3)
    expect(out.inFlightCount).toBe(3)
  })

  it('awaitedSubscription finds nothing under an unknown id, a publish\'s id, or an id of the other kind', () => {
    const { out } = threeInFlight()
    expect(out.awaitedSubscription('subscribe', 9)).toBeUndefined()
    expect(out.awaitedSubscription('subscribe', 1)).toBeUndefined()
    expect(out.awaitedSubscription('unsubscribe', 1)).toBeUndefined()
    expect(out.awaitedSubscription('unsubscribe', 2)).toBeUndefined()
    expect(out.awaitedSubscription('subscribe', 3)).toBeUndefined()
  })

  it('acknowledgeSubscription takes nothing out of flight for an unknown id, a publish\'s id, or the other kind', () => {
    const { out } = threeInFlight()
    expect(out.acknowledgeSubscription('subscribe', 9)).toBeUndefined()
    expect(out.acknowledgeSubscription('subscribe', 1)).toBeUndefined()
    expect(out.acknowledgeSubscription('unsubscribe', 1)).toBeUndefined()
    expect(out.acknowledgeSubscription('unsubscribe', 2)).toBeUndefined()
    expect(out.acknowledgeSubscription('subscribe', 3)).toBeUndefined()
    expect(out.inFlightCount).toBe(3)
    expect(out.acknowledgeSubscription('unsubscribe', 3)?.op).toBe(3)
    expect(out.acknowledgeSubscription('subscribe', 2)?.op).toBe(2)
    expect(out.inFlight().map(([id]) => id)).toEqual([1])
  })

  it('acknowledgePublish takes nothing out of flight for an unknown id or a SUBSCRIBE\'s or UNSUBSCRIBE\'s id', () => {
    const { out, sink } = threeInFlight()
    for (const cmd of ['puback', 'pubrec', 'pubcomp'] as const) {
      for (const messageId of [9, 2, 3]) expect(out.acknowledgePublish({ cmd, messageId }, true, sink)).toBeUndefined()
    }
    expect(out.inFlightCount).toBe(3)
    expect(out.acknowledgePublish({ cmd: 'puback', messageId: 1 }, true, sink)?.op).toBe(1)
    expect(out.inFlight().map(([id]) => id)).toEqual([2, 3])
  })

  it('blames nothing when nothing was written, or when what was written last is acknowledged', () => {
    const out = new Outgoing<Op>(10)
    const { sink } = recorder()
    expect(out.takeLastSent()).toBeUndefined()
    out.add(publish(1, 'a', 1))
    out.add(subscribe(2, 's'))
    out.flush(20, sink)
    out.acknowledgeSubscription('subscribe', 2)
    expect(out.takeLastSent()).toBeUndefined()
    expect(out.inFlight().map(([, entry]) => entry.op)).toEqual([1])
  })

  it('does not blame a QoS 2 publish the broker took with PUBREC, which stays in flight for its PUBCOMP', () => {
    const out = new Outgoing<Op>(10)
    const { sent, sink } = recorder()
    out.add(publish(1, 'q2', 2))
    out.flush(20, sink)
    out.acknowledgePublish({ cmd: 'pubrec', messageId: 1 }, true, sink)
    expect(sent.at(-1)).toEqual({ cmd: 'pubrel', messageId: 1 })
    expect(out.takeLastSent()).toBeUndefined()
    expect(out.inFlightCount).toBe(1)
    expect(out.acknowledgePublish({ cmd: 'pubcomp', messageId: 1 }, true, sink)?.op).toBe(1)
  })

  it('blames the UNSUBSCRIBE written last and takes it out of flight', () => {
    const { out } = threeInFlight()
    expect(out.takeLastSent()?.op).toBe(3)
    expect(out.inFlight().map(([id]) => id)).toEqual([1, 2])
  })
})
