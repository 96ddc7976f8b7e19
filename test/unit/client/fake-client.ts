import { afterEach, beforeEach, vi } from 'vitest'
import type { MqttClient } from '../../../src/index.js'
import { FakeSocket } from './fake-socket.js'

/**
 * The clients a test file starts on fake sockets: each test begins with no sockets, and every
 * client pushed onto the returned list is ended (forced) after its test, so none outlives it.
 * Call once at the top level of a file or describe block.
 */
export function startedClients(): MqttClient[] {
  const started: MqttClient[] = []
  beforeEach(() => {
    FakeSocket.all.length = 0
  })
  afterEach(async () => {
    for (const c of started.splice(0)) await c.end({ force: true })
  })
  return started
}

/**
 * Fake timers for the client's clock in every test of the file. setImmediate stays real: the
 * transport flushes its writes in it. Call before startedClients(), so that the clients are ended
 * while the clock is still fake.
 */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })
}
