import { describe, expect, it } from 'vitest'
import type { PublishPacket, SubscribePacket } from '../../../src/codec/packets.js'
import { BrokerLimitError } from '../../../src/errors.js'
import { brokerRefuses } from '../../../src/protocol/broker-limits.js'

const publish = (qos: 0 | 1 | 2, retain = false): PublishPacket => ({ cmd: 'publish', topic: 't', payload: 'x', qos, retain, dup: false })
const subscribe = (topics: string[], subscriptionIdentifier?: number): SubscribePacket => ({
  cmd: 'subscribe',
  messageId: 1,
  subscriptions: topics.map((topic) => ({ topic, qos: 0 })),
  ...(subscriptionIdentifier === undefined ? {} : { properties: { subscriptionIdentifier } }),
})

describe('brokerRefuses, Maximum Packet Size', () => {
  it('takes a packet of exactly the maximum size and refuses one a byte over, naming its kind and size', () => {
    const limits = { maximumPacketSize: 100 }
    expect(brokerRefuses(limits, publish(0), 100)).toBeUndefined()
    const error = brokerRefuses(limits, publish(0), 101)
    expect(error).toBeInstanceOf(BrokerLimitError)
    expect(error?.limit).toBe('maximumPacketSize')
    expect(error?.message).toBe("A PUBLISH of 101 bytes is over the broker's maximum of 100 (maximumPacketSize in the broker's CONNACK)")
  })

  it('sets no size limit when the CONNACK has no Maximum Packet Size', () => {
    expect(brokerRefuses({}, publish(0), 1_000_000)).toBeUndefined()
    expect(brokerRefuses({}, subscribe(['a']), 1_000_000)).toBeUndefined()
  })
})

describe('brokerRefuses, publishing', () => {
  it('takes a message of QoS equal to the Maximum QoS and refuses one above it', () => {
    expect(brokerRefuses({ maximumQoS: 1 }, publish(1), 10)).toBeUndefined()
    const error = brokerRefuses({ maximumQoS: 1 }, publish(2), 10)
    expect(error?.limit).toBe('maximumQoS')
    expect(error?.message).toBe("The broker takes messages up to QoS 1, not QoS 2 (maximumQoS in the broker's CONNACK)")
  })

  it('takes any QoS when the CONNACK has no Maximum QoS', () => {
    expect(brokerRefuses({}, publish(2), 10)).toBeUndefined()
  })

  it('refuses a retained publish when Retain Available is false, and takes one that is not retained', () => {
    const error = brokerRefuses({ retainAvailable: false }, publish(0, true), 10)
    expect(error?.limit).toBe('retainAvailable')
    expect(error?.message).toBe("The broker does not keep retained messages (retainAvailable in the broker's CONNACK)")
    expect(brokerRefuses({ retainAvailable: false }, publish(0, false), 10)).toBeUndefined()
    expect(brokerRefuses({}, publish(0, true), 10)).toBeUndefined()
  })
})

describe('brokerRefuses, subscribing', () => {
  it('refuses a Subscription Identifier only when the broker said it has none', () => {
    const error = brokerRefuses({ subscriptionIdentifiersAvailable: false }, subscribe(['a'], 7), 10)
    expect(error?.limit).toBe('subscriptionIdentifiersAvailable')
    expect(error?.message).toBe("The broker does not support subscription identifiers (subscriptionIdentifiersAvailable in the broker's CONNACK)")
    expect(brokerRefuses({ subscriptionIdentifiersAvailable: false }, subscribe(['a']), 10)).toBeUndefined()
    expect(brokerRefuses({}, subscribe(['a'], 7), 10)).toBeUndefined()
  })

  it('refuses a shared subscription only when the broker said it has none, naming the filter', () => {
    const error = brokerRefuses({ sharedSubscriptionAvailable: false }, subscribe(['a', '$share/g/t']), 10)
    expect(error?.limit).toBe('sharedSubscriptionAvailable')
    expect(error?.message).toBe(
      `The broker does not support shared subscriptions such as "$share/g/t" (sharedSubscriptionAvailable in the broker's CONNACK)`,
    )
    expect(brokerRefuses({ sharedSubscriptionAvailable: false }, subscribe(['a', 'share/g/t']), 10)).toBeUndefined()
    expect(brokerRefuses({}, subscribe(['$share/g/t']), 10)).toBeUndefined()
  })

  it('refuses a wildcard filter only when the broker said it takes none, naming the filter', () => {
    const error = brokerRefuses({ wildcardSubscriptionAvailable: false }, subscribe(['a/b', 'a/+']), 10)
    expect(error?.limit).toBe('wildcardSubscriptionAvailable')
    expect(error?.message).toBe(`The broker does not support wildcard subscriptions such as "a/+" (wildcardSubscriptionAvailable in the broker's CONNACK)`)
    expect(brokerRefuses({ wildcardSubscriptionAvailable: false }, subscribe(['a/b']), 10)).toBeUndefined()
    expect(brokerRefuses({}, subscribe(['#']), 10)).toBeUndefined()
  })
})

describe('brokerRefuses, MQTT 3.1.1', () => {
  it('refuses nothing when there is no CONNACK limits object', () => {
    expect(brokerRefuses(undefined, publish(2, true), 1_000_000)).toBeUndefined()
    expect(brokerRefuses(undefined, subscribe(['$share/g/#'], 7), 1_000_000)).toBeUndefined()
  })
})
