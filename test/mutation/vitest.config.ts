import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * The unit tests alone, as Stryker runs them against each mutant (no brokers, no browser).
 * MUTATE_TESTS (comma-separated globs) narrows them, for a quick run over one layer.
 */
const include = process.env.MUTATE_TESTS?.split(',') ?? ['test/unit/**/*.test.ts']

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: { include, environment: 'node' },
})
