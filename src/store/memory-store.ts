import type { Store, StoredMessage } from './store.js'

type Kept = Omit<StoredMessage, 'key'>

/**
 * Messages live as long as the page or process does. It is the default store, but a client
 * given none keeps nothing in it: only its own queue, which holds every message until it is
 * settled, could read it. Given explicitly, it keeps each message, for code that reads the store
 * or hands it to a later client.
 */
export class MemoryStore implements Store {
  private readonly messages = new Map<number, Kept>()

  async load(): Promise<StoredMessage[]> {
    return [...this.messages].sort(([a], [b]) => a - b).map(([key, kept]) => storedAs(key, kept))
  }

  async put(message: StoredMessage): Promise<void> {
    this.messages.set(message.key, message)
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
