export { connect, connectAsync } from './client/connect.js'
export { MqttClient, type EndOptions } from './client/client.js'
export { Message } from './client/message.js'
export type { ClientState, MqttClientEvents } from './client/events.js'
export type { ClientOptions, ReconnectOptions, WillOptions } from './client/options.js'
export type { Payload } from './client/payload.js'
export type { Granted, MessageHandler, PublishOptions, SubscribeOptions, SubscriptionMap } from './client/requests.js'
export type * from './codec/packets.js'
export type { WebSocketConstructor, WebSocketLike } from './transport/websocket.js'
export type { Store, StoredMessage } from './store/store.js'
export { MemoryStore } from './store/memory-store.js'
export { IndexedDBStore } from './store/indexeddb-store.js'
export { matchTopic, validateTopicFilter, validateTopicName } from './routing/topic.js'
export {
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  InvalidArgumentError,
  InvalidTopicError,
  KeepaliveTimeoutError,
  MqttError,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  SubscribeError,
  TransportError,
} from './errors.js'
