// The client's own ceiling, with the broker taken out: test/support's scripted fake broker, run
// in its own process (bench/run.js forks it) with a script that feeds or drains a client.
//
//   /flood/<n>/<qos>/<per>  after SUBSCRIBE to bench/flood: n pre-encoded PUBLISH packets of 64
//                           bytes, <per> packets to a frame. At QoS 0 it then publishes its counts
//                           on bench/done; at QoS 1 it counts the PUBACKs, and once all n are in
//                           it publishes its counts there.
//   /sink/<n>               counts the PUBLISH packets it is sent; at the n-th it publishes its
//                           counts on bench/done.
//
// Every other packet gets the least answer that keeps a client going (CONNACK, SUBACK, UNSUBACK,
// PINGRESP). The counts include the WebSocket frames that carried the client's packets.
import { generate } from 'mqtt-packet'
import { startFakeBroker } from '../../test/support/fake-broker.js'

/** `node fake-server.js --v5` speaks MQTT 5 (for the topic-alias cells); 3.1.1 otherwise. */
const VERSION = process.argv.includes('--v5') ? 5 : 4
const PAYLOAD = Buffer.alloc(64, 0x61)
const FLOOD_TOPIC = 'bench/flood'
const DONE_TOPIC = 'bench/done'

const publish = (topic, payload, qos, messageId) => generate({ cmd: 'publish', topic, payload, qos, messageId, dup: false, retain: false }, { protocolVersion: VERSION })

/** All n packets, `per` to a frame, encoded when the client connects so that the flood is pure sending. */
function floodFrames(n, qos, per) {
  // At QoS 0 every packet is the same bytes; at QoS 1 each has its own packet id.
  const same = qos === 0 ? publish(FLOOD_TOPIC, PAYLOAD, 0) : undefined
  const frames = []
  let id = 0
  for (let sent = 0; sent < n; ) {
    const count = Math.min(per, n - sent)
    const packets = []
    for (let i = 0; i < count; i++) {
      id = (id % 65_535) + 1
      packets.push(same ?? publish(FLOOD_TOPIC, PAYLOAD, qos, id))
    }
    frames.push(Buffer.concat(packets))
    sent += count
  }
  return frames
}

/** @type {import('../../test/support/fake-broker.js').FakeBrokerOptions['script']} */
function floodOrSink(conn) {
  const [, mode, nText, qosText, perText] = conn.path.split('/')
  const n = Number(nText)
  const qos = Number(qosText ?? 0)
  const frames = mode === 'flood' ? floodFrames(n, qos, Number(perText ?? 256)) : []
  const counts = { frames: 0, bytes: 0, publishes: 0, pubacks: 0, framesWithPublish: 0, framesWithPuback: 0 }
  // The frame (by its count) that last carried a PUBLISH, and a PUBACK, so each frame counts once.
  let publishFrame = 0
  let pubackFrame = 0
  let done = false
  const finish = () => {
    if (done) return
    done = true
    Object.assign(counts, conn.received)
    conn.send(publish(DONE_TOPIC, Buffer.from(JSON.stringify(counts)), 0))
  }

  return (packet) => {
    switch (packet.cmd) {
      case 'connect':
        // On MQTT 5 it takes topic aliases, as brokers do (Mosquitto announces 10).
        conn.send(VERSION === 5 ? { cmd: 'connack', reasonCode: 0, sessionPresent: false, properties: { topicAliasMaximum: 10 } } : { cmd: 'connack', returnCode: 0, sessionPresent: false })
        break
      case 'publish':
        counts.publishes++
        if (publishFrame !== conn.received.frames) {
          publishFrame = conn.received.frames
          counts.framesWithPublish++
        }
        if (mode === 'sink' && counts.publishes === n) finish()
        break
      case 'puback':
        counts.pubacks++
        if (pubackFrame !== conn.received.frames) {
          pubackFrame = conn.received.frames
          counts.framesWithPuback++
        }
        if (mode === 'flood' && counts.pubacks === n) finish()
        break
      case 'subscribe': {
        // Grants what was asked; a subscription to the flood topic starts the flood.
        conn.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) })
        if (mode === 'flood' && packet.subscriptions.some((s) => s.topic === FLOOD_TOPIC)) {
          for (const frame of frames) conn.send(frame)
          if (qos === 0) finish()
        }
        break
      }
      case 'unsubscribe':
        conn.send({ cmd: 'unsuback', messageId: packet.messageId })
        break
      case 'pingreq':
        conn.send({ cmd: 'pingresp' })
        break
      case 'disconnect':
        conn.socket.close()
        break
    }
  }
}

// Nothing kept, and the PUBLISH and PUBACK packets counted rather than decoded, so that the server
// keeps ahead of the fastest client: decoding each of them costs more than a client spends sending.
const server = await startFakeBroker({ script: floodOrSink, keep: false, undecoded: ['publish', 'puback'], protocolVersion: VERSION })
process.send?.({ ready: true, port: server.port })
if (!process.send) console.log(`fake server on ${server.url}`)
// The parent ends this process; an orphan ends itself when the IPC channel closes.
process.on('disconnect', () => process.exit(0))
