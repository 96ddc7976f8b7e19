import type { Subscription } from '../../../src/codec/packets.js'
import { Protocol, type ProtocolOptions } from '../../../src/protocol/protocol.js'

/** No jitter, so every retry deadline is exact: 1 s, then 2 s, 4 s, 8 s. */
export const RECONNECT = { minDelay: 1_000, maxDelay: 8_000, factor: 2, jitter: false, maxAttempts: Infinity, resetAfter: 10_000 }

/**
 * A protocol core with small, round settings (3.1.1, keepalive 10 s, 20 in flight, a queue of
 * 100, connectTimeout 30 s), each of which a test may override. Ops are the caller's opaque
 * tokens; numbers make them easy to read in expectations.
 */
export function testProtocol(overrides: Partial<ProtocolOptions> = {}, granted: () => Subscription[] = () => []): Protocol<number> {
  return new Protocol<number>(
    {
      protocolVersion: 4,
      clientId: 'c1',
      clean: true,
      keepalive: 10,
      maxInflight: 20,
      queueLimit: 100,
      queueQoS0: true,
      servers: ['ws://one'],
      reconnect: RECONNECT,
      connectTimeout: 30_000,
      endTimeout: 5_000,
      ...overrides,
    },
    { granted },
  )
}
