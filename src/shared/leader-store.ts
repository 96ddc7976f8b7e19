/**
 * The leader's store: where every leader of a key keeps the QoS 1/2 messages its client accepted
 * until acknowledged, so the next leader sends what the last one left. Each message is noted with
 * the tab it came from. At a takeover, a tab still alive sends again everything it was not
 * answered, so its messages are left to it and dropped from the store; only those of tabs that
 * are gone (the last leader's own among them) are the store's to send. Without this every
 * message queued at the handover would go out twice.
 */
import type { Store, StoredMessage } from '../store/store.js'
import { publishingTab } from './host.js'
import type { TabId } from './wire.js'
import { tabLockName } from './wire.js'

/** A stored message, with the tab that published it when a host handed it over. */
type Noted = StoredMessage & { tab?: TabId }

/** What the store needs of the Web Locks: which are held now (the live tabs hold theirs). */
export interface HeldLocks {
  query?(): Promise<{ held?: Array<{ name?: string }> }>
}

/** Wraps the key's store: puts note the publishing tab; a load leaves out (and deletes) the messages of live tabs. */
export function leaderStore(store: Store, locks: HeldLocks | undefined): Store {
  return {
    put(message) {
      const tab = publishingTab()
      const noted: Noted = tab === undefined ? message : { ...message, tab }
      return store.put(noted)
    },
    async load() {
      const [stored, live] = await Promise.all([store.load(), liveLocks(locks)])
      const mine = (message: Noted) => message.tab !== undefined && live.has(tabLockName(message.tab))
      // The live tabs send these again themselves, under new keys: kept, they would go out twice now and again at the next takeover.
      await Promise.all(stored.filter(mine).map((message) => store.delete(message.key)))
      return stored.filter((message) => !mine(message))
    },
    delete: (key) => store.delete(key),
    close: () => store.close(),
  }
}

/** The names of the locks held now, or none where the page cannot tell. */
async function liveLocks(locks: HeldLocks | undefined): Promise<Set<string>> {
  try {
    const { held = [] } = (await locks?.query?.()) ?? {}
    return new Set(held.map((lock) => lock.name ?? ''))
  } catch {
    return new Set()
  }
}
