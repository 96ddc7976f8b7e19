import { defineConfig } from 'vitest/config'

// One config for the library build and for the Node test projects.
// Browser end-to-end tests run under Playwright (playwright.config.ts), not here.
export default defineConfig({
  build: {
    lib: {
      entry: 'src/index.ts',
      name: 'TsMqttWs',
      fileName: 'ts-mqtt-ws',
      formats: ['es', 'cjs'],
    },
    sourcemap: true,
  },
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
          hookTimeout: 30_000,
          // Each file starts its own brokers on free ports; two cores, so keep it modest.
          maxWorkers: 2,
        },
      },
    ],
  },
})
