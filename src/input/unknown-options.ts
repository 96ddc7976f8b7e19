import { InvalidArgumentError } from '../errors.js'
import type { ClientOptions, ReconnectOptions, WillOptions } from './options.js'
import type { EndOptions, MessagesOptions, PublishOptions, SubscribeOptions } from './requests.js'
import { quoted } from './values.js'

/**
 * Every option the client reads, one list per object. The type checker holds each list equal to
 * its interface's keys: an option added to ClientOptions and not here fails to compile, rather
 * than being refused at run time as unknown.
 */
const CLIENT_OPTIONS = {
  clientId: true,
  protocolVersion: true,
  clean: true,
  keepalive: true,
  username: true,
  password: true,
  credentials: true,
  will: true,
  reconnect: true,
  connectTimeout: true,
  servers: true,
  queueQoS0: true,
  topicAliases: true,
  onAuth: true,
  store: true,
  WebSocket: true,
  properties: true,
  maxInflight: true,
  queueLimit: true,
  maxPacketSize: true,
  endTimeout: true,
  coalesceWrites: true,
  subprotocol: true,
} as const satisfies Record<keyof ClientOptions, true>

const RECONNECT_OPTIONS = {
  minDelay: true,
  maxDelay: true,
  factor: true,
  jitter: true,
  maxAttempts: true,
  resetAfter: true,
} as const satisfies Record<keyof ReconnectOptions, true>

const WILL_OPTIONS = {
  topic: true,
  payload: true,
  qos: true,
  retain: true,
  properties: true,
} as const satisfies Record<keyof WillOptions, true>

const PUBLISH_OPTIONS = { qos: true, retain: true, properties: true } as const satisfies Record<keyof PublishOptions, true>

const SUBSCRIBE_OPTIONS = { qos: true, nl: true, rap: true, rh: true, properties: true } as const satisfies Record<keyof SubscribeOptions, true>

const MESSAGES_OPTIONS = { ...SUBSCRIBE_OPTIONS, bufferLimit: true, overflow: true } as const satisfies Record<keyof MessagesOptions, true>

const END_OPTIONS = { force: true, reasonCode: true, properties: true } as const satisfies Record<keyof EndOptions, true>

/** The options of each request, and MQTT.js's for it that ours do not take, with what to do instead. */
const REQUESTS = {
  publish: {
    known: PUBLISH_OPTIONS,
    mqttjs: {
      dup: 'ours sets DUP itself when it sends again',
      cbStorePut: 'ours takes no callback: await the Promise',
    },
  },
  subscribe: { known: SUBSCRIBE_OPTIONS, mqttjs: {} },
  messages: { known: MESSAGES_OPTIONS, mqttjs: {} },
  end: { known: END_OPTIONS, mqttjs: {} },
} satisfies Record<string, { known: Readonly<Record<string, true>>; mqttjs: Readonly<Record<string, string>> }>

// Short on purpose: each string is in every browser bundle. MIGRATING.md has the long answers.
const IN_THE_URL = 'put it in the URL'
const WEBSOCKET_CLASS = 'use options.WebSocket (in Node, a subclass of ws)'
const TOPIC_ALIASES = "use topicAliases: 'auto' or false"
const STORE = 'use store (one Store for outgoing QoS 1/2)'
const NO_BUFFER = 'ours has no write buffer (see coalesceWrites)'
const BYTES = 'payloads are Uint8Array: msg.text(), msg.json()'

/**
 * MQTT.js's options (IClientOptions, MQTT.js 5) that ts-mqtt-ws does not take, each with what to
 * do instead. Its options of the same name and meaning (clientId, keepalive, clean, will...) are
 * in CLIENT_OPTIONS, not here.
 */
