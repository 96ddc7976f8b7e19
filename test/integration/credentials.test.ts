import WebSocket from 'ws'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connectAsync, ConnectionRefusedError, type MqttClient, TransportError } from '../../src/index.js'
import { startAedesBroker } from '../support/aedes-broker.js'
import { rejection } from '../support/expect-error.js'
import { freePort } from '../support/free-port.js'
import { waitUntil } from '../support/wait.js'

/**
 * Credentials that change between connections, over real WebSockets to aedes: a broker that
 * takes each token, and each URL signature, once only. The client gets a fresh signed URL from
 * its url function and a fresh token from its credentials hook for every connection, so it comes
 * back after each drop; a token used twice is refused.
 */
let broker: Awaited<ReturnType<typeof startAedesBroker>>
/** What the broker saw of each CONNECT: the WebSocket request's path and query, and the credentials. */
let seen: Array<{ path: string; username: string | undefined; token: string | undefined }>
const clients: MqttClient[] = []

beforeEach(async () => {
  broker = await startAedesBroker({ port: 0 })
  seen = []
  const usedTokens = new Set<string>()
  const usedSignatures = new Set<string>()
  type AedesClient = { req?: { url?: string } }
  type Done = (error: (Error & { returnCode?: number }) | null, ok: boolean) => void
  broker.aedes.authenticate = ((client: AedesClient, username: string | undefined, password: Buffer | undefined, done: Done) => {
    const path = client.req?.url ?? ''
    const token = password?.toString()
    seen.push({ path, username, token })
    const signature = new URL(path, 'ws://broker').searchParams.get('X-Amz-Signature') ?? ''
    const fresh = token !== undefined && !usedTokens.has(token) && signature !== '' && !usedSignatures.has(signature)
    if (token !== undefined) usedTokens.add(token)
    if (signature !== '') usedSignatures.add(signature)
    if (fresh) return done(null, true)
    // CONNACK 5, not authorized: what a broker answers an expired or replayed token.
    done(Object.assign(new Error('token or signature used before'), { returnCode: 5 }), false)
  }) as unknown as typeof broker.aedes.authenticate
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end({ force: true })))
  await broker.close()
})

/** A URL signed afresh for each call, as an AWS IoT SigV4 presigned URL is. */
function signer(base: string): { url: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = []
  let signed = 0
  const url = async (attempt: number) => {
    attempts.push(attempt)
    signed++
    return `${base}/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261202T0${signed}&X-Amz-Signature=sig-${signed}`
  }
  return { url, attempts }
}

describe('credentials that change between connections', () => {
  it('reconnects three times, each with a fresh signed URL and a fresh token, against a broker that takes each once', async () => {
    const { url, attempts } = signer(broker.url)
    let issued = 0
    const client = await connectAsync(url, {
      WebSocket,
      clientId: 'fresh-token-client',
      reconnect: { minDelay: 10, maxDelay: 20 },
      credentials: async () => ({ username: 'device', password: `jwt-${++issued}` }),
    })
    clients.push(client)
    let connects = 1
    client.on('connect', () => connects++)
    for (let drop = 1; drop <= 3; drop++) {
      const aedesClient = (broker.aedes as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients['fresh-token-client']
      expect(aedesClient).toBeDefined()
      aedesClient?.conn.destroy()
      await waitUntil(() => connects === drop + 1 && client.connected, 10_000)
    }
    expect(seen).toEqual([1, 2, 3, 4].map((n) => ({ path: `/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261202T0${n}&X-Amz-Signature=sig-${n}`, username: 'device', token: `jwt-${n}` })))
    // Each drop came after an accepted connection: its one try is number 1.
    expect(attempts).toEqual([0, 1, 1, 1])
    // The client still works on its fourth connection.
    await client.subscribe('fresh/t', { qos: 1 })
    await client.publish('fresh/t', 'still here', { qos: 1 })
  })

  it('is refused when it gives a token the broker took before, as a replay would be', async () => {
    const { url } = signer(broker.url)
    const first = await connectAsync(url, { WebSocket, reconnect: false, credentials: () => ({ username: 'device', password: 'jwt-once' }) })
    clients.push(first)
    const error = await rejection(connectAsync(url, { WebSocket, reconnect: false, credentials: () => ({ username: 'device', password: 'jwt-once' }) }), ConnectionRefusedError)
    expect(error.returnCode).toBe(5)
    expect(seen.map((s) => s.token)).toEqual(['jwt-once', 'jwt-once'])
  })
})

describe('a URL with a query in a TransportError', () => {
  it('shows the broker but nothing of the query, from a url function or a string', async () => {
    const port = await freePort()
    const signed = `ws://127.0.0.1:${port}/mqtt?X-Amz-Signature=4f1c9e0b7d2a&token=eyJhbGciOiJIUzI1NiJ9.secret`
    for (const url of [signed, () => signed]) {
      const error = await rejection(connectAsync(url, { WebSocket, reconnect: false }), TransportError)
      expect(error.message).toContain(`127.0.0.1:${port}`)
      expect(error.message).not.toMatch(/X-Amz-Signature|4f1c9e0b7d2a|token|eyJhbGciOiJIUzI1NiJ9/)
      expect(JSON.stringify({ message: error.message, cause: String(error.cause), stack: error.stack })).not.toMatch(/4f1c9e0b7d2a|eyJhbGciOiJIUzI1NiJ9/)
    }
  })
})
