import type { ConnackPacket } from '../codec/packets.js'
import type { ResolvedOptions } from '../input/options.js'
import type { Payload } from '../input/payload.js'
import type { EndOptions, MessagesOptions, PublishOptions, SubscribeOptions, SubscriptionMap } from '../input/requests.js'
import type { NextReconnect, ProtocolStats } from '../protocol/protocol.js'
import type { Granted, PublishResult, UnsubscribeResult } from '../protocol/reason-codes.js'
import type { MessageStream } from '../routing/message-iterator.js'
import type { EmitterApi } from './emitter.js'
import type { ClientState, MqttClientEvents } from './events.js'
import type { Message, MessageHandler } from './message.js'
import type { RequestOptions, Responder } from './request-response.js'

/**
 * The whole public surface of an MQTT client, as a type: what `connect()` gives, whether the
 * connection is the client's own ({@link MqttClient}, which implements this, so the two cannot
 * drift apart) or shared by the tabs of an origin (`connect(url, { shared: true })`, a proxy of a
 * client that runs elsewhere). Write code that takes a client against this interface, and it
 * takes both. MqttClient's own documentation says what each member does.
 */
export interface MqttClientApi extends EmitterApi<MqttClientEvents> {
  /** The options the client runs on, defaults filled in, without the password or the URLs' userinfo and query. */
  readonly options: Readonly<Omit<ResolvedOptions, 'password'>>
  /** Where the client is now. */
  readonly state: ClientState
  /** Whether the client is connected now (state 'connected'). */
  readonly connected: boolean
  /** The client id given, or the one an MQTT 5 broker assigned when none was. */
  readonly clientId: string
  /** The CONNACK of the current connection, or of the last one. */
  readonly connack: ConnackPacket | undefined
  /** The MQTT version the client speaks now. */
  readonly protocolVersion: 4 | 5
  /** The sizes of the client's queues and tables now. */
  readonly stats: ProtocolStats
  /** While the client waits to reconnect: which try comes next, and in how many ms. */
  readonly nextReconnect: NextReconnect | undefined
  /** Opens the connection (connect() has); on an open client, at most cuts a wait to reconnect short. */
  open(): this
  /** Publishes a message; see MqttClient.publish. */
  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<PublishResult | undefined>
  /** Subscribes to one or more filters; see MqttClient.subscribe. */
  subscribe(target: string | string[] | SubscriptionMap, handler?: MessageHandler): Promise<Granted[]>
  /** Subscribes with options; see MqttClient.subscribe. */
  subscribe(target: string | string[] | SubscriptionMap, options?: SubscribeOptions, handler?: MessageHandler): Promise<Granted[]>
  /** Unsubscribes from one or more filters; their handlers and message streams stop at once. */
  unsubscribe(target: string | string[]): Promise<UnsubscribeResult>
  /** Messages on `filter`, as an async iterator that ends when the client ends; see MqttClient.messages. */
  messages(filter: string, options?: MessagesOptions): MessageStream<Message>
  /** Publishes a request and resolves with its reply; see MqttClient.request. */
  request(topic: string, payload: Payload, options?: RequestOptions): Promise<Message>
  /** Answers requests on `filter` with what `responder` returns; see MqttClient.respond. */
  respond(filter: string, responder: Responder, options?: SubscribeOptions): Promise<Granted[]>
  /** Re-authenticates on the live connection (MQTT 5 enhanced authentication). */
  reauthenticate(authenticationData?: Uint8Array): Promise<undefined>
  /** Ends the client: gracefully by default, at once with `force`. */
  end(options?: EndOptions): Promise<void>
}
