import type { ProtocolVersion } from '../codec/packets.js'
import { CredentialsError, MqttError, truncate } from '../errors.js'
import { checkCredentials, type CredentialsHook, type Login, type UrlProvider } from '../input/credentials.js'
import { checkUrl } from '../input/url.js'

/** What one connection attempt connects with. */
export interface AttemptInputs {
  url: string
  /** The credentials hook's answer, checked; undefined without a hook (the options' serve). */
  login: Login | undefined
}

/**
 * Where the caller computes what each connection attempt connects with: the URL from a url
 * function, the username and password from a credentials hook. Each is called once per attempt
 * and its answer checked; every failure becomes a CredentialsError that never quotes the answer.
 * Waiting for them is the caller's: the attempt's connectTimeout runs meanwhile.
 */
export class ConnectInputs {
  constructor(
    private readonly url: string | UrlProvider,
    private readonly credentials: CredentialsHook | undefined,
  ) {}

  /** Whether attempts wait for caller code; if not, the planned URL and the options' credentials serve at once. */
  get awaited(): boolean {
    return typeof this.url === 'function' || this.credentials !== undefined
  }

  /**
   * Calls the url function and the credentials hook (each given) for attempt number `attempt`,
   * side by side, and resolves with both answers checked. `planned` is the broker the reconnect
   * plan chose, undefined where the url function chooses. Rejects with CredentialsError.
   */
  async next(planned: string | undefined, attempt: number, protocolVersion: ProtocolVersion): Promise<AttemptInputs> {
    const [url, login] = await Promise.all([this.urlFor(planned, attempt), this.loginFor(attempt, protocolVersion)])
    return { url, login }
  }

  private async urlFor(planned: string | undefined, attempt: number): Promise<string> {
    if (typeof this.url !== 'function') return planned ?? this.url
    const answer = await ask('url', 'The url function', () => (this.url as UrlProvider)(attempt))
    return check('url', 'The url function', () => {
      checkUrl(answer)
      return answer
    })
  }

  private async loginFor(attempt: number, protocolVersion: ProtocolVersion): Promise<Login | undefined> {
    const hook = this.credentials
    if (!hook) return undefined
    const answer = await ask('credentials', 'The credentials hook', () => hook(attempt))
    return check('credentials', 'The credentials hook', () => checkCredentials(answer, protocolVersion))
  }
}

/** The caller's answer, or a CredentialsError with its failure as the cause. */
async function ask<T>(source: CredentialsError['source'], who: string, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    // Its own words help find the fault (a token service down); the answer it never gave cannot leak.
    const said = err instanceof Error ? err.message : String(err)
    throw new CredentialsError(source, `${who} failed: ${truncate(said, 200)}`, { cause: err })
  }
}

/** The checked answer, or a CredentialsError naming what is wrong with it (never the answer itself). */
function check<T>(source: CredentialsError['source'], who: string, checked: () => T): T {
  try {
    return checked()
  } catch (err) {
    const why = err instanceof MqttError ? err.message : String(err)
    throw new CredentialsError(source, `${who} answered what the client cannot connect with: ${why}`, { cause: err })
  }
}
