import { describe, expect, it } from 'vitest'
import { WebSocketTransport, type WebSocketLike } from '../../../src/transport/websocket.js'

/** A socket that is open at once and records what is sent. */
class RecordingSocket implements WebSocketLike {
  static last: RecordingSocket | undefined
  binaryType = 'blob'
  readyState = 1
  bufferedAmount = 0
  frames: Uint8Array[] = []
  onopen: ((event: never) => unknown) | null = null
  onmessage: ((event: never) => unknown) | null = null
  onerror: ((event: never) => unknown) | null = null
  onclose: ((event: never) => unknown) | null = null
  constructor() {
    RecordingSocket.last = this
  }
  send(data: Uint8Array): void {
    this.frames.push(data)
  }
  close(): void {}
}

// In Node the transport flushes from setImmediate; one queued after it runs after it.
const nextTask = () => new Promise((resolve) => setImmediate(resolve))
const noHandlers = { onOpen() {}, onData() {}, onClose() {} }

describe('WebSocketTransport flushing', () => {
  it('sends what is written across several microtasks in one frame, one task later', async () => {
    const transport = new WebSocketTransport('ws://x', noHandlers, RecordingSocket)
    const socket = RecordingSocket.last as RecordingSocket
    // As when a browser hands over incoming frames and the client acknowledges each: the writes
    // are separated by microtasks, and must still leave together.
    for (let i = 1; i <= 5; i++) {
      transport.send(Uint8Array.of(0x40, 0x02, 0x00, i))
      await Promise.resolve()
    }
    expect(socket.frames).toHaveLength(0)
    await nextTask()
    expect(socket.frames).toHaveLength(1)
    expect([...(socket.frames[0] as Uint8Array)]).toEqual([1, 2, 3, 4, 5].flatMap((i) => [0x40, 0x02, 0x00, i]))
  })

  it('sends what is still pending when closed, before the close', () => {
    const transport = new WebSocketTransport('ws://x', noHandlers, RecordingSocket)
    const socket = RecordingSocket.last as RecordingSocket
    transport.send(Uint8Array.of(0xe0, 0x00))
    transport.close()
    expect(socket.frames.map((f) => [...f])).toEqual([[0xe0, 0x00]])
  })
})
