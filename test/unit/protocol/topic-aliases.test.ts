import { describe, expect, it } from 'vitest'
import type { IncomingPublishPacket, PublishPacket } from '../../../src/codec/packets.js'
import { TopicAliases } from '../../../src/protocol/topic-aliases.js'

const incoming = (topic: string, topicAlias?: number): IncomingPublishPacket => ({
  cmd: 'publish',
  topic,
  payload: new Uint8Array(),
  qos: 0,
  retain: false,
  dup: false,
  ...(topicAlias === undefined ? {} : { properties: { topicAlias } }),
})
const outgoing = (topic: string): PublishPacket => ({ cmd: 'publish', topic, payload: 'x', qos: 0, retain: false, dup: false })

/** Sends `topic` as the protocol does: the packet to write, recorded as written. */
function send(aliases: TopicAliases, topic: string): PublishPacket {
  const wire = aliases.outgoingPacket(outgoing(topic))
  aliases.written(wire)
  return wire
}

describe('TopicAliases, incoming', () => {
  it('learns an alias sent with its topic and applies it to a PUBLISH that has the alias alone', () => {
    const a = new TopicAliases(10, 0)
    expect(a.resolve(incoming('a/b', 3))).toBe('a/b')
    expect(a.resolve(incoming('', 3))).toBe('a/b')
    expect(a.resolve(incoming('c', 3))).toBe('c')
    expect(a.resolve(incoming('', 3))).toBe('c')
    expect(a.resolve(incoming('plain'))).toBe('plain')
  })

  it('refuses an alias of 0, one above our maximum, and one never set', () => {
    const a = new TopicAliases(2, 0)
    expect(a.resolve(incoming('t', 0))).toBeUndefined()
    expect(a.resolve(incoming('t', 3))).toBeUndefined()
    expect(a.resolve(incoming('', 1))).toBeUndefined()
    expect(new TopicAliases(0, 0).resolve(incoming('t', 1))).toBeUndefined()
  })

  it('takes alias 1 and an alias equal to our maximum', () => {
    const a = new TopicAliases(2, 0)
    expect(a.resolve(incoming('one', 1))).toBe('one')
    expect(a.resolve(incoming('two', 2))).toBe('two')
    expect(a.resolve(incoming('', 1))).toBe('one')
    expect(a.resolve(incoming('', 2))).toBe('two')
  })

  it('never gives a PUBLISH without an alias the topic of an earlier one: with no topic either, it has none', () => {
    const a = new TopicAliases(10, 0)
    expect(a.resolve(incoming('a/b'))).toBe('a/b')
    expect(a.resolve(incoming(''))).toBeUndefined()
  })
})

describe('TopicAliases, outgoing', () => {
  it('sends a topic in full with a new alias the first time, then the alias alone', () => {
    const a = new TopicAliases(0, 2)
    expect(send(a, 'x/1')).toMatchObject({ topic: 'x/1', properties: { topicAlias: 1 } })
    expect(send(a, 'x/1')).toMatchObject({ topic: '', properties: { topicAlias: 1 } })
    expect(send(a, 'x/2')).toMatchObject({ topic: 'x/2', properties: { topicAlias: 2 } })
  })

  it('sends further topics in full once the broker maximum is used up, and nothing aliased to a broker that takes none', () => {
    const a = new TopicAliases(0, 1)
    send(a, 'x/1')
    expect(send(a, 'x/2')).toEqual(outgoing('x/2'))
    expect(send(new TopicAliases(0, 0), 'x/1')).toEqual(outgoing('x/1'))
  })

  it('keeps the packet it was given as it is, and its other properties on the one it writes', () => {
    const a = new TopicAliases(0, 5)
    const packet = { ...outgoing('t'), properties: { contentType: 'text/plain' } }
    const wire = a.outgoingPacket(packet)
    expect(packet).toEqual({ ...outgoing('t'), properties: { contentType: 'text/plain' } })
    expect(wire.properties).toEqual({ contentType: 'text/plain', topicAlias: 1 })
  })

  it('gives no alias to a topic whose first packet was never written', () => {
    const a = new TopicAliases(0, 5)
    a.outgoingPacket(outgoing('lost'))
    expect(send(a, 'lost')).toMatchObject({ topic: 'lost', properties: { topicAlias: 1 } })
  })

  it('shares one frozen { topicAlias } among packets that have no other property', () => {
    const a = new TopicAliases(0, 5)
    const first = send(a, 't')
    const second = send(a, 't')
    expect(first.properties).toEqual({ topicAlias: 1 })
    expect(Object.isFrozen(first.properties)).toBe(true)
    expect(second.properties).toBe(first.properties)
  })

  it('carries the message id, QoS, retain, dup and payload over to the aliased copy', () => {
    const a = new TopicAliases(0, 5)
    const payload = new Uint8Array([1, 2])
    const packet: PublishPacket = { cmd: 'publish', topic: 't', payload, qos: 2, retain: true, dup: true, messageId: 42 }
    expect(a.outgoingPacket(packet)).toEqual({ ...packet, properties: { topicAlias: 1 } })
  })

  it('gives no alias slot to a PUBLISH written without one', () => {
    const a = new TopicAliases(0, 1)
    a.written(outgoing('plain'))
    expect(send(a, 'x')).toMatchObject({ topic: 'x', properties: { topicAlias: 1 } })
  })

  it('sends every packet as given to a broker that takes no aliases, even after one that carried its own alias', () => {
    const a = new TopicAliases(0, 0)
    const own = { ...outgoing('t'), properties: { topicAlias: 1 } }
    a.written(own)
    expect(a.outgoingPacket(outgoing('t'))).toEqual(outgoing('t'))
  })
})
