// One small face for each client measured, so that every scenario runs the same code against all
// of them, in Node and in Chromium alike. Each adapter uses its library the way its own README
// shows, with reconnect off and MQTT 3.1.1.
//
//   connect(url)                       resolves once the CONNACK is in
//   subscribe(topic, qos, onMessage)   resolves once the SUBACK is in; onMessage(message), called
//                                      with the library's own message object
//   payloadOf(message)                 that message's payload bytes
//   publish(topic, payload, qos)       resolves when the library says the message is done
//                                      (written at QoS 0, acknowledged at QoS 1 and 2)
//   end()                              a graceful disconnect
//
// Handlers are looked up by exact topic where the library has no per-subscription handlers of its
// own (MQTT.js, Paho): that is what an application does with them. Where it has them (ours,
// u8-mqtt), the scenario's handler is given as is: a wrapper per subscription to turn the
// library's message into bytes would be the bench's cost, counted against the library.

let clientCount = 0
const clientId = (lib) => `bench-${lib}-${Date.now().toString(36)}-${clientCount++}`

function tsMqttWs(lib, WebSocket) {
  let client
  return {
    async connect(url, extra = {}) {
      client = await lib.connectAsync(url, { WebSocket, clientId: clientId('ours'), reconnect: false, keepalive: 60, ...extra })
    },
    async subscribe(topic, qos, onMessage) {
      await client.subscribe(topic, { qos }, onMessage)
    },
    payloadOf: (message) => message.payload,
    publish: (topic, payload, qos) => client.publish(topic, payload, { qos }),
    end: () => client.end(),
  }
}

function mqttJs(mqtt) {
  let client
  const handlers = new Map()
  return {
    connect(url, extra = {}) {
      return new Promise((resolve, reject) => {
        client = mqtt.connect(url, { clientId: clientId('mqttjs'), reconnectPeriod: 0, keepalive: 60, protocolVersion: 4, ...extra })
        client.on('message', (topic, payload) => handlers.get(topic)?.(payload))
        client.once('connect', () => resolve())
        client.once('error', reject)
      })
    },
    async subscribe(topic, qos, onMessage) {
      handlers.set(topic, onMessage)
      await client.subscribeAsync(topic, { qos })
    },
    payloadOf: (payload) => payload,
    publish: (topic, payload, qos) => client.publishAsync(topic, payload, { qos }),
    end: () => client.endAsync(),
  }
}

function paho(Paho) {
  let client
  const handlers = new Map()
  const delivered = new WeakMap()
  return {
    connect(url) {
      // Paho wants a path in the URI, even an empty one.
      client = new Paho.Client(/^wss?:\/\/[^/]+$/.test(url) ? `${url}/` : url, clientId('paho'))
      client.onMessageArrived = (message) => handlers.get(message.destinationName)?.(message.payloadBytes)
      // Paho reports every message it has finished sending here, with the object given to send().
      client.onMessageDelivered = (message) => {
        delivered.get(message)?.()
        delivered.delete(message)
      }
      return new Promise((resolve, reject) =>
        client.connect({
          mqttVersion: 4,
          keepAliveInterval: 60,
          cleanSession: true,
          timeout: 10,
          onSuccess: () => resolve(),
          onFailure: (e) => reject(new Error(e.errorMessage)),
        }),
      )
    },
    subscribe(topic, qos, onMessage) {
      handlers.set(topic, onMessage)
      return new Promise((resolve, reject) =>
        client.subscribe(topic, { qos, onSuccess: () => resolve(), onFailure: (e) => reject(new Error(String(e.errorMessage))) }),
      )
    },
    payloadOf: (payload) => payload,
    publish(topic, payload, qos) {
      const message = new Paho.Message(payload)
      message.destinationName = topic
      message.qos = qos
      const done = new Promise((resolve) => delivered.set(message, resolve))
      client.send(message)
      return done
    },
    async end() {
      client.disconnect()
    },
  }
}

