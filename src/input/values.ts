import { InvalidArgumentError, truncate } from '../errors.js'

/**
 * How an error names what the caller gave. A value that is out of range is shown as itself; a
 * string is quoted and called a string, since '1' where 1 was meant is the usual mistake and
 * "not 1" would hide it; anything else is named by its type.
 */
export function received(value: unknown): string {
  if (typeof value === 'string') return `the string ${quoted(value)}`
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value === 'bigint') return `the bigint ${value}n`
  return typeName(value)
}

/** A value's type as a caller would recognise it: `null`, `number`, or the class of an object (`Object`, `Uint16Array`). */
export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value
}

/** A caller's string in single quotes, cut short: an error message is no place for a 64 KiB payload. */
export function quoted(s: string): string {
  return `'${truncate(s, 40)}'`
}

/** A yes/no option: absent is `fallback`; anything but true or false is refused rather than read as truthy. */
export function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value === 'boolean') return value
  throw new InvalidArgumentError(`${name} must be true or false, not ${received(value)}`)
}
