import { generate, type Packet as WirePacket } from 'mqtt-packet'
import { describe, expect, it } from 'vitest'
import { Connection, type ConnectionOwner, type TransportFactory } from '../../../src/client/connection.js'
import type { IncomingPacket } from '../../../src/codec/packets.js'
import { type MqttError, ProtocolError, TransportError } from '../../../src/errors.js'
import type { Transport, TransportHandlers } from '../../../src/transport/transport.js'
import type { WebSocketConstructor } from '../../../src/transport/websocket.js'

/** A transport the test drives: it records what is sent and whether it was closed. */
class FakeTransport implements Transport {
  sent: Uint8Array[] = []
  closed = false
  constructor(readonly handlers: TransportHandlers) {}
  send(bytes: Uint8Array): void {
    this.sent.push(bytes)
  }
  close(): void {
    this.closed = true
  }
}

/** What the owner heard, in order. */
function recordingOwner(onPacket?: (packet: IncomingPacket) => void): ConnectionOwner & { heard: string[]; errors: Array<MqttError | undefined> } {
  const heard: string[] = []
  const errors: Array<MqttError | undefined> = []
  return {
    heard,
    errors,
    opened: () => heard.push('opened'),
    received: (packet) => {
      heard.push(packet.cmd)
      onPacket?.(packet)
    },
    closed: (error) => {
      heard.push('closed')
      errors.push(error)
    },
    violated: (error) => {
      heard.push('violated')
      errors.push(error)
    },
  }
}

function open(owner: ConnectionOwner, factory?: TransportFactory): { connection: Connection; transport: FakeTransport } {
  let transport: FakeTransport | undefined
  const make: TransportFactory =
    factory ??
    ((_url, handlers) => {
      transport = new FakeTransport(handlers)
      return transport
    })
  const connection = new Connection('ws://x', { WebSocket: class {} as unknown as WebSocketConstructor, protocolVersion: 4, maxPacketSize: 1024, subprotocols: ['mqtt'], coalesceWrites: true }, owner, make)
  return { connection, transport: transport as FakeTransport }
}

const bytes = (...packets: WirePacket[]) => new Uint8Array(Buffer.concat(packets.map((p) => generate(p))))
const ping: WirePacket = { cmd: 'pingresp' }
const suback: WirePacket = { cmd: 'suback', messageId: 1, granted: [0] }

describe('Connection', () => {
  it('tells its owner the socket opened, then each packet in order, several to a chunk or one across chunks', () => {
    const owner = recordingOwner()
    const { transport } = open(owner)
    transport.handlers.onOpen()
    transport.handlers.onData(bytes(ping, suback))
    const split = bytes(suback)
    transport.handlers.onData(split.subarray(0, 3))
    expect(owner.heard).toEqual(['opened', 'pingresp', 'suback'])
    transport.handlers.onData(split.subarray(3))
    expect(owner.heard).toEqual(['opened', 'pingresp', 'suback', 'suback'])
  })

  it('on bytes that do not decode tells the owner why, once, reads nothing more, and leaves the socket open to say why', () => {
    const owner = recordingOwner()
    const { connection, transport } = open(owner)
    transport.handlers.onData(new Uint8Array([0x00, 0x02, 1, 2]))
    expect(owner.heard).toEqual(['violated'])
    expect(owner.errors[0]).toBeInstanceOf(ProtocolError)
    expect((owner.errors[0] as ProtocolError).reasonCode).toBe(0x81)
    transport.handlers.onData(bytes(ping))
    expect(owner.heard).toEqual(['violated'])
    expect(transport.closed).toBe(false)
    connection.send(Uint8Array.of(0xe0, 0))
    expect(transport.sent).toHaveLength(1)
    connection.close()
    expect(transport.closed).toBe(true)
  })

  it('stops handing over the packets of a chunk once the owner closed it while handling one', () => {
    let connection: Connection | undefined
    const owner = recordingOwner(() => connection?.close())
    const opened = open(owner)
    connection = opened.connection
    opened.transport.handlers.onData(bytes(ping, suback, ping))
    expect(owner.heard).toEqual(['pingresp'])
    expect(opened.transport.closed).toBe(true)
  })

  it('says nothing more after its owner closed it, and sends nothing more', () => {
    const owner = recordingOwner()
    const { connection, transport } = open(owner)
    connection.send(Uint8Array.of(0xc0, 0))
    connection.close()
    connection.send(Uint8Array.of(0xe0, 0))
    transport.handlers.onClose(new TransportError('late'))
    expect(transport.sent).toHaveLength(1)
    expect(owner.heard).toEqual([])
  })

  it('reports a socket that went by itself with the transport error', () => {
    const owner = recordingOwner()
    const { transport } = open(owner)
    const lost = new TransportError('gone')
    transport.handlers.onClose(lost)
    expect(owner.errors).toEqual([lost])
  })

  it('reports a transport that could not be made a moment later, as a close with its error', async () => {
    const owner = recordingOwner()
    const failure = new TransportError('bad url')
    open(owner, () => {
      throw failure
    })
    expect(owner.heard).toEqual([])
    await Promise.resolve()
    expect(owner.errors).toEqual([failure])
  })
})
