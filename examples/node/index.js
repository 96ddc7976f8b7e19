// Connect, subscribe with a handler, publish, print what arrives, and show a caller error.
// Usage: node index.js [broker URL] [topic]
import { connectAsync } from 'ts-mqtt-ws'
// Node 20 has no global WebSocket: hand the client the one from `ws` (Node 22 and later may omit it).
import WebSocket from 'ws'

const [url = 'ws://localhost:8888', topic = 'examples/node'] = process.argv.slice(2)

// Resolves on the broker's CONNACK; rejects with a typed error (refused, timed out, no socket).
const client = await connectAsync(url, { WebSocket })
client.on('error', (err) => console.error(String(err)))
console.log(`connected to ${url} as ${client.clientId}`)

let received
const arrived = new Promise((resolve) => (received = resolve))
// Resolves on the broker's SUBACK; from then on the handler gets each message on the filter.
await client.subscribe(topic, { qos: 1 }, (msg) => {
  console.log(`received ${msg.topic}: ${msg.text()}`)
  received()
})

// QoS 1: resolves on the broker's PUBACK.
await client.publish(topic, 'hello from Node', { qos: 1 })
await arrived

// Bad input rejects with a typed error and nothing is sent: + and # belong in filters only.
try {
  await client.publish(`${topic}/+`, 'never sent')
} catch (err) {
  console.log(`refused: ${String(err)}`)
}

// Waits for what is in flight, then sends DISCONNECT.
await client.end()
