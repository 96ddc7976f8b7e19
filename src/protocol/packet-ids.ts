/**
 * What is in flight under each MQTT packet identifier (1..65535): one table says both which ids
 * are taken and what each one carries. Ids are handed out in rising order and wrap, skipping the
 * ones still taken, so a just-freed id is not reused at once (which would confuse a late duplicate
 * ack). The table keeps allocation order, the order in which messages must be sent again.
 */
export class InFlight<T> {
  private readonly byId = new Map<number, T>()
  private next = 1

  constructor(private readonly max = 65_535) {}

  get size(): number {
    return this.byId.size
  }

  /** Every id is taken. */
  get full(): boolean {
    return this.byId.size >= this.max
  }

  /** Puts `item` in flight under a free id, or returns undefined when every id is taken. */
  add(item: T): number | undefined {
    if (this.byId.size >= this.max) return undefined
    while (this.byId.has(this.next)) this.advance()
    const id = this.next
    this.byId.set(id, item)
    this.advance()
    return id
  }

  get(id: number): T | undefined {
    return this.byId.get(id)
  }

  /** Takes the item under `id` out of flight, freeing the id. */
  delete(id: number): void {
    this.byId.delete(id)
  }

  /** Oldest first. */
  entries(): IterableIterator<[number, T]> {
    return this.byId.entries()
  }

  /** Frees every id; the next one handed out still follows the last. */
  clear(): void {
    this.byId.clear()
  }

  private advance(): void {
    this.next = this.next >= this.max ? 1 : this.next + 1
  }
}