const MQTTJS_OPTIONS: Record<string, string> = {
  reconnectPeriod: 'use reconnect: { minDelay } (ms), or reconnect: false for 0',
  reconnectOnConnackError: 'ours retries a refusal unless it would only repeat',
  manualConnect: 'use new MqttClient(url, options), then client.open()',
  transformWsUrl: 'give the url as a function: connect((attempt) => url, options)',
  createWebsocket: WEBSOCKET_CLASS,
  wsOptions: WEBSOCKET_CLASS,
  resubscribe: 'ours always subscribes again where the broker kept no session',
  subscribeBatchSize: 'ours sends each subscribe() as one SUBSCRIBE',
  queueQoSZero: 'use queueQoS0',
  incomingStore: STORE,
  outgoingStore: STORE,
  autoUseTopicAlias: TOPIC_ALIASES,
  autoAssignTopicAlias: TOPIC_ALIASES,
  host: IN_THE_URL,
  hostname: IN_THE_URL,
  port: IN_THE_URL,
  protocol: IN_THE_URL,
  path: IN_THE_URL,
  defaultProtocol: IN_THE_URL,
  query: IN_THE_URL,
  auth: 'use username and password',
  reschedulePings: 'ours pings only when the link is idle',
  timerVariant: 'ours uses Worker timers where it can',
  log: 'listen to the events instead',
  messageIdProvider: 'ours gives packet ids itself',
  customHandleAcks: 'ours acknowledges every message',
  authPacket: 'use properties.authenticationMethod and onAuth',
  protocolId: 'use protocolVersion: 4 or 5 (MQTT 3.1 is not supported)',
  ca: WEBSOCKET_CLASS,
  cert: WEBSOCKET_CLASS,
  key: WEBSOCKET_CLASS,
  caPaths: WEBSOCKET_CLASS,
  certPath: WEBSOCKET_CLASS,
  keyPath: WEBSOCKET_CLASS,
  rejectUnauthorized: WEBSOCKET_CLASS,
  servername: WEBSOCKET_CLASS,
  ALPNProtocols: WEBSOCKET_CLASS,
  socksProxy: WEBSOCKET_CLASS,
  socksTimeout: WEBSOCKET_CLASS,
  browserBufferSize: NO_BUFFER,
  browserBufferTimeout: NO_BUFFER,
  objectMode: NO_BUFFER,
  forceNativeWebSocket: WEBSOCKET_CLASS,
  unixSocket: 'ours speaks MQTT over WebSocket only',
  writeCache: NO_BUFFER,
  encoding: BYTES,
  binary: BYTES,
  my: 'keep your own data beside the client',
}

/**
 * Refuses every key of `options` that the client does not read, and every unknown key of its
 * `reconnect` and `will` objects, with InvalidArgumentError: an option ignored is a setting the
 * caller believes in and does not have. MQTT.js's names are answered with ours; a near miss of
 * one of ours (`keepAlive`, `clientID`) with the one meant.
 *
 * A key is refused even when its value is undefined: `{ reconnectPeriod: config.period }` would
 * otherwise pass wherever `config.period` is unset and fail only where it is set, so the same
 * mistake would surface in one environment and not another. The key is the mistake.
 */
export function refuseUnknownOptions(options: object): void {
  refuseUnknownKeys(options, CLIENT_OPTIONS, MQTTJS_OPTIONS, 'option', '')
  const { reconnect, will } = options as ClientOptions
  if (isObject(reconnect)) refuseUnknownKeys(reconnect, RECONNECT_OPTIONS, {}, 'option', 'reconnect.')
  if (isObject(will)) refuseUnknownKeys(will, WILL_OPTIONS, {}, 'option', 'will.')
}

/**
 * The same for the options of one publish, subscription, messages() or end(): `{ QoS: 1 }`
 * ignored would publish at QoS 0. `options` that are not an object are left to the request's own checks.
 */
export function refuseUnknownRequestOptions(request: keyof typeof REQUESTS, options: unknown): void {
  const { known, mqttjs } = REQUESTS[request]
  if (isObject(options)) refuseUnknownKeys(options, known, mqttjs, `${request} option`, '')
}

/**
 * `what` names the kind of option in the message ('option', 'publish option'); `prefix` is the
 * path of a nested object's keys ('reconnect.').
 */
function refuseUnknownKeys(given: object, known: Readonly<Record<string, true>>, mqttjs: Readonly<Record<string, string>>, what: string, prefix: string): void {
  for (const key of Object.keys(given)) {
    // Own keys only: 'toString' or 'constructor' must not pass as known through the prototype.
    if (Object.hasOwn(known, key)) continue
    if (Object.hasOwn(mqttjs, key)) throw new InvalidArgumentError(`${key} is MQTT.js's; ${mqttjs[key]}`)
    const meant = nearest(key, Object.keys(known))
    const said = `unknown ${what} ${quoted(prefix + key)}`
    throw new InvalidArgumentError(meant === undefined ? said : `${said}; did you mean ${prefix}${meant}?`)
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null
}

/**
 * The known name `key` most likely meant: the same but for case, or within a small edit distance
 * (one edit for names of up to five characters, two for longer ones), so that a short name does
 * not suggest an unrelated one.
 */
export function nearest(key: string, known: readonly string[]): string | undefined {
  const typed = key.toLowerCase()
  const allowed = typed.length <= 5 ? 1 : 2
  let best: string | undefined
  let bestDistance = allowed + 1
  for (const name of known) {
    const distance = editDistance(typed, name.toLowerCase())
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
  }
  return best
}

/** Insertions, deletions, substitutions and swaps of two neighbours (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  // d[i][j]: the distance between the first i characters of a and the first j of b. Row 0 and
  // column 0 are the lengths; the cells past them are all written below before they are read.
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : i)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      // A swap needs two characters on each side: before the start, a[-1] is undefined and matches none.
      if (a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}
