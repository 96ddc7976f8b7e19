/**
 * Whether a topic string holds an MQTT wildcard (`+` or `#`). One home for the rule: the input
 * checks refuse it in a topic name, routing looks exact filters up by key instead of matching
 * them, and the broker limits refuse it where the broker has no wildcard subscriptions.
 */
export function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#')
}
