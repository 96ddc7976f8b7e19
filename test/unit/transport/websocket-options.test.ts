import { describe, expect, it } from 'vitest'
import { MqttClient } from '../../../src/index.js'
import { WebSocketTransport, type WebSocketLike } from '../../../src/transport/websocket.js'
import { FakeSocket, written } from '../client/fake-socket.js'
import { startedClients } from '../client/fake-client.js'

/** A socket that is open at once and records each frame sent and the subprotocols it was offered. */
class RecordingSocket implements WebSocketLike {
  static last: RecordingSocket | undefined
  binaryType = 'blob'
  readyState = 1
  frames: number[][] = []
  onopen: ((event: never) => unknown) | null = null
  onmessage: ((event: never) => unknown) | null = null
  onerror: ((event: never) => unknown) | null = null
  onclose: ((event: never) => unknown) | null = null
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    RecordingSocket.last = this
  }
  send(data: Uint8Array): void {
    this.frames.push([...data])
  }
  close(): void {}
}

/** The FakeSocket broker stand-in, counting the frames the client sends as well as their packets. */
class FrameCountingSocket extends FakeSocket {
  frames = 0
  override send(data: Uint8Array): void {
    this.frames++
    super.send(data)
  }
}

const noHandlers = { onOpen() {}, onData() {}, onClose() {} }
const puback = (id: number) => [0x40, 0x02, 0x00, id]

function transport(options?: ConstructorParameters<typeof WebSocketTransport>[3]): { transport: WebSocketTransport; socket: RecordingSocket } {
  const made = new WebSocketTransport('ws://x', noHandlers, RecordingSocket, options)
  return { transport: made, socket: RecordingSocket.last as RecordingSocket }
}

describe('WebSocketTransport with coalesceWrites', () => {
  it('puts each packet in a frame of its own with coalesceWrites false, in order', async () => {
    const { transport: t, socket } = transport({ subprotocols: ['mqtt'], coalesceWrites: false })
    for (let i = 1; i <= 4; i++) t.send(Uint8Array.of(...puback(i)))
    await written()
    expect(socket.frames).toEqual([1, 2, 3, 4].map(puback))
  })

  it('joins the packets of one task into one frame by default', async () => {
    const { transport: t, socket } = transport()
    for (let i = 1; i <= 4; i++) t.send(Uint8Array.of(...puback(i)))
    await written()
    expect(socket.frames).toEqual([[1, 2, 3, 4].flatMap(puback)])
  })

  it('still sends what is pending, a frame per packet, when closed with coalesceWrites false', () => {
    const { transport: t, socket } = transport({ subprotocols: ['mqtt'], coalesceWrites: false })
    t.send(Uint8Array.of(...puback(1)))
    t.send(Uint8Array.of(0xe0, 0x00))
    t.close()
    expect(socket.frames).toEqual([puback(1), [0xe0, 0x00]])
  })
})

describe('WebSocketTransport subprotocols', () => {
  it('offers mqtt alone by default', () => {
    expect(transport().socket.protocols).toEqual(['mqtt'])
  })

  it('offers the WebSocket exactly the subprotocols it is given, in order', () => {
    expect(transport({ subprotocols: ['mqttv3.1'], coalesceWrites: true }).socket.protocols).toEqual(['mqttv3.1'])
    expect(transport({ subprotocols: ['mqtt', 'mqttv3.1'], coalesceWrites: true }).socket.protocols).toEqual(['mqtt', 'mqttv3.1'])
  })
})

describe('MqttClient hands the broker-quirk options to its transport', () => {
  const started = startedClients()

  /** A client past its CONNACK, and the socket standing in for its broker. */
  async function connected(options: ConstructorParameters<typeof MqttClient>[1]): Promise<{ c: MqttClient; socket: FrameCountingSocket }> {
    const c = new MqttClient('ws://broker.test', { WebSocket: FrameCountingSocket, reconnect: false, ...options }).open()
    started.push(c)
    await written() // the store is read first
    const socket = FakeSocket.last as FrameCountingSocket
    socket.open()
    await written()
    socket.deliver({ cmd: 'connack', sessionPresent: false, returnCode: 0 })
    return { c, socket }
  }

  it('offers the WebSocket the subprotocol the caller asked for', async () => {
    const { socket } = await connected({ subprotocol: 'mqttv3.1' })
    expect(socket.protocols).toEqual(['mqttv3.1'])
  })

  it('offers every subprotocol of a list, in the order given', async () => {
    const { socket } = await connected({ subprotocol: ['mqttv3.1', 'mqtt'] })
    expect(socket.protocols).toEqual(['mqttv3.1', 'mqtt'])
  })

  it('writes a burst of publishes a frame each with coalesceWrites false', async () => {
    const { c, socket } = await connected({ coalesceWrites: false })
    await Promise.all([1, 2, 3].map((i) => c.publish(`t/${i}`, 'x')))
    await written() // a QoS 0 publish resolves once handed to the transport, a task before the flush
    expect(socket.commands).toEqual(['connect', 'publish', 'publish', 'publish'])
    expect(socket.frames).toBe(4)
  })

  it('writes a burst of publishes in one frame by default', async () => {
    const { c, socket } = await connected({})
    await Promise.all([1, 2, 3].map((i) => c.publish(`t/${i}`, 'x')))
    await written() // a QoS 0 publish resolves once handed to the transport, a task before the flush
    expect(socket.commands).toEqual(['connect', 'publish', 'publish', 'publish'])
    expect(socket.frames).toBe(2)
  })
})
