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

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: 'auth-hook-error-passes-through',
    pattern: /(error event with a|rejected with) AbortError: This operation was aborted/,
    description:
      'askHook (src/client/authentication.ts) takes any Error with a `code` property for an MqttError, so an onAuth hook ' +
      'that throws a DOMException (an aborted fetch, code 20) or a Node system error reaches the error event and ' +
      'reauthenticate() as that error, not as a ProtocolError',
  },
  {
    id: 'iterator-on-refused-shared-filter-never-ends',
    pattern: /^unsettled after end and \d+ ms: (#\d+ messages deny\/[x+](, )?)+$/,
    description:
      'messages(f) while a subscribe(f) is still pending shares its route and makes no SUBSCRIBE of its own; when the ' +
      'broker refuses f, subscribeWith calls router.forget(f), which drops the iterator without ending or failing it, ' +
      'so its next() never settles, not even after end({ force: true })',
  },
]

/** The known bug that explains every one of `problems`, if one does. */
export function knownBug(problems: readonly string[]): KnownBug | undefined {
  if (problems.length === 0) return undefined
  return KNOWN_BUGS.find((bug) => problems.every((p) => bug.pattern.test(p)))
}
