import { fileURLToPath } from 'node:url'
import type { Plugin, UserConfig } from 'vite'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * How the bundled codec resolves mqtt-packet's own dependencies: `bl` as its BufferList alone
 * (the package's main pulls in readable-stream), and `debug` / `process-nextick-args` as small
 * stand-ins that need no Node globals. Shared with the demo's config.
 */
export const codecAliases = {
  bl: here('node_modules/bl/BufferList.js'),
  debug: here('src/codec/shims/debug.cjs'),
  'process-nextick-args': here('src/codec/shims/next-tick.ts'),
}

function isCodecModule(importer: string | undefined): boolean {
  return importer !== undefined && /[\\/]node_modules[\\/](mqtt-packet|bl)[\\/]/.test(importer)
}

/**
 * Points the `require('buffer')` and `require('events')` inside mqtt-packet and bl at our small
 * modules: Buffer becomes ours (Node's own when present), and EventEmitter the little one the
 * codec needs, so no build carries the `events` package.
 * `buffer` can be overridden, so that a test can force the browser's MiniBuffer under Node.
 */
export function codecShims(shims: { buffer?: string } = {}): Plugin {
  const targets: Record<string, string> = {
    buffer: shims.buffer ?? here('src/codec/shims/buffer.ts'),
    events: here('src/codec/shims/events.ts'),
  }
  return {
    name: 'ts-mqtt-ws:codec-shims',
    enforce: 'pre',
    resolveId(id, importer) {
      const target = targets[id]
      return target && isCodecModule(importer) ? target : null
    },
  }
}

/**
 * `vite build` writes the ESM and CJS builds; `vite build --mode iife` writes the minified
 * script-tag build. Each has everything inside but mqtt-packet's own dependencies, which the
 * codec shims replace: none is left for the consumer to resolve.
 */
function build(mode: string): UserConfig['build'] {
  const iife = mode === 'iife'
  return {
    emptyOutDir: !iife,
    sourcemap: true,
    // BENCH_NO_MINIFY=1 keeps the names readable in a Chromium profile of the bench page.
    minify: iife && !process.env.BENCH_NO_MINIFY,
    lib: {
      entry: here('src/index.ts'),
      name: 'TsMqttWs',
      formats: iife ? ['iife'] : ['es', 'cjs'],
      fileName: (format) => (format === 'es' ? 'ts-mqtt-ws.js' : format === 'cjs' ? 'ts-mqtt-ws.cjs' : 'ts-mqtt-ws.iife.js'),
    },
  }
}

export default defineConfig(({ mode }) => ({
  plugins: [codecShims()],
  resolve: { alias: codecAliases },
  build: build(mode),
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
          // Each file starts its own brokers on free ports; two cores, so keep it modest.
          maxWorkers: 2,
        },
      },
    ],
  },
}))
