import { describe, expect, it } from 'vitest'
import type { Store, StoredMessage } from '../../../src/index.js'
import { SharedHost } from '../../../src/shared/host.js'
import { leaderStore } from '../../../src/shared/leader-store.js'
import { tabLockName, WIRE_VERSION } from '../../../src/shared/wire.js'
import { FakeHostedClient, FakeTab } from './fakes.js'

/** A store that keeps whatever it is given, extra fields too, as IndexedDB does. */
class KeepAll implements Store {
  readonly kept = new Map<number, StoredMessage>()
  async load() {
    return [...this.kept.values()].sort((a, b) => a.key - b.key)
  }
  async put(message: StoredMessage) {
    this.kept.set(message.key, message)
  }
  async delete(key: number) {
    this.kept.delete(key)
  }
  async close() {}
}

const message = (key: number): StoredMessage => ({ key, topic: 't', payload: String(key), qos: 1, retain: false })

describe("the leader's store: each message noted with its tab; a takeover leaves live tabs' messages to them", () => {
  it('notes the tab whose publish the host was handing its client when the client stored the message', async () => {
    const base = new KeepAll()
    const store = leaderStore(base, undefined)
    const host = new SharedHost((url, options) => {
      const client = new FakeHostedClient(url, options)
      // As MqttClient does: the accepted QoS 1 message is stored during publish().
      client.publish = (topic, payload) => {
        void store.put({ key: 1, topic, payload: payload as string, qos: 1, retain: false })
        return new Promise(() => {})
      }
      return client
    })
    host.addTab('A', new FakeTab())
    host.receive('A', { type: 'hello', wire: WIRE_VERSION, tab: 'A', key: 'k', url: 'ws://b', options: {} })
    host.receive('A', { type: 'publish', id: 1, topic: 't', payload: 'x', options: { qos: 1 } })
    await store.put(message(2))
    expect(base.kept.get(1)).toMatchObject({ tab: 'A' })
    expect(base.kept.get(2)).not.toHaveProperty('tab')
  })

  it("hands back at load only the messages of tabs gone (and those noted with none), deleting the live tabs' ones", async () => {
    const base = new KeepAll()
    await base.put({ ...message(1), tab: 'live' } as StoredMessage)
    await base.put({ ...message(2), tab: 'gone' } as StoredMessage)
    await base.put(message(3))
    const locks = { query: async () => ({ held: [{ name: tabLockName('live') }, { name: 'other' }] }) }
    const loaded = await leaderStore(base, locks).load()
    expect(loaded.map((m) => m.key)).toEqual([2, 3])
    expect([...base.kept.keys()]).toEqual([2, 3])
  })

  it('hands back everything where the page cannot tell which locks are held', async () => {
    const base = new KeepAll()
    await base.put({ ...message(1), tab: 'live' } as StoredMessage)
    expect((await leaderStore(base, {}).load()).map((m) => m.key)).toEqual([1])
    const failing = { query: () => Promise.reject(new Error('no')) }
    expect((await leaderStore(base, failing).load()).map((m) => m.key)).toEqual([1])
  })
})
