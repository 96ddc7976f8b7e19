import { ConnectionClosedError } from '../errors.js'
import { MqttClient } from './client.js'
import type { ClientOptions } from '../input/options.js'

/** Creates a client and starts connecting. Bad options throw a typed error at once. */
export function connect(url: string, options?: ClientOptions): MqttClient {
  return new MqttClient(url, options).open()
}

/**
 * Connects and resolves once the first CONNACK accepts the connection. Rejects (and ends the
 * client) if the first attempt fails: refused, timed out, or the socket could not open.
 */
export function connectAsync(url: string, options?: ClientOptions): Promise<MqttClient> {
  let client: MqttClient
  try {
    client = new MqttClient(url, options)
  } catch (err) {
    return Promise.reject(err)
  }
  return new Promise((resolve, reject) => {
    let failure: Error | undefined
    const onError = (err: Error) => {
      failure ??= err
    }
    const onConnect = () => {
      cleanup()
      resolve(client)
    }
    const onClose = () => {
      cleanup()
      void client.end({ force: true })
      reject(failure ?? new ConnectionClosedError('Connection closed before CONNACK'))
    }
    const cleanup = () => {
      client.off('error', onError).off('connect', onConnect).off('close', onClose)
    }
    client.on('error', onError).on('connect', onConnect).on('close', onClose)
    client.open()
  })
}
