/** A page's share of the locks: what it holds, and whether it is gone. */
interface FakePage {
  dead: boolean
  readonly held: Set<() => void>
}

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

  request(name: string, callback: (lock: { name: string }) => unknown, page?: FakePage): Promise<unknown> {
    this.asked.push(name)
    if (this.refuse.has(name)) return Promise.reject(new DOMException('no locks here', 'SecurityError'))
    return new Promise((resolve, reject) => {
      let done = false
      // Once: the callback settling and its page dying both let the lock go.
      const letGo = () => {
        if (done) return
        done = true
        page?.held.delete(letGo)
        this.next(name)
      }
      const run = () => {
        // A dead page's waiting request is dropped, as a browser drops a closed page's.
        if (page?.dead) return letGo()
        page?.held.add(letGo)
        Promise.resolve()
          .then(() => callback({ name }))
          .then(resolve, reject)
          .finally(letGo)
      }
      const queue = this.queues.get(name)
      if (queue) queue.push(run)
      else {
        this.queues.set(name, [])
        run()
      }
    })
  }

  /**
   * The locks of one page: its requests, and kill(), its page gone without a word: every lock
   * it holds passes on and its waiting requests are dropped, whatever its callbacks are doing.
   */
  page(): { request(name: string, callback: (lock: { name: string }) => unknown): Promise<unknown>; kill(): void } {
    const page: FakePage = { dead: false, held: new Set() }
    return {
      request: (name, callback) => this.request(name, callback, page),
      kill: () => {
        page.dead = true
        for (const letGo of [...page.held]) letGo()
      },
    }
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
