// @ts-check
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'

/** @type {Record<string, string>} */
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' }

/**
 * Serves a folder's files on 127.0.0.1, as the simplest web server a plain page could be put on.
 * `only` lists the paths under the folder it may serve (folders end in '/'): the bench serves its
 * page and the clients' builds from the repository's root, and nothing else there. `headers` go
 * on every file served (the CSP tests send a Content-Security-Policy).
 *
 * @param {string} root
 * @param {{ only?: string[], headers?: Record<string, string> }} [options]
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function serveStatic(root, options = {}) {
  const base = path.resolve(root)
  const server = http.createServer(async (req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = path.join(base, name === '/' ? 'index.html' : name)
    const relative = path.relative(base, file)
    if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) return void res.writeHead(403).end()
    const wanted = relative.split(path.sep).join('/')
    if (options.only && !options.only.some((allowed) => wanted.startsWith(allowed))) return void res.writeHead(404).end()
    try {
      const body = await readFile(file)
      res.writeHead(200, { ...options.headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body)
    } catch {
      res.writeHead(404).end()
    }
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
