import net from 'node:net'

/**
 * A loopback TCP proxy that adds a round-trip time: every chunk waits rttMs / 2 before it is
 * forwarded, in each direction, in the order it came. It works below WebSocket, so a WebSocket URL
 * through it reaches the same broker a link that far away would. Plain JS so the bench (plain Node)
 * and the TypeScript tests share it.
 *
 * The queue each way is bounded: past `maxQueuedBytes` the proxy stops reading from the sender
 * (TCP backpressure) until the queue drains, as a slow link would, rather than hold any amount.
 *
 * @param {{ target: string, rttMs: number, maxQueuedBytes?: number }} options
 *   target: 'ws://127.0.0.1:PORT' (or host:port); rttMs: the added round trip, 0 to pass through;
 *   maxQueuedBytes: per direction per connection, default 8 MiB
 * @returns {Promise<{ url: string, port: number, rttMs: number, readonly open: number, forwarded: { toBroker: number, toClient: number }, close(): Promise<void> }>}
 *   url keeps the target's path; forwarded counts the chunks forwarded each way
 */
export async function startDelayProxy({ target, rttMs, maxQueuedBytes = 8 * 1024 * 1024 }) {
  if (!(rttMs >= 0)) throw new Error(`rttMs must be 0 or more, got ${rttMs}`)
  const to = new URL(/^\w+:\/\//.test(target) ? target : `ws://${target}`)
  const oneWay = rttMs / 2
  const sockets = new Set()
  const forwarded = { toBroker: 0, toClient: 0 }

  const server = net.createServer((client) => {
    const broker = net.connect({ host: to.hostname, port: Number(to.port) })
    const teardown = () => {
      client.destroy()
      broker.destroy()
      sockets.delete(client)
      sockets.delete(broker)
    }
    sockets.add(client)
    sockets.add(broker)
    pipeDelayed(client, broker, oneWay, maxQueuedBytes, () => forwarded.toBroker++)
    pipeDelayed(broker, client, oneWay, maxQueuedBytes, () => forwarded.toClient++)
    for (const socket of [client, broker]) {
      socket.setNoDelay(true)
      socket.on('error', teardown)
      socket.on('close', teardown)
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = /** @type {net.AddressInfo} */ (server.address())
  const path = to.pathname === '/' ? '' : to.pathname
  return {
    url: `${to.protocol}//127.0.0.1:${port}${path}`,
    port,
    rttMs,
    get open() {
      return sockets.size / 2
    },
    forwarded,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        sockets.clear()
        server.close(() => resolve(undefined))
      }),
  }
}

/**
 * Forwards `from`'s chunks to `to`, each `delayMs` after it arrived, in arrival order: one timer
 * at a time, for the queue's head, so order never rests on timers firing in order.
 */
function pipeDelayed(from, to, delayMs, maxQueuedBytes, counted) {
  if (delayMs === 0) {
    from.on('data', (chunk) => {
      counted()
      if (!to.write(chunk)) from.pause()
    })
    to.on('drain', () => from.resume())
    return
  }
  const queue = []
  let queuedBytes = 0
  let timer
  // Bytes the receiver has not taken yet count against the bound as well as the queued ones.
  const resumeIfRoom = () => {
    if (queuedBytes + to.writableLength < maxQueuedBytes) from.resume()
  }
  to.on('drain', resumeIfRoom)
  const flush = () => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift()
      queuedBytes -= chunk.length
      counted()
      if (!to.destroyed) to.write(chunk)
    }
    resumeIfRoom()
    if (queue.length > 0) timer = setTimeout(flush, queue[0].due - now)
  }
  from.on('data', (chunk) => {
    queue.push({ chunk, due: performance.now() + delayMs })
    queuedBytes += chunk.length
    if (queuedBytes + to.writableLength >= maxQueuedBytes) from.pause()
    timer ??= setTimeout(flush, delayMs)
  })
  from.on('close', () => clearTimeout(timer))
}
