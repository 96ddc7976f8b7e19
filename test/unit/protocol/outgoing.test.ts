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
