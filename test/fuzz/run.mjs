#!/usr/bin/env node
// The fuzzers' command line, for `npm run fuzz -- ...`. Node 20 cannot run the TypeScript tests
// itself, so this passes the options on to vitest as environment variables and runs the one file.
//
//   npm run fuzz                          the wire fuzz as the unit run has it (5,000 cases)
//   npm run fuzz -- --seed 12345          replays one wire case, printing its plan
//   npm run fuzz -- --cases 50000 --seconds 600 [--first-seed 100000]
//   npm run fuzz -- --model [--seed n | --sequences n --seconds s --first-seed n]
//   npm run fuzz -- --no-save             a failing case is not written to test/fuzz/fixtures/
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const model = args.includes('--model')
const prefix = model ? 'MODEL' : 'FUZZ'
const names = {
  '--seed': `${prefix}_SEED`,
  '--cases': 'FUZZ_CASES',
  '--sequences': 'MODEL_SEQUENCES',
  '--seconds': `${prefix}_SECONDS`,
  '--first-seed': `${prefix}_FIRST_SEED`,
}
const env = { ...process.env }
for (let i = 0; i < args.length; i++) {
  const arg = args[i]
  if (arg === '--model') continue
  if (arg === '--no-save') {
    env.FUZZ_NO_SAVE = '1'
    continue
  }
  const name = names[arg]
  const value = args[i + 1]
  if (!name || value === undefined || !/^\d+$/.test(value)) {
    console.error(`fuzz: unknown or incomplete option ${arg} (see test/fuzz/run.mjs)`)
    process.exit(2)
  }
  env[name] = value
  i++
}

const root = fileURLToPath(new URL('../../', import.meta.url))
const file = model ? 'test/unit/fuzz/model.test.ts' : 'test/unit/fuzz/wire-fuzz.test.ts'
const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url))
const result = spawnSync(process.execPath, [vitest, 'run', '--project', 'unit', file], { cwd: root, env, stdio: 'inherit' })
process.exit(result.status ?? 1)
