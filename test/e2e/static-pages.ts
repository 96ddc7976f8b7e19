import { fileURLToPath } from 'node:url'
import { serveStatic } from '../support/static-server.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The pages in test/e2e/static/ and the client's builds in dist/ (global-setup built them), from
 * one origin, so that page scripts and the client are all same-origin files; nothing else of the
 * repository is served. `headers` go on every response.
 */
export function serveStaticPages(headers: Record<string, string> = {}): ReturnType<typeof serveStatic> {
  return serveStatic(root, { only: ['dist/', 'test/e2e/static/'], headers })
}

export const staticPage = (base: string, name: 'iife' | 'esm', params: Record<string, string>): string =>
  `${base}test/e2e/static/${name}.html?${new URLSearchParams(params)}`
