import { InvalidArgumentError } from '../errors.js'

/**
 * Refuses a broker address that is not a string, does not parse, or is not ws:// or wss://. The
 * message never quotes the address: a signed URL carries its credentials in the query.
 */
export function checkUrl(url: unknown): asserts url is string {
  if (typeof url !== 'string') throw new InvalidArgumentError('url must be a string like ws://host:port/path')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new InvalidArgumentError('Invalid URL: it does not parse (not shown, as it may carry credentials)')
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new InvalidArgumentError(`URL must start with ws:// or wss://, not ${parsed.protocol}//`)
  }
}
