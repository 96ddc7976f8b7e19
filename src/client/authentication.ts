import type { AuthPacket } from '../codec/packets.js'
import { MqttError, ProtocolError } from '../errors.js'
import type { AuthHook } from '../input/options.js'

/**
 * The onAuth hook's answer to one AUTH challenge (MQTT 5 enhanced authentication). Rejects with
 * an MqttError when there is no hook, or when it throws or rejects.
 */
export async function askHook(hook: AuthHook | undefined, challenge: AuthPacket): Promise<Uint8Array | undefined> {
  if (!hook) throw new ProtocolError('the broker sent an AUTH challenge, and no onAuth option answers it')
  const data = challenge.properties?.authenticationData
  try {
    return await hook(data ? { reasonCode: challenge.reasonCode, authenticationData: data } : { reasonCode: challenge.reasonCode })
  } catch (err) {
    // Only our own errors pass as they are: a DOMException or a Node system error has a `code` too.
    if (err instanceof MqttError) throw err
    throw new ProtocolError(`onAuth failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}
