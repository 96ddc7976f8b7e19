import { describe, expect, it } from 'vitest'
import {
  BrokerLimitError,
  BufferOverflowError,
  ClientClosedError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ConnectTimeoutError,
  CredentialsError,
  InvalidArgumentError,
  InvalidTopicError,
  KeepaliveTimeoutError,
  MqttError,
  type MqttErrorCode,
  OfflineError,
  ProtocolError,
  QueueFullError,
  ReasonCodeError,
  RequestTimeoutError,
  SubscribeError,
  TransportError,
} from '../../src/index.js'

describe('MqttError subclasses', () => {
  const each: Array<[MqttError, string, MqttErrorCode]> = [
    [new InvalidTopicError('a/+', 'why'), 'InvalidTopicError', 'INVALID_TOPIC'],
    [new InvalidArgumentError('why'), 'InvalidArgumentError', 'INVALID_ARGUMENT'],
    [new ConnectionRefusedError(5, 'not authorized'), 'ConnectionRefusedError', 'CONNECTION_REFUSED'],
    [new ConnectTimeoutError(10), 'ConnectTimeoutError', 'CONNECT_TIMEOUT'],
    [new SubscribeError([{ topic: 'a', qos: 0x80 }]), 'SubscribeError', 'SUBSCRIBE_REFUSED'],
    [new ReasonCodeError('Publish', 0x87), 'ReasonCodeError', 'REASON_CODE'],
    [new ClientClosedError(), 'ClientClosedError', 'CLIENT_CLOSED'],
    [new ConnectionClosedError(), 'ConnectionClosedError', 'CONNECTION_CLOSED'],
    [new KeepaliveTimeoutError(), 'KeepaliveTimeoutError', 'KEEPALIVE_TIMEOUT'],
    [new ProtocolError('why'), 'ProtocolError', 'PROTOCOL_ERROR'],
    [new QueueFullError(3), 'QueueFullError', 'QUEUE_FULL'],
    [new OfflineError(), 'OfflineError', 'OFFLINE'],
    [new TransportError('why'), 'TransportError', 'TRANSPORT_ERROR'],
    [new BrokerLimitError('maximumQoS', 'why'), 'BrokerLimitError', 'BROKER_LIMIT'],
    [new RequestTimeoutError('t', 5), 'RequestTimeoutError', 'REQUEST_TIMEOUT'],
    [new BufferOverflowError('t/#', 5), 'BufferOverflowError', 'BUFFER_OVERFLOW'],
    [new CredentialsError('credentials', 'why'), 'CredentialsError', 'CREDENTIALS_FAILED'],
  ]

  it.each(each)('%s is an MqttError with its own name and code', (error, name, code) => {
    expect(error).toBeInstanceOf(MqttError)
    expect(error.name).toBe(name)
    expect(error.code).toBe(code)
  })

  it('gives every class a code of its own', () => {
    expect(new Set(each.map(([, , code]) => code)).size).toBe(each.length)
  })
})
