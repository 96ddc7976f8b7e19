import { fileURLToPath } from 'node:url'
import type { UserConfig } from 'vite'
import { defineConfig } from 'vitest/config'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/**
 * `vite build` writes the ESM and CJS builds; `vite build --mode iife` writes the minified
 * script-tag build. Each has everything inside: the package has no runtime dependency for the
 * consumer to resolve.
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
