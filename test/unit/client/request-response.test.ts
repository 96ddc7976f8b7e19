import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PublishProperties, QoS } from '../../../src/codec/packets.js'
import { Message, type MessageHandler } from '../../../src/client/message.js'
import { type PubSub, RequestResponse } from '../../../src/client/request-response.js'
import { RequestTimeoutError } from '../../../src/errors.js'
import type { PublishOptions } from '../../../src/input/requests.js'
import type { Payload } from '../../../src/input/payload.js'
import { matchTopic } from '../../../src/routing/topic-match.js'

const text = new TextEncoder()
const bytes = (payload: Payload) => (typeof payload === 'string' ? text.encode(payload) : new Uint8Array(payload as ArrayBufferLike))

/** A broker in a box: what is published reaches every matching subscription, a task later. */
class Bus {
  readonly published: Array<{ topic: string; payload: Payload; options: PublishOptions | undefined }> = []
  private readonly subscriptions: Array<[string, MessageHandler]> = []
  readonly errors: unknown[] = []
  readonly report = (err: unknown) => void this.errors.push(err)

  client(protocolVersion: 4 | 5): PubSub {
    return {
      protocolVersion,
      publish: (topic, payload, options) => {
        this.published.push({ topic, payload, options })
        const message = new Message({
          cmd: 'publish',
          topic,
          payload: bytes(payload),
          qos: (options?.qos ?? 0) as QoS,
          retain: false,
          dup: false,
          ...(options?.properties ? { properties: options.properties as PublishProperties } : {}),
        })
        setTimeout(() => {
          for (const [filter, handler] of this.subscriptions) if (matchTopic(filter, topic)) handler(message)
        }, 0)
        return Promise.resolve(undefined)
      },
      subscribe: (filter, options, handler) => {
        this.subscriptions.push([filter, handler])
        return Promise.resolve([{ topic: filter, qos: options.qos ?? 0 }])
      },
    }
  }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('request/response on MQTT 5', () => {
  it('publishes with a response topic and correlation data, and resolves with the reply that echoes them', async () => {
    const bus = new Bus()
    const responder = new RequestResponse(bus.client(5), bus.report)
    await responder.respond('svc/add', (m) => String(m.json<number[]>().reduce((a, b) => a + b)))
    const reply = await new RequestResponse(bus.client(5), bus.report).request('svc/add', '[1,2,3]', { timeout: 1000 })
    expect(reply.text()).toBe('6')
    const [request, answer] = bus.published
    expect(request?.options?.properties?.responseTopic).toMatch(/^~reply\/[0-9a-f]{16}$/)
    expect(answer?.topic).toBe(request?.options?.properties?.responseTopic)
    expect(answer?.options?.properties?.correlationData).toEqual(request?.options?.properties?.correlationData)
  })

  it('gives each of several requests in flight its own reply, whatever order the replies come in', async () => {
    const bus = new Bus()
    const responder = new RequestResponse(bus.client(5), bus.report)
    await responder.respond('svc/echo', async (m) => {
      await new Promise((r) => setTimeout(r, m.text() === 'slow' ? 30 : 1))
      return m.text()
    })
    const requester = new RequestResponse(bus.client(5), bus.report)
    const replies = await Promise.all(['slow', 'fast', 'mid'].map((p) => requester.request('svc/echo', p)))
    expect(replies.map((r) => r.text())).toEqual(['slow', 'fast', 'mid'])
  })

  it('rejects with RequestTimeoutError when no reply comes in time', async () => {
    vi.useFakeTimers()
    const bus = new Bus()
    const pending = new RequestResponse(bus.client(5), bus.report).request('nobody/home', 'x', { timeout: 500 })
    const outcome = pending.then(
      () => 'resolved',
      (err: unknown) => err,
    )
    await vi.advanceTimersByTimeAsync(501)
    expect(await outcome).toBeInstanceOf(RequestTimeoutError)
  })

  it('answers only messages that ask for a reply, and reports a responder that throws without replying', async () => {
    const bus = new Bus()
    const responder = new RequestResponse(bus.client(5), bus.report)
    await responder.respond('svc/+', (m) => {
      if (m.topic === 'svc/bad') throw new Error('cannot')
      return 'ok'
    })
    await bus.client(5).publish('svc/plain', 'no reply wanted', { qos: 1 })
    await new RequestResponse(bus.client(5), bus.report).request('svc/bad', 'x', { timeout: 50 }).catch(() => undefined)
    expect(bus.published.map((p) => p.topic)).toEqual(['svc/plain', 'svc/bad'])
    expect(bus.errors.map((e) => (e as Error).message)).toEqual(['cannot'])
  })
})

describe('request/response on MQTT 3.1.1, by topic convention', () => {
  it('carries the reply address in the topic, and the responder sees the request topic without it', async () => {
    const bus = new Bus()
    const seen: string[] = []
    await new RequestResponse(bus.client(4), bus.report).respond('svc/time', (m) => {
      seen.push(m.topic)
      return 'noon'
    })
    const reply = await new RequestResponse(bus.client(4), bus.report).request('svc/time', '?', { timeout: 1000 })
    expect(reply.text()).toBe('noon')
    expect(seen).toEqual(['svc/time'])
    const [request, answer] = bus.published
    expect(request?.topic).toMatch(/^svc\/time\/~req\/[0-9a-f]{16}\/1$/)
    expect(answer?.topic).toMatch(/^~reply\/[0-9a-f]{16}\/1$/)
    expect(request?.options?.properties).toBeUndefined()
  })

  it('answers through a filter ending in # as well', async () => {
    const bus = new Bus()
    await new RequestResponse(bus.client(4), bus.report).respond('svc/#', (m) => m.topic)
    const reply = await new RequestResponse(bus.client(4), bus.report).request('svc/a/b', '?', { timeout: 1000 })
    expect(reply.text()).toBe('svc/a/b')
  })
})
