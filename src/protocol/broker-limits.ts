import type { ConnackProperties, Packet } from '../codec/packets.js'
import { BrokerLimitError } from '../errors.js'
import { hasWildcard } from '../wildcards.js'

/**
 * Whether the broker, by what its last CONNACK announced (MQTT 5), would refuse to take this
 * packet of `size` bytes: the error that names the limit, or undefined. An absent property sets
 * no limit, so a 3.1.1 broker's CONNACK allows everything.
 */
export function brokerRefuses(limits: ConnackProperties | undefined, packet: Packet, size: number): BrokerLimitError | undefined {
  if (!limits) return undefined
  if (limits.maximumPacketSize !== undefined && size > limits.maximumPacketSize) {
    return new BrokerLimitError('maximumPacketSize', `A ${packet.cmd.toUpperCase()} of ${size} bytes is over the broker's maximum of ${limits.maximumPacketSize}`)
  }
  if (packet.cmd === 'publish') {
    if (limits.maximumQoS !== undefined && packet.qos > limits.maximumQoS) {
      return new BrokerLimitError('maximumQoS', `The broker takes messages up to QoS ${limits.maximumQoS}, not QoS ${packet.qos}`)
    }
    if (limits.retainAvailable === false && packet.retain) {
      return new BrokerLimitError('retainAvailable', 'The broker does not keep retained messages')
    }
  }
  if (packet.cmd === 'subscribe') {
    if (limits.subscriptionIdentifiersAvailable === false && packet.properties?.subscriptionIdentifier !== undefined) {
      return new BrokerLimitError('subscriptionIdentifiersAvailable', 'The broker does not support subscription identifiers')
    }
    for (const { topic } of packet.subscriptions) {
      if (limits.sharedSubscriptionAvailable === false && topic.startsWith('$share/')) {
        return new BrokerLimitError('sharedSubscriptionAvailable', `The broker does not support shared subscriptions such as ${JSON.stringify(topic)}`)
      }
      if (limits.wildcardSubscriptionAvailable === false && hasWildcard(topic)) {
        return new BrokerLimitError('wildcardSubscriptionAvailable', `The broker does not support wildcard subscriptions such as ${JSON.stringify(topic)}`)
      }
    }
  }
  return undefined
}
