import type { PublishProperties, QoS } from '../codec/packets.js'
import { InvalidArgumentError, RequestTimeoutError } from '../errors.js'
import { randomHex } from '../input/options.js'
import { buildPublish, type PublishOptions, type SubscribeOptions } from '../input/requests.js'
import { validateTopicName } from '../input/topic-rules.js'
import type { Payload } from '../input/payload.js'
import type { Granted, PublishResult } from '../protocol/reason-codes.js'
import { Message, type MessageHandler } from './message.js'

/** Options of {@link MqttClient.request}. */
export interface RequestOptions {
  /** ms to wait for the reply; default 30,000. */
  timeout?: number
  /** QoS of the request and of the reply subscription; default 1. */
  qos?: QoS
  /** More MQTT 5 properties for the request (the response topic and correlation data are the client's). */
  properties?: Omit<PublishProperties, 'responseTopic' | 'correlationData' | 'topicAlias'>
}

/** What answers a request: the reply's payload, or a Promise of it; undefined sends an empty reply. */
export type Responder = (request: Message) => Payload | undefined | Promise<Payload | undefined>

/** The part of the client request/response runs on: its public operations. */
export interface PubSub {
  readonly protocolVersion: 4 | 5
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined>
  subscribe(filter: string, options: SubscribeOptions, handler: MessageHandler): Promise<Granted[]>
}

// On MQTT 3.1.1, with no response topic or correlation data in the packet, both ride in the topic:
// a request to `T` goes to `T/~req/<reply id>/<correlation>`, and its reply to
// `~reply/<reply id>/<correlation>`. ts-mqtt-ws speaks this on both ends.
const REQUEST_MARK = '~req'
const REPLY_ROOT = '~reply'

/**
 * Request/response over MQTT (MQTT 5 §4.10): each request is published with a response topic
 * this client alone subscribes to, and correlation data its reply echoes.
 */
export class RequestResponse {
  private readonly waiting = new Map<string, { resolve(m: Message): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> }>()
  private inbox: Promise<unknown> | undefined
  private next = 0
  /** Unique to this client, so no other client's replies reach it. */
  private readonly replyId = randomHex(8)

  constructor(
    private readonly client: PubSub,
    /** Where a responder's failure goes: nobody awaits it. */
    private readonly report: (err: unknown) => void,
  ) {}

  async request(topic: string, payload: Payload, options: RequestOptions = {}): Promise<Message> {
    const timeout = options.timeout ?? 30_000
    if (!Number.isInteger(timeout) || timeout < 1) throw new InvalidArgumentError('request timeout must be a positive integer of ms')
    const qos = options.qos ?? 1
    const v5 = this.client.protocolVersion === 5
    const n = ++this.next
    const correlation = `${this.replyId}.${n}`
    const target = v5 ? topic : `${topic}/${REQUEST_MARK}/${this.replyId}/${n}`
    const publishOptions: PublishOptions = v5
      ? { qos, properties: { ...options.properties, responseTopic: this.replyTopic(), correlationData: utf8.encode(correlation) } }
      : { qos }
    // Bad input fails here, before the reply subscription is sent: nothing reaches the wire for it.
    validateTopicName(topic)
    buildPublish(target, payload, publishOptions, v5 ? 5 : 4)
    await (this.inbox ??= this.subscribeInbox(qos, v5))
    const reply = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(correlation)
        reject(new RequestTimeoutError(topic, timeout))
      }, timeout)
      this.waiting.set(correlation, { resolve, reject, timer })
    })
    const sent = this.client.publish(target, payload, publishOptions)
    sent.catch((err: unknown) => this.fail(correlation, err))
    return reply
  }

  /**
   * Answers requests on `filter`: `responder`'s value (or the value of the Promise it returns) is
   * published to each request's response topic, with its correlation data echoed.
   */
  respond(filter: string, responder: Responder, options: SubscribeOptions = {}): Promise<Granted[]> {
    const v5 = this.client.protocolVersion === 5
    const listen = v5 || filter.endsWith('#') ? filter : `${filter}/${REQUEST_MARK}/+/+`
    return this.client.subscribe(listen, { qos: 1, ...options }, (message) => {
      const target = v5 ? replyOf(message) : conventionalReplyOf(message)
      if (!target) return
      void (async () => {
        const answer = (await responder(target.request)) ?? ''
        await this.client.publish(target.topic, answer, { qos: target.request.qos, ...target.options })
      })().catch((err: unknown) => this.report(err))
    })
  }

  private subscribeInbox(qos: QoS, v5: boolean): Promise<unknown> {
    const filter = v5 ? this.replyTopic() : `${REPLY_ROOT}/${this.replyId}/+`
    return this.client
      .subscribe(filter, { qos }, (message) => {
        const key = v5 ? utf8d.decode(message.properties?.correlationData ?? new Uint8Array()) : `${this.replyId}.${message.topic.slice(filter.length - 1)}`
        const waiter = this.waiting.get(key)
        if (!waiter) return
        this.waiting.delete(key)
        clearTimeout(waiter.timer)
        waiter.resolve(message)
      })
      .catch((err: unknown) => {
        // The next request tries the subscription again.
        this.inbox = undefined
        throw err
      })
  }

  private replyTopic(): string {
    return `${REPLY_ROOT}/${this.replyId}`
  }

  private fail(correlation: string, err: unknown): void {
    const waiter = this.waiting.get(correlation)
    if (!waiter) return
    this.waiting.delete(correlation)
    clearTimeout(waiter.timer)
    waiter.reject(err instanceof Error ? err : new Error(String(err)))
  }
}

const utf8 = new TextEncoder()
const utf8d = new TextDecoder()

/** Where an MQTT 5 request wants its reply, or undefined for a message that is not a request. */
function replyOf(request: Message): { topic: string; request: Message; options: PublishOptions } | undefined {
  const topic = request.properties?.responseTopic
  if (!topic) return undefined
  const correlationData = request.properties?.correlationData
  return { topic, request, options: correlationData ? { properties: { correlationData } } : {} }
}

/** The same for a 3.1.1 request: its reply address rides in its topic, which the responder sees without it. */
function conventionalReplyOf(message: Message): { topic: string; request: Message; options: PublishOptions } | undefined {
  const levels = message.topic.split('/')
  if (levels.length < 4 || levels[levels.length - 3] !== REQUEST_MARK) return undefined
  const [replyId, correlation] = levels.slice(-2)
  const request = new Message({ ...message.packet, topic: levels.slice(0, -3).join('/') })
  return { topic: `${REPLY_ROOT}/${replyId}/${correlation}`, request, options: {} }
}

