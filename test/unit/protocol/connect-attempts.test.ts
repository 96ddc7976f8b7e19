import { describe, expect, it } from 'vitest'
import type { ConnectPacket } from '../../../src/codec/packets.js'
import { TransportError } from '../../../src/errors.js'
import { type Action, Protocol, type ProtocolOptions } from '../../../src/protocol/protocol.js'
import { ReconnectPlan } from '../../../src/protocol/reconnect.js'
import { RECONNECT, testProtocol } from './test-protocol.js'

/**
 * What the protocol says about each connection attempt for the client's url function and
 * credentials hook: the attempt's number in its open action, no URL where the function picks
 * each, and the CONNECT carrying the credentials given with the socket's opening.
 */
type Actions = Array<Action<number>>
const protocol = (overrides: Partial<ProtocolOptions> = {}): Protocol<number> => testProtocol(overrides)

const opens = (actions: Actions) => actions.filter((a) => a.type === 'open')
const connectOf = (actions: Actions) => actions.flatMap((a) => (a.type === 'send' && a.packet.cmd === 'connect' ? [a.packet as ConnectPacket] : []))
const accept = { cmd: 'connack', sessionPresent: false, returnCode: 0 } as const

describe('the number of each connection attempt', () => {
  it('is 0 for the first connection, then counts the tries since the last accepted connection from 1', () => {
    const p = protocol()
    expect(opens(p.open(0))).toEqual([{ type: 'open', url: 'ws://one', attempt: 0 }])
    p.connectionLost(new TransportError('refused'), 0)
    expect(opens(p.tick(1_000))).toEqual([{ type: 'open', url: 'ws://one', attempt: 1 }])
    p.connectionLost(new TransportError('refused'), 1_000)
    expect(opens(p.tick(3_000))).toEqual([{ type: 'open', url: 'ws://one', attempt: 2 }])
    p.connectionOpened(3_000)
    p.packetReceived(accept, 3_000)
    p.connectionLost(undefined, 4_000)
    // Counted afresh after an accepted connection, as client.nextReconnect counts.
    expect(p.nextReconnect(4_000)?.attempt).toBe(1)
    expect(opens(p.tick(8_000))).toEqual([{ type: 'open', url: 'ws://one', attempt: 1 }])
  })

  it("keeps its number for the 3.1.1 socket of a 'auto' fallback, which is the same try", () => {
    const p = protocol({ protocolVersion: 'auto' })
    p.open(0)
    p.connectionOpened(0)
    expect(opens(p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 1 }, 1))).toEqual([{ type: 'open', url: 'ws://one', attempt: 0 }])
  })
})

describe('CONNECT with the credentials of the attempt', () => {
  it("carries the username and password given with the socket's opening, in place of the options'", () => {
    const p = protocol({ username: 'options-user', password: new Uint8Array([1]) })
    p.open(0)
    const password = new TextEncoder().encode('token-1')
    expect(connectOf(p.connectionOpened(0, { username: 'hook-user', password }))).toMatchObject([{ username: 'hook-user', password }])
  })

  it('leaves out what the given credentials leave out, rather than taking it from the options', () => {
    const p = protocol({ protocolVersion: 5, username: 'options-user' })
    p.open(0)
    const [connect] = connectOf(p.connectionOpened(0, { username: undefined, password: new Uint8Array([7]) }))
    expect(connect?.username).toBeUndefined()
    expect(connect?.password).toEqual(new Uint8Array([7]))
  })

  it("carries the options' username and password when none are given", () => {
    const p = protocol({ username: 'options-user', password: new Uint8Array([1]) })
    p.open(0)
    expect(connectOf(p.connectionOpened(0))).toMatchObject([{ username: 'options-user', password: new Uint8Array([1]) }])
  })
})

describe('no server list: the url function picks each', () => {
  it('asks for a socket with no URL, on every try', () => {
    const p = protocol({ servers: [] })
    expect(opens(p.open(0))).toEqual([{ type: 'open', url: undefined, attempt: 0 }])
    p.connectionLost(undefined, 0)
    expect(opens(p.tick(1_000))).toEqual([{ type: 'open', url: undefined, attempt: 1 }])
  })

  it('follows no Server Reference (only the function can sign a URL): the next try waits its backoff', () => {
    const p = protocol({ servers: [], protocolVersion: 5 })
    p.open(0)
    p.connectionOpened(0)
    p.packetReceived({ cmd: 'connack', sessionPresent: false, reasonCode: 0x9c, properties: { serverReference: 'ws://elsewhere/' } }, 1)
    expect(p.nextDeadline()).toBe(1_001)
    expect(opens(p.tick(1_001))).toEqual([{ type: 'open', url: undefined, attempt: 1 }])
  })

  it('is a plan with no server and a backoff as any other', () => {
    const plan = new ReconnectPlan([], RECONNECT)
    plan.redirect('ws://moved/', true)
    expect(plan.server).toBeUndefined()
    expect([plan.next(0), plan.next(0), plan.server]).toEqual([1_000, 2_000, undefined])
  })
})
