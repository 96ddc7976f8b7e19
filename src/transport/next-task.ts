/**
 * Runs a callback in a task of its own, after the events already waiting have been handled.
 *
 * The transport flushes its writes here rather than in a microtask: a browser delivers each
 * incoming WebSocket frame in a task of its own, so a microtask flush sends one frame per
 * acknowledgement, and per-frame cost is what limits browsers. One task later, every frame that
 * had already arrived has been read, and all their acknowledgements leave in one frame.
 *
 * Node: setImmediate, which runs once the sockets' pending reads are done. Browsers: a
 * MessageChannel message, which unlike setTimeout is neither clamped nor throttled in background
 * tabs. Elsewhere: setTimeout.
 */
export function nextTask(callback: () => void): void {
  scheduler(callback)
}

type Scheduler = (callback: () => void) => void

const scheduler: Scheduler = pickScheduler()

function pickScheduler(): Scheduler {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown; MessageChannel?: typeof MessageChannel }
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate
    return (callback) => void setImmediate(callback)
  }
  if (typeof g.MessageChannel === 'function') return channelScheduler(new g.MessageChannel())
  return (callback) => void setTimeout(callback, 0)
}

/** One channel for every caller; callbacks run in the order they were scheduled. */
function channelScheduler(channel: MessageChannel): Scheduler {
  let queue: Array<() => void> = []
  channel.port1.onmessage = () => {
    const due = queue
    queue = []
    for (const callback of due) callback()
  }
  return (callback) => {
    queue.push(callback)
    if (queue.length === 1) channel.port2.postMessage(undefined)
  }
}
