// The whole public API but connectShared: the entry of the script-tag build ts-mqtt-ws.iife.js
// (index.ts adds connectShared for the module builds, ts-mqtt-ws.shared.iife.js for script tags).
export { connect, connectAsync } from './client/connect.js'
export { MqttClient, type EndOptions } from './client/client.js'
export type { MqttClientApi } from './client/api.js'
export { Message, type MessageHandler } from './client/message.js'
export type { RequestOptions, Responder } from './client/request-response.js'
export type { ClientState, MqttClientEvents } from './client/events.js'
export type { AuthHook, ClientOptions, ReconnectOptions, ResolvedOptions, WillOptions } from './input/options.js'
export type { Credentials, CredentialsHook, UrlProvider } from './input/credentials.js'
export type { Payload } from './input/payload.js'
export type { MessagesOptions, PublishOptions, SubscribeOptions, SubscriptionMap } from './input/requests.js'
export type { MessageStream } from './routing/message-iterator.js'
export type { Granted, PublishResult, UnsubscribeResult } from './protocol/reason-codes.js'
export type { NextReconnect, ProtocolStats as ClientStats, ProtocolWarning as ClientWarning } from './protocol/protocol.js'
export type * from './codec/packets.js'
export type { WebSocketConstructor, WebSocketLike } from './transport/websocket.js'
export type { Store, StoredMessage } from './store/store.js'
export { MemoryStore } from './store/memory-store.js'
export { IndexedDBStore } from './store/indexeddb-store.js'
export { validateTopicFilter, validateTopicName } from './input/topic-rules.js'
export { matchTopic } from './routing/topic-match.js'
export {
  BrokerLimitError,
  BufferOverflowError,
  ClientClosedError,
  ConnectionClosedError,
  SessionTakenOverError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  CredentialsError,
  InvalidArgumentError,
  InvalidTopicError,
  KeepaliveTimeoutError,
  MqttError,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  RequestTimeoutError,
  SubscribeError,
  TransportError,
} from './errors.js'
export type { BrokerLimit, MqttErrorCode } from './errors.js'