function u8Mqtt(createClient, WebSocket) {
  let client
  return {
    async connect(url) {
      client = createClient()
      client.with_websock(new WebSocket(url, ['mqtt']))
      await client.connect({ client_id: clientId('u8') })
    },
    async subscribe(topic, qos, onMessage) {
      client.subscribe_topic(topic, { qos }, onMessage)
      await client.subs_settled()
    },
    payloadOf: (pkt) => pkt.payload,
    // u8-mqtt 0.6.7's pub() fails at QoS 0 (it hands its sender a null key where it checks for
    // undefined), so QoS 0 goes to the same sender directly, without the key.
    publish: (topic, payload, qos) =>
      qos === 0 ? client._send('publish', { topic, payload, qos }) : client.pub({ topic, payload, qos }),
    end: () => client.disconnect(),
  }
}

/**
 * No client: the least any MQTT client must do to receive, as the floor under the main-thread
 * rows (bench/main-thread.js). A CONNECT and a SUBSCRIBE written by hand; then each frame is
 * walked for its PUBLISH packets, each one's topic read and its handler called with the payload,
 * a PUBACK written at QoS 1 (those of one task in one frame). No checks, no state, no session: it only receives, and trusts the
 * fake server.
 */
function floor(WebSocket) {
  let socket
  let nextId = 1
  const handlers = new Map()
  const waiting = []
  // PUBACKs wait for the next task and go as one frame, as ts-mqtt-ws's writes do: a frame each
  // would cost this floor more than a client.
  let acks = []
  const flushAcks = () => {
    socket.send(new Uint8Array(acks))
    acks = []
  }
  const ascii = (bytes) => String.fromCharCode.apply(null, bytes)
  const bytesOf = (text) => Array.from(text, (c) => c.charCodeAt(0))
  const string = (text) => [text.length >> 8, text.length & 255, ...bytesOf(text)]
  const receive = (frame) => {
    for (let at = 0; at < frame.length; ) {
      const type = frame[at] >> 4
      let length = 0
      let i = at + 1
      for (let shift = 0; ; shift += 7) {
        const byte = frame[i++]
        length += (byte & 127) * 2 ** shift
        if (byte < 128) break
      }
      const end = i + length
      if (type === 3) {
        const qos = (frame[at] >> 1) & 3
        const topicEnd = i + 2 + ((frame[i] << 8) | frame[i + 1])
        const payloadAt = topicEnd + (qos > 0 ? 2 : 0)
        if (qos > 0 && acks.push(0x40, 2, frame[topicEnd], frame[topicEnd + 1]) === 4) setTimeout(flushAcks)
        handlers.get(ascii(frame.subarray(i + 2, topicEnd)))?.(frame.subarray(payloadAt, end))
      } else waiting.shift()?.()
      at = end
    }
  }
  const answered = () => new Promise((resolve) => waiting.push(resolve))
  return {
    async connect(url) {
      socket = new WebSocket(url, 'mqtt')
      socket.binaryType = 'arraybuffer'
      socket.onmessage = (event) => receive(new Uint8Array(event.data))
      await new Promise((resolve) => (socket.onopen = resolve))
      const body = [...string('MQTT'), 4, 2, 0, 60, ...string(clientId('floor'))]
      socket.send(new Uint8Array([0x10, body.length, ...body]))
      await answered()
    },
    async subscribe(topic, qos, onMessage) {
      handlers.set(topic, onMessage)
      const body = [0, nextId++, ...string(topic), qos]
      socket.send(new Uint8Array([0x82, body.length, ...body]))
      await answered()
    },
    payloadOf: (payload) => payload,
    publish: () => Promise.reject(new Error('the floor adapter only receives')),
    end: async () => {
      socket.send(new Uint8Array([0xe0, 0]))
      socket.close()
    },
  }
}

/**
 * @param {'ours' | 'mqttjs' | 'paho' | 'u8' | 'ws' | 'floor'} name
 * @param {{ tsMqttWs?: any, mqtt?: any, Paho?: any, u8?: any }} libs
 * @param {any} WebSocket the constructor to use (ws in Node, the browser's own in Chromium)
 */
export function createAdapter(name, libs, WebSocket) {
  switch (name) {
    case 'ours':
      return tsMqttWs(libs.tsMqttWs, WebSocket)
    case 'mqttjs':
      return mqttJs(libs.mqtt)
    case 'paho':
      return paho(libs.Paho)
    case 'u8':
      return u8Mqtt(libs.u8, WebSocket)
    case 'ws':
      // No client at all: the raw WebSocket row (scenarios.wsEcho) uses the constructor alone.
      return { WebSocket }
    case 'floor':
      return floor(WebSocket)
    default:
      throw new Error(`unknown client ${name}`)
  }
}
