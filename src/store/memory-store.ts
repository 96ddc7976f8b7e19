import type { Store, StoredMessage } from './store.js'

/** The default store: messages live as long as the page or process does. */
export class MemoryStore implements Store {
  private readonly messages = new Map<number, StoredMessage>()

  async load(): Promise<StoredMessage[]> {
    return [...this.messages.values()].sort((a, b) => a.key - b.key)
  }

  async put(message: StoredMessage): Promise<void> {
    this.messages.set(message.key, message)
  }

  async delete(key: number): Promise<void> {
    this.messages.delete(key)
  }

  async close(): Promise<void> {}
}
