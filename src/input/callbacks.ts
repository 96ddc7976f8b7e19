import { InvalidArgumentError } from '../errors.js'

/** The calls MQTT.js users make with a callback, where ours return a Promise. */
export type CallbackMethod = 'publish' | 'subscribe' | 'unsubscribe' | 'end'

/** Where MQTT.js's callback may come in each call (argument positions): ours take no function there. */
const CALLBACK_AT: Record<Exclude<CallbackMethod, 'subscribe'>, number[]> = {
  publish: [2, 3],
  unsubscribe: [1, 2],
  end: [0, 1, 2],
}

/** The arguments of each call as the message shows it awaited. */
const AWAITED: Record<Exclude<CallbackMethod, 'subscribe'>, string> = {
  publish: '(topic, payload, options)',
  unsubscribe: '(filter)',
  end: '()',
}

/**
 * Refuses a call made in MQTT.js's style with InvalidArgumentError, as its callback would never
 * be called: a function where ours take none (publish's third or fourth argument, unsubscribe's
 * second or third, end's first to third), and end(true) or end(false), MQTT.js's force flag. A
 * subscribe handler of two or more parameters is MQTT.js's `(err, granted)` callback: ours get
 * one Message each, and the granted list is what the Promise resolves to. (A callback of one
 * parameter, `(err) => ...`, cannot be told from a handler.) Unsubscribe's options, which ours
 * does not take, are refused too.
 *
 * `args` are the call's arguments as given, so that those past our parameters are seen too.
 */
export function refuseCallbacks(method: CallbackMethod, args: ArrayLike<unknown>): void {
  if (method === 'subscribe') {
    checkHandler(args[1])
    checkHandler(args[2])
    return
  }
  if (method === 'end' && typeof args[0] === 'boolean') {
    throw new InvalidArgumentError(`end(${args[0]}) is MQTT.js's; write ${args[0] ? 'end({ force: true })' : 'end()'}`)
  }
  if (CALLBACK_AT[method].some((at) => typeof args[at] === 'function')) {
    throw new InvalidArgumentError(`${method} takes no callback: it returns a Promise, so write await client.${method}${AWAITED[method]}`)
  }
  if (method === 'unsubscribe' && args[1] !== undefined) {
    throw new InvalidArgumentError('unsubscribe takes only the filters: UNSUBSCRIBE properties are not supported')
  }
}

function checkHandler(handler: unknown): void {
  if (typeof handler === 'function' && handler.length >= 2) {
    throw new InvalidArgumentError(
      'a subscribe handler receives one Message, not (err, granted), and the granted list is what the Promise resolves to',
    )
  }
}
