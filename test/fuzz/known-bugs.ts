/**
 * Failures the fuzzers found in src/ that are reported and not fixed yet. A case whose every
 * problem is one of these is counted and printed, not failed, so the unit run (and Stryker's dry
 * run, which needs it green) stays usable while the fix waits. Each entry has a regression test
 * that expects the bug (a saved fixture marked `known`, or a model seed): once the bug is fixed
 * that test fails, and then the entry and the mark are to be deleted, so the replay turns into a
 * plain regression test.
 */
export interface KnownBug {
  id: string
  /** Matches each problem text this bug causes. */
  pattern: RegExp
  description: string
}

// Empty: the two bugs the fuzzers found (an onAuth hook's DOMException passed through as is; an
// iterator that joined a refused pending subscription never ended) are fixed, and their cases
// replay as regression tests (fixtures/1761.json, model seed 62).
export const KNOWN_BUGS: readonly KnownBug[] = []

/** The known bug that explains every one of `problems`, if one does. */
export function knownBug(problems: readonly string[]): KnownBug | undefined {
  if (problems.length === 0) return undefined
  return KNOWN_BUGS.find((bug) => problems.every((p) => bug.pattern.test(p)))
}
