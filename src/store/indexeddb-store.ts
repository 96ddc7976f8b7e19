import { InvalidArgumentError } from '../errors.js'
import type { Store, StoredMessage } from './store.js'

const OBJECTS = 'outgoing'

/**
 * A store in the browser's IndexedDB: accepted QoS 1/2 messages outlive a page reload or a crash
 * and go out when the page connects again. Give each client its own `name` (its clientId, say):
 * two pages sharing one store would both send what is in it.
 */
export class IndexedDBStore implements Store {
  private db: Promise<IDBDatabase> | undefined

  /**
   * @param name - the IndexedDB database's name, one per client
   * @throws {@link InvalidArgumentError} for a name that is not a non-empty string
   */
  constructor(private readonly name: string) {
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('IndexedDBStore needs a name')
  }

  async load(): Promise<StoredMessage[]> {
    const all = await this.request<StoredMessage[]>('readonly', (store) => store.getAll())
    return all.sort((a, b) => a.key - b.key)
  }

  async put(message: StoredMessage): Promise<void> {
    await this.request('readwrite', (store) => store.put(message))
  }

  async delete(key: number): Promise<void> {
    await this.request('readwrite', (store) => store.delete(key))
  }

  async close(): Promise<void> {
    const db = this.db
    this.db = undefined
    if (db) (await db).close()
  }

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') return reject(new InvalidArgumentError('IndexedDB is not available here'))
      const request = indexedDB.open(`ts-mqtt-ws:${this.name}`, 1)
      request.onupgradeneeded = () => request.result.createObjectStore(OBJECTS, { keyPath: 'key' })
      request.onsuccess = () => resolve(request.result)
      request.onerror = () => reject(request.error)
    })
    return this.db
  }

  /** One request in its own transaction, resolved when the transaction commits. */
  private async request<T>(mode: IDBTransactionMode, make: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    const db = await this.open()
    return new Promise((resolve, reject) => {
      const tx = db.transaction(OBJECTS, mode)
      const req = make(tx.objectStore(OBJECTS))
      tx.oncomplete = () => resolve(req.result as T)
      tx.onerror = () => reject(tx.error)
      tx.onabort = () => reject(tx.error)
    })
  }
}
