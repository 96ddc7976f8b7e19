import { fileURLToPath } from 'node:url'
import type { Plugin, UserConfig } from 'vite'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * `vite build` writes the ESM and CJS builds; `vite build --mode iife` writes the minified
 * script-tag build, and `--mode shared-iife` the one with connectShared (ts-mqtt-ws.shared.iife.js); `vite build --mode worker` the shared connections' SharedWorker, apart, so
 * that none of it lands in a bundle that does not share: dist/shared-worker.js beside the ESM
 * build that names it, and the classic dist/ts-mqtt-ws.shared-worker.js for script-tag pages.
 * Each has everything inside: the package has no runtime dependency for the consumer to resolve.
 */
function build(mode: string): UserConfig['build'] {
  const iife = mode === 'iife' || mode === 'shared-iife'
  if (mode === 'worker') return workerBuild()
  return {
    emptyOutDir: !iife,
    sourcemap: true,
    // BENCH_NO_MINIFY=1 keeps the names readable in a Chromium profile of the bench page.
    minify: iife && !process.env.BENCH_NO_MINIFY,
    lib: {
      // The plain script-tag build leaves connectShared out (core.ts): a quarter of MQTT.js's size is its budget.
      entry: here(mode === 'iife' ? 'src/core.ts' : mode === 'shared-iife' ? 'src/shared/script-tag.ts' : 'src/index.ts'),
      name: 'TsMqttWs',
      formats: iife ? ['iife'] : ['es', 'cjs'],
      fileName: (format) =>
        format === 'es' ? 'ts-mqtt-ws.js' : format === 'cjs' ? 'ts-mqtt-ws.cjs' : mode === 'shared-iife' ? 'ts-mqtt-ws.shared.iife.js' : 'ts-mqtt-ws.iife.js',
    },
  }
}

function workerBuild(): UserConfig['build'] {
  return {
    emptyOutDir: false,
    sourcemap: true,
    minify: true,
    lib: {
      entry: here('src/shared/shared-worker.ts'),
      name: 'TsMqttWsSharedWorker',
      formats: ['es', 'iife'],
      fileName: (format) => (format === 'es' ? 'shared-worker.js' : 'ts-mqtt-ws.shared-worker.js'),
    },
  }
}

/** How worker-link.ts names the worker, for the app's bundler to find in dist/ts-mqtt-ws.js. */
const WORKER_URL = "new URL('./shared-worker.js', import.meta.url)"
/** import.meta.url's stand-in while we build: of its length, so the source maps stay true. */
const STAND_IN = '__tsMqttWsUrl__'

/**
 * Keeps worker-link.ts's `new SharedWorker(new URL('./shared-worker.js', import.meta.url), ...)`
 * as written in the ESM build, for Vite and webpack 5 in the app to emit the worker from: our
 * own build would otherwise bundle the worker into the library, as it does an app's. So
 * import.meta.url is hidden from Vite while we build and put back in the ES output. The CommonJS
 * and script-tag outputs cannot hold import.meta; there it is the page's address (those callers
 * give the worker's URL).
 */
function keepWorkerUrl(): Plugin {
  if (STAND_IN.length !== 'import.meta.url'.length) throw new Error('the stand-in must keep columns')
  return {
    name: 'ts-mqtt-ws:keep-worker-url',
    apply: 'build',
    enforce: 'pre',
    transform(code, id) {
      if (!id.endsWith('/src/shared/worker-link.ts')) return null
      if (!code.includes(WORKER_URL)) throw new Error(`worker-link.ts no longer holds ${WORKER_URL}`)
      return { code: code.replace(WORKER_URL, WORKER_URL.replace('import.meta.url', STAND_IN)), map: null }
    },
    renderChunk(code, _chunk, output) {
      if (!code.includes(STAND_IN)) return null
      return { code: code.replaceAll(STAND_IN, output.format === 'es' ? 'import.meta.url' : '(location.href)'), map: null }
    },
  }
}

export default defineConfig(({ mode }) => ({
  build: build(mode),
  plugins: [keepWorkerUrl()],
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
          globalSetup: ['test/integration/global-setup.ts'],
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
