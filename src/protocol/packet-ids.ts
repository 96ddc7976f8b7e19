/**
 * Allocates MQTT packet identifiers (1..65535) for packets awaiting an acknowledgement.
 * Ids are handed out in rising order and wrap, skipping the ones still in use, so that a
 * just-released id is not reused at once (which would confuse a late duplicate ack).
 */
export class PacketIdAllocator {
  private readonly inUse = new Set<number>()
  private next = 1

  constructor(private readonly max = 65_535) {}

  /** A free id, or undefined when every id is in use. */
  allocate(): number | undefined {
    if (this.inUse.size >= this.max) return undefined
    while (this.inUse.has(this.next)) this.advance()
    const id = this.next
    this.inUse.add(id)
    this.advance()
    return id
  }

  release(id: number): void {
    this.inUse.delete(id)
  }

  has(id: number): boolean {
    return this.inUse.has(id)
  }

  get size(): number {
    return this.inUse.size
  }

  clear(): void {
    this.inUse.clear()
  }

  private advance(): void {
    this.next = this.next >= this.max ? 1 : this.next + 1
  }
}
