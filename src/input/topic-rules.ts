import { InvalidTopicError } from '../errors.js'
import { hasWildcard } from '../wildcards.js'
import { stringFault } from './mqtt-string.js'

/**
 * Checks a topic name for PUBLISH (MQTT §4.7.3): not empty, no wildcards, no U+0000, at most 65,535 bytes.
 * @throws {@link InvalidTopicError} saying what is wrong
 */
export function validateTopicName(topic: unknown): asserts topic is string {
  checkString(topic)
  if (hasWildcard(topic)) {
    throw new InvalidTopicError(topic, 'wildcards (+ and #) are not allowed in a topic name')
  }
}

/**
 * Checks a subscription filter (MQTT §4.7.1): `#` only as the whole last level, `+` only as a whole level.
 * @throws {@link InvalidTopicError} saying what is wrong
 */
export function validateTopicFilter(filter: unknown): asserts filter is string {
  checkString(filter)
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      throw new InvalidTopicError(filter, '# must be the whole last level of a filter')
    }
    if (level.includes('+') && level !== '+') {
      throw new InvalidTopicError(filter, '+ must be a whole level of a filter')
    }
  }
  if (filter.startsWith('$share/')) checkSharedFilter(filter, levels)
}

/** `$share/{group}/{filter}` needs a non-empty group without wildcards and a filter after it (MQTT 5 §4.8.2). */
function checkSharedFilter(filter: string, levels: string[]): void {
  // `filter` starts with '$share/', so it splits into at least two levels.
  const group = levels[1] as string
  if (group === '' || group.includes('+') || group.includes('#') || levels.length < 3) {
    throw new InvalidTopicError(filter, 'a shared subscription is $share/{group}/{filter}')
  }
}

function checkString(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string') {
    throw new InvalidTopicError(String(topic), `a topic must be a string, not ${typeof topic}`)
  }
  if (topic.length === 0) throw new InvalidTopicError(topic, 'a topic must not be empty')
  const fault = stringFault(topic)
  if (fault) throw new InvalidTopicError(topic, `a topic ${fault}`)
}
