import type { ClientState, ConnackPacket, EndOptions, Granted, MqttClientEvents, PublishOptions, PublishResult, SubscribeOptions, SubscriptionMap, UnsubscribeResult } from '../../../src/index.js'
import type { Payload } from '../../../src/input/payload.js'
import type { HostedClient, TabPort } from '../../../src/shared/host.js'
import type { DeliveryMessage, FailureMessage, HostMessage, RequestId, ResultMessage, SharedClientOptions } from '../../../src/shared/wire.js'

/** One call the fake client took: its arguments, and the hands that settle its Promise. */
export interface Call<A, R> {
  args: A
  resolve(value: R): void
  reject(error: unknown): void
}

function call<A, R>(list: Array<Call<A, R>>, args: A): Promise<R> {
  return new Promise<R>((resolve, reject) => list.push({ args, resolve, reject }))
}

/**
 * A client the host can drive, with nothing underneath: each call waits until the test settles
 * it, and the test emits the client's events itself.
 */
export class FakeHostedClient implements HostedClient {
  state: ClientState = 'connecting'
  clientId = 'fake-client'
  protocolVersion: 4 | 5 = 5
  connack: ConnackPacket | undefined
  readonly subscribes: Array<Call<{ target: SubscriptionMap; options: SubscribeOptions | undefined }, Granted[]>> = []
  readonly unsubscribes: Array<Call<string[], UnsubscribeResult>> = []
  readonly publishes: Array<Call<{ topic: string; payload: Payload; options: PublishOptions | undefined }, PublishResult | undefined>> = []
  readonly ends: Array<Call<EndOptions | undefined, void>> = []
  private readonly listeners = new Map<string, Array<(...args: never[]) => void>>()

  constructor(
    readonly url: string,
    readonly options: SharedClientOptions,
  ) {}

  subscribe(target: SubscriptionMap, options?: SubscribeOptions): Promise<Granted[]> {
    return call(this.subscribes, { target, options })
  }

  unsubscribe(target: string[]): Promise<UnsubscribeResult> {
    return call(this.unsubscribes, target)
  }

  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined> {
    return call(this.publishes, { topic, payload, options })
  }

  end(options?: EndOptions): Promise<void> {
    return call(this.ends, options)
  }

  on<K extends keyof MqttClientEvents & string>(event: K, listener: (...args: MqttClientEvents[K]) => void): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener as (...args: never[]) => void])
    return this
  }

  emit<K extends keyof MqttClientEvents & string>(event: K, ...args: MqttClientEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) (listener as (...a: MqttClientEvents[K]) => void)(...args)
  }

  /** Grants SUBSCRIBE number `index` (the last by default) every filter at the QoS it asked. */
  grant(index = this.subscribes.length - 1): void {
    const sub = this.subscribes[index]
    if (!sub) throw new Error(`no SUBSCRIBE ${index}`)
    sub.resolve(Object.entries(sub.args.target).map(([topic, o]) => ({ topic, qos: o.qos ?? 0 })))
  }

  /** The filters and QoS of every SUBSCRIBE, in order. */
  get subscribed(): Array<Record<string, number | undefined>> {
    return this.subscribes.map((s) => Object.fromEntries(Object.entries(s.args.target).map(([t, o]) => [t, o.qos])))
  }
}

/** A tab's end of the wire: it keeps what the host posts. */
export class FakeTab implements TabPort {
  readonly got: HostMessage[] = []

  post(message: HostMessage): void {
    this.got.push(message)
  }

  /** The answer to request `id`, if any came; a second answer to the same request fails the test. */
  answer(id: RequestId): ResultMessage | FailureMessage | undefined {
    const answers = this.got.filter((m): m is ResultMessage | FailureMessage => (m.type === 'result' || m.type === 'failure') && m.id === id)
    if (answers.length > 1) throw new Error(`request ${id} was answered ${answers.length} times`)
    return answers[0]
  }

  /** The messages delivered, in order. */
  get deliveries(): DeliveryMessage[] {
    return this.got.filter((m): m is DeliveryMessage => m.type === 'message')
  }

  /** The names of the client events it heard, in order. */
  get events(): string[] {
    return this.got.flatMap((m) => (m.type === 'event' ? [m.event.name] : []))
  }
}

/** Lets every settled Promise's callbacks run. */
export const settled = () => new Promise((resolve) => setImmediate(resolve))
