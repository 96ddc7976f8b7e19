import { ConnectionClosedError } from '../errors.js'
import { MqttClient } from './client.js'
import type { ClientOptions } from '../input/options.js'
import type { UrlProvider } from '../input/credentials.js'

/**
 * Creates a client and starts connecting. Bad options throw a typed error at once (an
 * InvalidArgumentError); failures to connect come later, as `error` events, and the client
 * reconnects as `reconnect` says.
 *
 * `url` is the broker's ws:// or wss:// URL, or a function called before each attempt for that
 * attempt's URL, for signed URLs that expire (see {@link UrlProvider}); the `credentials` option
 * does the same for the username and password:
 * `connect(async (attempt) => signedUrl(), { credentials: async () => ({ username, password }) })`.
 *
 * @throws {@link InvalidArgumentError} (or {@link InvalidTopicError}, for the will's topic) on bad
 * options, before anything is sent
 * @example
 * ```ts
 * const client = connect('wss://broker.example.com/mqtt', { protocolVersion: 5 })
 * client.on('connect', () => console.log('connected'))
 * ```
 */
export function connect(url: string | UrlProvider, options?: ClientOptions): MqttClient {
  return new MqttClient(url, options).open()
}

/**
 * Connects and resolves once the first CONNACK accepts the connection. Rejects (and ends the
 * client) if the first attempt fails, with the first error it reported: InvalidArgumentError for
 * bad options, ConnectionRefusedError, ConnectTimeoutError (no CONNACK within connectTimeout,
 * which also covers the url function and credentials hook), TransportError when the socket could
 * not open, or CredentialsError when the url function or credentials hook failed; ProtocolError
 * when the broker breaks the protocol first, and ConnectionClosedError when the connection
 * closes before a CONNACK for no other reason given. Reconnects start only after it resolved.
 * `url` is taken as by {@link connect}.
 * @example
 * ```ts
 * const client = await connectAsync('ws://localhost:8888', { WebSocket }) // `ws` in Node 20
 * ```
 */
export function connectAsync(url: string | UrlProvider, options?: ClientOptions): Promise<MqttClient> {
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
