import { createRequire } from 'node:module'
import path from 'node:path'
import aedesPersistenceLevel from 'aedes-persistence-level'
import aedesPersistenceRedis from 'aedes-persistence-redis'
import { Level } from 'level'

// ioredis is the client aedes-persistence-redis is built on, so it is taken from that package's own
// dependencies rather than declared a second time beside it.
const Redis = createRequire(import.meta.resolve('aedes-persistence-redis'))('ioredis')

/** How long Redis has to answer before the broker gives up starting: a few seconds, never forever. */
const REDIS_CONNECT_TIMEOUT_MS = 3000

/**
 * @typedef {{ level: string } | { redis: string }} PersistenceChoice
 * Where the broker keeps sessions, queued messages and retained messages: a LevelDB folder
 * (embedded, no server) or a running Redis. None means memory, forgotten when the broker closes.
 */

/**
 * Opens the store a persistence choice names, ready to hand to aedes. It fails rather than waits:
 * a folder another broker holds open (LevelDB's LOCK), or a Redis nobody answers at, rejects
 * within a few seconds with a message that says which.
 *
 * @param {PersistenceChoice | undefined} choice
 * @param {((line: string) => void) | undefined} log
 * @returns {Promise<{ persistence: any, storage: string, close(): Promise<void> }>}
 */
export async function openPersistence(choice, log) {
  if (!choice) return { persistence: undefined, storage: 'memory (forgotten when the broker stops)', close: async () => undefined }
  if ('level' in choice) return openLevel(choice.level)
  if ('redis' in choice) return openRedis(choice.redis, log)
  throw new Error('persistence must be { level: dir } or { redis: url }')
}

async function openLevel(dir) {
  const location = path.resolve(dir)
  const db = new Level(location)
  try {
    await db.open()
  } catch (err) {
    throw new Error(`cannot open ${location}: ${whyLevelFailed(err)}`, { cause: err })
  }
  const persistence = aedesPersistenceLevel(db)
  return { persistence, storage: `LevelDB in ${location}`, close: () => persistence.destroy() }
}

function whyLevelFailed(err) {
  const cause = err.cause ?? err
  if (cause.code === 'LEVEL_LOCKED') return 'another broker has it open (LevelDB holds a LOCK on it); stop that one or choose another folder'
  return cause.message
}

async function openRedis(url, log) {
  const shown = redisUrlToShow(url)
  let connected = false
  let failure
  const conn = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    // No retries until the first connection: an absent Redis fails the start instead of stalling it.
    // Once connected, a dropped connection is retried as ioredis usually does.
    retryStrategy: (times) => (connected ? Math.min(times * 200, 2000) : null),
  })
  conn.on('error', (err) => {
    if (connected) log?.(`Redis at ${shown}: ${err.message}`)
    else failure = err
  })
  try {
    await conn.connect()
  } catch (err) {
    conn.disconnect()
    // connect() rejects with "Connection is closed"; the socket's own error says why.
    throw new Error(`cannot reach Redis at ${shown}: is redis-server running?`, { cause: failure ?? err })
  }
  connected = true
  const persistence = aedesPersistenceRedis({ conn })
  const close = async () => {
    // destroy() fails if aedes never finished its setup; the connection must close all the same.
    await persistence.destroy().catch(() => undefined)
    conn.disconnect()
  }
  return { persistence, storage: `Redis at ${shown}`, close }
}

/**
 * The URL as it may be printed, once it is known to be a Redis URL: a password in it stays out of
 * logs and error messages.
 */
function redisUrlToShow(url) {
  const u = URL.canParse(url) ? new URL(url) : undefined
  if (u?.protocol !== 'redis:' && u?.protocol !== 'rediss:') {
    throw new Error(`not a Redis URL: ${u ? u.protocol : 'unreadable'} (expected redis://host:port)`)
  }
  u.username = ''
  u.password = ''
  return u.href.replace(/\/$/, '')
}
