import { InvalidArgumentError, truncate } from '../errors.js'
import { stringFault } from './mqtt-string.js'
import { typeName } from './values.js'

/**
 * Checks the MQTT 5 properties a caller gives (`where` names whose: 'publish', 'subscribe',
 * 'will', 'CONNECT', 'end'): an object, and user properties of the shape the wire can carry.
 * The other properties' types are the TypeScript types'; user properties get a check at run time
 * because the encoder would turn any value into text, and so send a number as "1", an object as
 * "[object Object]" and a nested array flattened, rather than fail.
 */
export function checkProperties(where: string, properties: unknown): void {
  if (properties === undefined) return
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) {
    throw new InvalidArgumentError(`${where} properties must be an object, not ${typeName(properties)}`)
  }
  checkUserProperties(where, (properties as { userProperties?: unknown }).userProperties)
}

/** User properties: name -> string, or name -> array of strings (a name may repeat, MQTT 5 §3.3.2.3.7). */
function checkUserProperties(where: string, user: unknown): void {
  if (user === undefined) return
  if (typeof user !== 'object' || user === null || Array.isArray(user)) {
    throw new InvalidArgumentError(`${where} userProperties must be an object of name -> string or string[], not ${typeName(user)}`)
  }
  for (const [name, value] of Object.entries(user)) {
    checkText(where, `the name ${label(name)}`, name)
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof item !== 'string') {
        const got = Array.isArray(value) ? `an array holding ${typeName(item)}` : typeName(item)
        throw new InvalidArgumentError(`${where} userProperties: ${label(name)} must be a string or an array of strings, not ${got}`)
      }
      checkText(where, `the value of ${label(name)}`, item)
    }
  }
}

function checkText(where: string, what: string, text: string): void {
  const fault = stringFault(text)
  if (fault) throw new InvalidArgumentError(`${where} userProperties: ${what} ${fault}`)
}

/** A property name as an error shows it: quoted, and cut short if long. */
function label(name: string): string {
  return JSON.stringify(truncate(name, 40))
}
