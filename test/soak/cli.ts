import { fileURLToPath } from 'node:url'
import { runSoak } from './soak.js'

/**
 * `npm run soak` lands here, built by run.js: the soak's length from `--seconds N` or
 * SOAK_SECONDS (default 600), its sampling period from `--sample N` or SOAK_SAMPLE_SECONDS
 * (default 10). Exits 1 when the soak fails.
 */
function setting(flag: string, env: string, fallback: number): number {
  const at = process.argv.indexOf(flag)
  const given = at >= 0 ? process.argv[at + 1] : process.env[env]
  const value = given === undefined ? fallback : Number(given)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} (or ${env}) must be a positive number of seconds, not ${given}`)
  return value
}

const seconds = setting('--seconds', 'SOAK_SECONDS', 600)
const sampleSeconds = setting('--sample', 'SOAK_SAMPLE_SECONDS', 10)
const report = await runSoak({ seconds, sampleSeconds, infraScript: fileURLToPath(new URL('./infra.mjs', import.meta.url)) })
process.exit(report.passed ? 0 : 1)
