/**
 * The leader mode as a page uses it: one election per shared key per page, however many clients
 * of the page use the key, left when the last of them closes; and the link each of them talks
 * to the leader through. The leader's client keeps what it accepted in an IndexedDBStore named
 * from the key, which every leader of the key reads, so the next leader sends what the last one
 * left unacknowledged.
 */
import { connect } from '../client/connect.js'
import { IndexedDBStore } from '../store/indexeddb-store.js'
import { MemoryStore } from '../store/memory-store.js'
import type { Store } from '../store/store.js'
import { type LeaderElection, electLeader } from './leader.js'
import { leaderStore } from './leader-store.js'
import { type LeaderLink, openLeaderLink } from './leader-link.js'

/** This page's elections, by key, with how many of its links use each. */
const elections = new Map<string, { election: LeaderElection; users: number }>()

/** Whether this page can take part in a leader election: Web Locks and BroadcastChannel. */
export function leaderModeAvailable(): boolean {
  return typeof BroadcastChannel === 'function' && pageLocks() !== undefined
}

function pageLocks(): LockManager | undefined {
  return (globalThis.navigator as Navigator | undefined)?.locks ?? undefined
}

/**
 * Opens a tab's link to the leader of `key`, entering this page in the key's election (once per
 * page). Closing the link leaves the election when it was the page's last link for the key: the
 * lock passes to the next page, whose leader resumes the session.
 */
export function openPageLeaderLink(key: string): LeaderLink {
  const leave = joinElection(key)
  const link = openLeaderLink(key)
  let closed = false
  return {
    ...link,
    close() {
      if (closed) return
      closed = true
      link.close()
      leave()
    },
  }
}

function joinElection(key: string): () => void {
  let entry = elections.get(key)
  if (!entry) {
    const locks = pageLocks()
    if (!locks) throw new Error('no Web Locks: see leaderModeAvailable()')
    entry = { election: electLeader(key, { connect, store: leaderStore(keyStore(key), locks), locks }), users: 0 }
    elections.set(key, entry)
  }
  const joined = entry
  joined.users++
  return () => {
    joined.users--
    if (joined.users > 0 || elections.get(key) !== joined) return
    elections.delete(key)
    joined.election.close()
  }
}

/** The store every leader of the key reads: IndexedDB where the page has it. */
function keyStore(key: string): Store {
  return typeof indexedDB === 'object' && indexedDB !== null ? new IndexedDBStore(`shared:${key}`) : new MemoryStore()
}
