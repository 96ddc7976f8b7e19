import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { heapAfterGc, realMs, watchEscapes } from '../../fuzz/audit.js'
import { loadFixtures, saveFixture } from '../../fuzz/fixtures.js'
import { KNOWN_BUGS, knownBug } from '../../fuzz/known-bugs.js'
import { makePlan, type WirePlan } from '../../fuzz/plan.js'
import { shrinkPlan } from '../../fuzz/shrink.js'
import { type CaseOutcome, runWirePlan } from '../../fuzz/wire-case.js'

/**
 * Part A of issue 12 §4: the client, on an in-process socket, fed valid broker packets (MQTT
 * 3.1.1 and 5, encoded by mqtt-packet) broken one structural way or another, while it has
 * publishes and subscriptions pending. Whatever arrives, the client must throw nothing, settle
 * every Promise, end closed, report only MqttErrors, and keep no timer, socket or route.
 *
 * FUZZ_SEED=n replays one case (npm run fuzz -- --seed n); FUZZ_CASES and FUZZ_SECONDS run
 * longer; FUZZ_FIRST_SEED moves the seed range. A failing case is saved under test/fuzz/fixtures/.
 * Cases that show only a known, reported bug (known-bugs.ts) are counted and printed, not failed.
 */
const env = process.env
const ONE_SEED = env.FUZZ_SEED === undefined ? undefined : Number(env.FUZZ_SEED)
/** Stryker runs this file once per mutant it covers (nearly all of codec and protocol): a few hundred cases there. */
const UNDER_STRYKER = env.STRYKER_MUTATOR_WORKER !== undefined
const CASES = Number(env.FUZZ_CASES ?? (UNDER_STRYKER ? 300 : 5000))
/** Past this, no new case starts: it bounds the run's time on a slow machine, and fails it short of CASES. */
const SECONDS = Number(env.FUZZ_SECONDS ?? 90)
const FIRST_SEED = Number(env.FUZZ_FIRST_SEED ?? 1)
/** At most this many failing cases of one run are shrunk and saved: a regression that fails every case should not write thousands. */
const MOST_SAVED = 5
/** The heap may grow this much over the run (compiled code and the like); a leak per case would pass it. */
const HEAP_GROWTH_LIMIT = 64 * 1024 * 1024

let escapes: ReturnType<typeof watchEscapes>

beforeAll(() => {
  escapes = watchEscapes()
  // setImmediate stays real: the transport flushes its writes in it, and the cases wait on it.
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'Date'] })
})
afterAll(() => {
  vi.useRealTimers()
  escapes.stop()
})

/** A case, with what escaped the client while it ran (an uncaught throw, an unhandled rejection). */
async function runCase(plan: WirePlan): Promise<CaseOutcome> {
  const outcome = await runWirePlan(plan)
  outcome.problems.push(...escapes.take())
  return outcome
}

function report(outcome: CaseOutcome): string {
  return `seed ${outcome.seed}: ${outcome.problems.join('; ')}`
}

/** Saves a failing case, shrunk to the steps its failure needs, unless FUZZ_NO_SAVE is set. */
async function save(plan: WirePlan, problems: string[]): Promise<void> {
  if (env.FUZZ_NO_SAVE !== undefined) return
  const shrunk = await shrinkPlan(plan, async (candidate) => (await runCase(candidate)).problems)
  const path = saveFixture({ seed: plan.seed, problems, plan: shrunk })
  console.log(`saved ${path} (${shrunk.steps.length} of ${plan.steps.length} steps)`)
}

describe('MqttClient fed mutated broker packets', () => {
  it.runIf(ONE_SEED === undefined)(
    `handles ${CASES} seeded cases of broken packets cleanly: no throw, every Promise settled, closed, no timer, socket or route left`,
    async () => {
      const started = realMs()
      const heapBefore = heapAfterGc()
      const failures: string[] = []
      const known = new Map<string, number[]>()
      let ran = 0
      let frames = 0
      let errors = 0
      while (ran < CASES && realMs() - started < SECONDS * 1000) {
        const plan = makePlan(FIRST_SEED + ran)
        const outcome = await runCase(plan)
        ran++
        frames += outcome.frames
        errors += outcome.errors
        const bug = knownBug(outcome.problems)
        if (bug) {
          known.set(bug.id, [...(known.get(bug.id) ?? []), plan.seed])
        } else if (outcome.problems.length > 0) {
          failures.push(report(outcome))
          if (failures.length <= MOST_SAVED) await save(plan, outcome.problems)
        }
      }
      const seconds = (realMs() - started) / 1000
      const growth = heapAfterGc() - heapBefore
      console.log(
        `wire fuzz: ${ran} cases (seeds ${FIRST_SEED}..${FIRST_SEED + ran - 1}), ${frames} broker frames, ${errors} error events, ` +
          `${failures.length} failing, ${seconds.toFixed(1)} s (${Math.round(ran / seconds)} cases/s), heap ${(growth / 1048576).toFixed(1)} MiB`,
      )
      for (const [id, seeds] of known) console.log(`wire fuzz: known bug ${id} at seeds ${seeds.join(', ')}`)
      expect(failures.slice(0, 20)).toEqual([])
      expect(ran, `only ${ran} cases started within ${SECONDS} s`).toBeGreaterThanOrEqual(CASES)
      expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT)
    },
    (SECONDS + 60) * 1000,
  )

  // With no seed given (the normal run) it replays seed 1, so the replay path itself stays tested.
  it(`replays the one case of the seed given, here ${ONE_SEED ?? 1}`, async () => {
    const plan = makePlan(ONE_SEED ?? 1)
    console.log(JSON.stringify(plan, null, 1))
    const outcome = await runCase(plan)
    console.log(`seed ${plan.seed}: ${outcome.frames} frames, ${outcome.errors} error events, problems: ${outcome.problems.join('; ') || 'none'}`)
    if (outcome.problems.length > 0) await save(plan, outcome.problems)
    expect(outcome.problems).toEqual([])
  })

  for (const { file, fixture } of loadFixtures()) {
    const bug = KNOWN_BUGS.find((b) => b.id === fixture.known)
    if (bug) {
      // Fails once the bug is fixed: then delete its KNOWN_BUGS entry and this fixture's `known` mark.
      it(`replays saved fixture ${file}, which still shows known bug ${bug.id}`, async () => {
        const outcome = await runCase(fixture.plan)
        expect(knownBug(outcome.problems)?.id, `problems: ${outcome.problems.join('; ') || 'none'}`).toBe(bug.id)
      })
    } else {
      it(`replays saved fixture ${file} cleanly (it once failed: ${fixture.problems[0] ?? 'unknown'})`, async () => {
        const outcome = await runCase(fixture.plan)
        expect(outcome.problems).toEqual([])
      })
    }
  }
})
