import type { WirePlan } from './plan.js'

/**
 * Makes a failing plan smaller before it is saved: drops steps one at a time, and keeps each
 * drop after which the case still fails the same way (its first problem, numbers aside). Bounded
 * by `attempts` runs of the case, so a stubborn case costs a known, small amount of time.
 */
export async function shrinkPlan(
  plan: WirePlan,
  fails: (candidate: WirePlan) => Promise<string[]>,
  attempts = 300,
): Promise<WirePlan> {
  const original = await fails(plan)
  if (original.length === 0) return plan
  const signature = shape(original[0] as string)
  let best = plan
  let tries = 0
  let shrunk = true
  while (shrunk && tries < attempts) {
    shrunk = false
    for (let i = best.steps.length - 1; i >= 0 && tries < attempts; i--) {
      const candidate: WirePlan = { ...best, steps: best.steps.filter((_, j) => j !== i) }
      tries++
      const problems = await fails(candidate)
      if (problems.some((p) => shape(p) === signature)) {
        best = candidate
        shrunk = true
      }
    }
  }
  return best
}

/** A problem without its numbers (step indexes, counts), to tell whether two failures are the same. */
function shape(problem: string): string {
  return problem.replace(/\d+/g, 'N')
}
