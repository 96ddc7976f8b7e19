import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { WirePlan } from './plan.js'

/**
 * Saved failing cases: test/fuzz/fixtures/<seed>.json holds the seed, what went wrong when it
 * was saved, and the whole plan with its frames in hex, so the case replays byte for byte even
 * after the generator changes. The unit run replays every one of them.
 */
export interface Fixture {
  seed: number
  problems: string[]
  /** The id of the known bug (known-bugs.ts) this case still shows, while it is not fixed. */
  known?: string
  plan: WirePlan
}

export const FIXTURE_DIR = fileURLToPath(new URL('./fixtures/', import.meta.url))

export function loadFixtures(): Array<{ file: string; fixture: Fixture }> {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, fixture: JSON.parse(readFileSync(FIXTURE_DIR + file, 'utf8')) as Fixture }))
}

export function saveFixture(fixture: Fixture): string {
  mkdirSync(FIXTURE_DIR, { recursive: true })
  const path = `${FIXTURE_DIR}${fixture.seed}.json`
  writeFileSync(path, `${JSON.stringify(fixture, null, 1)}\n`)
  return path
}
