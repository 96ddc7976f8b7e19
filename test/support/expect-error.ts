import { expect } from 'vitest'

/**
 * Awaits a promise that must reject with an error of `type`, and returns that error for further
 * checks. A bare `.rejects.toThrow()` would accept any error, including a TypeError from a bug;
 * and a promise that never settles fails here after `withinMs`, by name, not by test timeout.
 */
export async function rejection<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
  withinMs = 10_000,
): Promise<E> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const pending = new Promise<{ pending: true }>((resolve) => {
    timer = setTimeout(() => resolve({ pending: true }), withinMs)
  })
  const outcome = await Promise.race([
    promise.then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    pending,
  ])
  clearTimeout(timer)
  if ('pending' in outcome) throw new Error(`expected a rejection with ${type.name}, but the promise was still pending after ${withinMs} ms`)
  if (!('error' in outcome)) throw new Error(`expected a rejection with ${type.name}, but it resolved to ${String(outcome.value)}`)
  expect(outcome.error).toBeInstanceOf(type)
  return outcome.error as E
}

/** Runs `fn`, which must throw an error of `type`, and returns that error for further checks. */
export function thrown<E extends Error>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(type)
    return error as E
  }
  throw new Error(`expected an error of ${type.name}, but nothing was thrown`)
}
