import type { Store, StoredMessage } from './store.js'

/** What a message is, without its key: a StoredMessage, or the client's own PUBLISH packet. */
type Kept = Omit<StoredMessage, 'key'>

/** The default store: messages live as long as the page or process does. */
export class MemoryStore implements Store {
  private readonly messages = new Map<number, Kept>()

  async load(): Promise<StoredMessage[]> {
    return [...this.messages].sort(([a], [b]) => a - b).map(([key, kept]) => storedAs(key, kept))
  }

  async put(message: StoredMessage): Promise<void> {
    this.messages.set(message.key, message)
  }

  /**
   * Keeps a message the client already holds, by reference: the client's own queue and this
   * store then share one object per message, where put() would want a copy made first.
   */
  hold(key: number, message: Kept): void {
    this.messages.set(key, message)
  }

  async delete(key: number): Promise<void> {
    this.messages.delete(key)
  }

  async close(): Promise<void> {}
}

function storedAs(key: number, kept: Kept): StoredMessage {
  const message: StoredMessage = { key, topic: kept.topic, payload: kept.payload, qos: kept.qos, retain: kept.retain }
  if (kept.properties) message.properties = kept.properties
  return message
}
