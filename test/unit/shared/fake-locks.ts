/**
 * A Web Locks manager in one process: exclusive locks granted in the order asked, each held
 * until its callback's Promise settles. Enough of navigator.locks for the worker and the link.
 */
export class FakeLocks {
  private readonly queues = new Map<string, Array<() => void>>()
  /** Names whose request failed at once, as an opaque origin's would. */
  readonly refuse = new Set<string>()
  /** Every name asked for, in order. */
  readonly asked: string[] = []

  request(name: string, callback: (lock: { name: string }) => unknown): Promise<unknown> {
    this.asked.push(name)
    if (this.refuse.has(name)) return Promise.reject(new DOMException('no locks here', 'SecurityError'))
    return new Promise((resolve, reject) => {
      const run = () => {
        Promise.resolve()
          .then(() => callback({ name }))
          .then(resolve, reject)
          .finally(() => this.next(name))
      }
      const queue = this.queues.get(name)
      if (queue) queue.push(run)
      else {
        this.queues.set(name, [])
        run()
      }
    })
  }

  /** Whether someone holds `name` now. */
  held(name: string): boolean {
    return this.queues.has(name)
  }

  private next(name: string): void {
    const queue = this.queues.get(name)
    const run = queue?.shift()
    if (run) run()
    else this.queues.delete(name)
  }
}
