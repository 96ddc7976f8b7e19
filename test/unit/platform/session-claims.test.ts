import { afterEach, describe, expect, it, vi } from 'vitest'
import { type SessionClaims, watchSessionClaims } from '../../../src/platform/session-claims.js'

const watchers: SessionClaims[] = []
function watcher(takenOver: () => void): SessionClaims {
  const w = watchSessionClaims(takenOver)
  watchers.push(w)
  return w
}
afterEach(() => {
  for (const w of watchers.splice(0)) w.stop()
  vi.unstubAllGlobals()
})

/** BroadcastChannel delivers on a later task. */
const delivered = () => new Promise((resolve) => setTimeout(resolve, 50))

describe('session claims between clients of one browser (BroadcastChannel)', () => {
  it('tells the client holding a session when another claims the same one, and only that client', async () => {
    const first = vi.fn()
    const other = vi.fn()
    const second = vi.fn()
    watcher(first).claim('ws://b:1 same-id')
    watcher(other).claim('ws://b:1 other-id')
    await delivered()
    watcher(second).claim('ws://b:1 same-id')
    await delivered()
    expect(first).toHaveBeenCalledTimes(1)
    expect(other).not.toHaveBeenCalled()
    expect(second).not.toHaveBeenCalled()
  })

  it('does not count the same id on another broker as the same session', async () => {
    const first = vi.fn()
    watcher(first).claim('ws://b:1 id')
    watcher(vi.fn()).claim('ws://b:2 id')
    await delivered()
    expect(first).not.toHaveBeenCalled()
  })

  it('hears nothing of its own claims, as when it reconnects itself, nor anything after stop()', async () => {
    const first = vi.fn()
    const w = watcher(first)
    w.claim('ws://b:1 id')
    w.claim('ws://b:1 id')
    await delivered()
    w.stop()
    watcher(vi.fn()).claim('ws://b:1 id')
    await delivered()
    expect(first).not.toHaveBeenCalled()
  })

  it('is told once, not again by further claims, as it has stopped holding the session', async () => {
    const first = vi.fn()
    watcher(first).claim('ws://b:1 id')
    const second = watcher(vi.fn())
    second.claim('ws://b:1 id')
    second.claim('ws://b:1 id')
    await delivered()
    expect(first).toHaveBeenCalledTimes(1)
  })

  it('does nothing where there is no BroadcastChannel', () => {
    vi.stubGlobal('BroadcastChannel', undefined)
    const w = watcher(vi.fn())
    expect(() => w.claim('ws://b:1 id')).not.toThrow()
    expect(() => w.stop()).not.toThrow()
  })
})

describe('session claims that cross on their way', () => {
  it('does not yield to a claim taken before its own: the older claimant hears the newer claim and stops, so one keeps the session', async () => {
    const now = vi.spyOn(performance, 'now')
    const reconnected = vi.fn()
    const overtaken = vi.fn()
    // The client that reconnected claims at 2000; the other's claim of 1000 was still on its way.
    now.mockReturnValue(2000)
    const first = watcher(reconnected)
    first.claim('ws://b:1 id')
    now.mockReturnValue(1000)
    watcher(overtaken).claim('ws://b:1 id')
    await delivered()
    expect(reconnected).not.toHaveBeenCalled()
    now.mockReturnValue(3000)
    first.claim('ws://b:1 id')
    await delivered()
    expect(overtaken).toHaveBeenCalledTimes(1)
    expect(reconnected).not.toHaveBeenCalled()
    now.mockRestore()
  })

  it('ignores what is no claim', async () => {
    const first = vi.fn()
    watcher(first).claim('ws://b:1 id')
    const other = new BroadcastChannel('ts-mqtt-ws/sessions')
    other.postMessage(['ws://b:1 id'])
    other.postMessage(['ws://b:1 id', 'later'])
    other.postMessage(7)
    other.postMessage('ws://b:1 id')
    await delivered()
    other.close()
    expect(first).not.toHaveBeenCalled()
  })
})
