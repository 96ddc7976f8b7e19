import type { MqttClientApi } from 'ts-mqtt-ws'

/**
 * The page's two guards, each a question with a plain answer to show: a second Connect while a
 * client runs would make a second client (and connection) with the same id, so it is refused;
 * Publish, Subscribe or Disconnect with no client would do nothing, so the page says why.
 */

/** Why Connect must not make a client now, or undefined when it may. */
export function whyNotConnect(client: MqttClientApi | undefined): string | undefined {
  if (!client) return undefined
  return `Already connected as ${client.clientId || 'a broker-assigned id'} (${client.state}): press Disconnect first to connect with other settings.`
}

/** Why an operation that needs a client cannot run now, or undefined when it can. */
export function whyNoClient(client: MqttClientApi | undefined, action: string): string | undefined {
  return client ? undefined : `Not connected: press Connect first, then ${action}.`
}
