// Mutation testing of the pure layers against the unit tests: `npm run mutate`.
// Not part of CI (too slow for every push); `npm run mutate -- --incremental` re-tests only what changed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'src/protocol/**/*.ts',
    'src/routing/**/*.ts',
    'src/codec/**/*.ts',
    'src/input/**/*.ts',
    'src/wildcards.ts',
    '!src/**/*.d.ts',
  ],
  // Other runs' sandboxes and reports are not part of the project.
  ignorePatterns: ['/.stryker-tmp*', '/reports', '/test-results', '/dist'],
  coverageAnalysis: 'perTest',
  checkers: [],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 2,
  thresholds: { high: 90, low: 85, break: null },
}
