import type { PublishOptions, PublishProperties, QoS } from 'ts-mqtt-ws'
import { byId } from './dom.js'

/** The publish form: its topic, payload and PublishOptions, with MQTT 5 properties when given. */

const input = (id: string) => byId<HTMLInputElement>(id)

export const publishTopic = (): string => input('topic').value
export const subscribeQos = (): QoS => Number(byId<HTMLSelectElement>('qos').value) as QoS

/** "key=value" as a user property; text with no "=" is a key with an empty value. */
function userProperty(text: string): Record<string, string> {
  const at = text.indexOf('=')
  return at < 0 ? { [text]: '' } : { [text.slice(0, at)]: text.slice(at + 1) }
}

/** The MQTT 5 fields that are filled in; none at all for a 3.1.1 publish. */
function properties(): PublishProperties | undefined {
  const found: PublishProperties = {}
  const contentType = input('content-type').value.trim()
  const user = input('user-property').value.trim()
  const expiry = input('expiry').value.trim()
  if (contentType) found.contentType = contentType
  if (user) found.userProperties = userProperty(user)
  if (expiry) found.messageExpiryInterval = Number(expiry)
  return Object.keys(found).length > 0 ? found : undefined
}

export function publishRequest(): { topic: string; payload: string; options: PublishOptions } {
  const options: PublishOptions = { qos: subscribeQos(), retain: input('retain').checked }
  const props = properties()
  if (props) options.properties = props
  return { topic: publishTopic(), payload: input('message').value, options }
}
