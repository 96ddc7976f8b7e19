import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../support/consumer.js'

const run = promisify(execFile)
const typedoc = path.join(repoRoot, 'node_modules/.bin/typedoc')

// typedoc.json asks for a comment on every exported class, function, method, property, interface,
// type alias, enum, variable and accessor, and on everything those expose. This runs it as
// `npm run docs` does, but writes nothing: a public export without TSDoc fails here, by name.
describe('the API reference', () => {
  it('builds from src/index.ts with no TypeDoc warning: every public export is documented', async () => {
    const result = await run(typedoc, ['--emit', 'none', '--treatWarningsAsErrors', '--logLevel', 'Warn'], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }),
      (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? String(err)}` }),
    )
    const complaints = result.output.split('\n').filter((line) => /\[(warning|error)\]/.test(line))
    expect(complaints).toEqual([])
    expect(result.ok).toBe(true)
  }, 120_000)
})
