// The client's own ceiling, with the broker taken out: a bare `ws` server on loopback, run in its
// own process (bench/run.js forks it), that speaks just enough MQTT 3.1.1 to feed or drain a client.
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
import { WebSocketServer } from 'ws'

const PAYLOAD = new Uint8Array(64).fill(0x61)
const FLOOD_TOPIC = 'bench/flood'
const DONE_TOPIC = 'bench/done'

function remainingLength(n) {
  const out = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return out
}

function publishPacket(topic, payload, qos, id) {
  const t = Buffer.from(topic)
  const body = 2 + t.length + (qos ? 2 : 0) + payload.length
  const idBytes = qos ? [id >> 8, id & 0xff] : []
  return Buffer.concat([
    Buffer.from([0x30 | (qos << 1), ...remainingLength(body), t.length >> 8, t.length & 0xff]),
    t,
    Buffer.from(idBytes),
    payload,
  ])
}

/** All n packets, `per` to a frame, encoded before the client asks so the flood is pure sending. */
function floodFrames(n, qos, per) {
  const frames = []
  let id = 0
  for (let sent = 0; sent < n; ) {
    const count = Math.min(per, n - sent)
    const packets = []
    for (let i = 0; i < count; i++) {
      id = (id % 65_535) + 1
      packets.push(publishPacket(FLOOD_TOPIC, PAYLOAD, qos, id))
    }
    frames.push(Buffer.concat(packets))
    sent += count
  }
  return frames
}

/** Splits a byte stream into MQTT packets: [type, flags, body] for each whole one. */
function packetReader(onPacket) {
  let pending = Buffer.alloc(0)
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    let offset = 0
    for (;;) {
      let length = 0
      let multiplier = 1
      let i = offset + 1
      for (; i < pending.length; i++) {
        length += (pending[i] & 0x7f) * multiplier
        multiplier *= 128
        if ((pending[i] & 0x80) === 0) break
      }
      if (i >= pending.length) break
      const end = i + 1 + length
      if (end > pending.length) break
      onPacket(pending[offset] >> 4, pending[offset] & 0x0f, pending.subarray(i + 1, end))
      offset = end
    }
    pending = offset === pending.length ? Buffer.alloc(0) : pending.subarray(offset)
  }
}

function serve(ws, path) {
  const [, mode, nText, qosText, perText] = path.split('/')
  const n = Number(nText)
  const qos = Number(qosText ?? 0)
  const frames = mode === 'flood' ? floodFrames(n, qos, Number(perText ?? 256)) : []
  const counts = { frames: 0, bytes: 0, publishes: 0, pubacks: 0, framesWithPublish: 0, framesWithPuback: 0 }
  let done = false
  const finish = () => {
    if (done) return
    done = true
    ws.send(publishPacket(DONE_TOPIC, Buffer.from(JSON.stringify(counts)), 0, 0))
  }

  let sawPublish = false
  let sawPuback = false
  const read = packetReader((type, _flags, body) => {
    switch (type) {
      case 1: // CONNECT
        ws.send(Buffer.from([0x20, 0x02, 0x00, 0x00]))
        break
      case 3: // PUBLISH
        counts.publishes++
        sawPublish = true
        if (mode === 'sink' && counts.publishes === n) finish()
        break
      case 4: // PUBACK
        counts.pubacks++
        sawPuback = true
        if (mode === 'flood' && counts.pubacks === n) finish()
        break
      case 8: {
        // SUBSCRIBE: grant what was asked; a subscription to the flood topic starts the flood.
        const granted = []
        let flood = false
        for (let i = 2; i < body.length; ) {
          const len = body.readUInt16BE(i)
          const topic = body.toString('utf8', i + 2, i + 2 + len)
          granted.push(body[i + 2 + len] & 0x03)
          if (topic === FLOOD_TOPIC) flood = true
          i += 3 + len
        }
        ws.send(Buffer.from([0x90, 2 + granted.length, body[0], body[1], ...granted]))
        if (flood && mode === 'flood') {
          for (const frame of frames) ws.send(frame)
          if (qos === 0) finish()
        }
        break
      }
      case 10: // UNSUBSCRIBE
        ws.send(Buffer.from([0xb0, 0x02, body[0], body[1]]))
        break
      case 12: // PINGREQ
        ws.send(Buffer.from([0xd0, 0x00]))
        break
      case 14: // DISCONNECT
        ws.close()
        break
    }
  })
  ws.on('message', (data) => {
    counts.frames++
    counts.bytes += data.length
    sawPublish = false
    sawPuback = false
    read(data)
    if (sawPublish) counts.framesWithPublish++
    if (sawPuback) counts.framesWithPuback++
  })
}

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
})
wss.on('connection', (ws, request) => serve(ws, request.url ?? '/'))
wss.on('listening', () => {
  const { port } = wss.address()
  process.send?.({ ready: true, port })
  if (!process.send) console.log(`fake server on ws://127.0.0.1:${port}`)
})
// The parent ends this process; an orphan ends itself when the IPC channel closes.
process.on('disconnect', () => process.exit(0))
