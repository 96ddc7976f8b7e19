import { describe, expect, it } from 'vitest'
import { askHook } from '../../../src/client/authentication.js'
import type { AuthPacket } from '../../../src/codec/packets.js'
import { ProtocolError, RequestTimeoutError } from '../../../src/errors.js'

const challenge = (data?: number[]): AuthPacket => ({
  cmd: 'auth',
  reasonCode: 0x18,
  properties: { authenticationMethod: 'm', ...(data ? { authenticationData: Uint8Array.from(data) } : {}) },
})

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: unknown) => err,
  )
}

describe('asking the onAuth hook for the answer to an AUTH challenge', () => {
  it('hands the hook the reason code and the challenge data, and resolves with its answer', async () => {
    const seen: unknown[] = []
    const answer = await askHook((c) => {
      seen.push(c)
      return Uint8Array.of(9)
    }, challenge([1, 2]))
    expect(seen).toEqual([{ reasonCode: 0x18, authenticationData: Uint8Array.of(1, 2) }])
    expect(answer).toEqual(Uint8Array.of(9))
  })

  it('leaves authenticationData out of what the hook sees when the challenge has none, or no properties at all', async () => {
    const seen: object[] = []
    await askHook(async (c) => void seen.push(c), challenge())
    await askHook(async (c) => void seen.push(c), { cmd: 'auth', reasonCode: 0x18 })
    expect(seen).toStrictEqual([{ reasonCode: 0x18 }, { reasonCode: 0x18 }])
  })

  it('rejects with a ProtocolError when there is no hook to answer', async () => {
    const err = await failure(askHook(undefined, challenge()))
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as Error).message).toBe('the broker sent an AUTH challenge, and no onAuth option answers it')
  })

  it("passes the library's own errors through as they are", async () => {
    const own = new RequestTimeoutError('t', 5)
    expect(await failure(askHook(() => Promise.reject(own), challenge()))).toBe(own)
  })

  it('wraps anything else the hook throws in a ProtocolError carrying it, a DOMException with a code included', async () => {
    const aborted = new DOMException('This operation was aborted', 'AbortError')
    const err = await failure(askHook(() => Promise.reject(aborted), challenge()))
    expect(err).toBeInstanceOf(ProtocolError)
    expect((err as ProtocolError).message).toBe('onAuth failed: This operation was aborted')
    expect((err as ProtocolError).cause).toBe(aborted)
    const thrown = await failure(
      askHook(() => {
        throw 'no token'
      }, challenge()),
    )
    expect((thrown as ProtocolError).message).toBe('onAuth failed: no token')
  })
})
