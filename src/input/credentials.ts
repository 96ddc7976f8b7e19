import type { ProtocolVersion } from '../codec/packets.js'
import { MAX_STRING_BYTES } from '../codec/limits.js'
import { InvalidArgumentError } from '../errors.js'
import { stringFault } from './mqtt-string.js'

/**
 * Gives the broker URL of one connection attempt: for signed URLs (AWS IoT SigV4, Azure SAS)
 * whose signature expires, so each attempt needs a fresh one. Called once per attempt, within
 * `connectTimeout`; the answer must be a ws:// or wss:// URL.
 *
 * `attempt` is 0 for the client's first connection, and for a reconnect the number of the try
 * since the last accepted connection, from 1 (the number `client.nextReconnect` shows).
 *
 * A function that throws or rejects, or answers something else, fails that attempt with a
 * `CredentialsError`; the client then follows its reconnect plan.
 */
export type UrlProvider = (attempt: number) => string | Promise<string>

/** The user name and password one CONNECT carries; either may be left out. */
export interface Credentials {
  /** The CONNECT's user name; an MQTT UTF-8 string. */
  username?: string
  /** A string is sent as its UTF-8 bytes; at most 65,535 bytes. */
  password?: string | Uint8Array
}

/**
 * Gives the credentials of one connection attempt, for short-lived tokens (a JWT for EMQX or
 * HiveMQ): called before every CONNECT, reconnects included, within `connectTimeout`. Its answer
 * replaces the `username` and `password` options, which cannot be given beside it. MQTT 3.1.1
 * takes a password only with a username.
 *
 * `attempt` is numbered as for a {@link UrlProvider}. A hook that throws or rejects, or answers
 * something the client cannot send, fails that attempt with a `CredentialsError`; the client then
 * follows its reconnect plan.
 */
export type CredentialsHook = (attempt: number) => Credentials | Promise<Credentials>

/** The user name and password as CONNECT carries them, checked. */
export interface Login {
  username: string | undefined
  password: Uint8Array | undefined
}

/**
 * Checks a user name and password for CONNECT: the options' or a credentials hook's. The
 * messages name what is wrong, never the value.
 */
export function checkLogin(username: unknown, password: unknown, protocolVersion: ProtocolVersion | 'auto'): Login {
  if (password !== undefined && username === undefined && protocolVersion === 4) {
    throw new InvalidArgumentError('MQTT 3.1.1 allows a password only with a username')
  }
  if (username !== undefined && typeof username !== 'string') throw new InvalidArgumentError('username must be a string')
  const fault = username === undefined ? undefined : stringFault(username)
  if (fault) throw new InvalidArgumentError(`username ${fault}`)
  return { username, password: password === undefined ? undefined : passwordBytes(password) }
}

/** A credentials hook's answer, checked for the MQTT version the attempt speaks. */
export function checkCredentials(answer: unknown, protocolVersion: ProtocolVersion): Login {
  if (typeof answer !== 'object' || answer === null) throw new InvalidArgumentError('credentials must be an object like { username, password }')
  const { username, password } = answer as Credentials
  return checkLogin(username, password, protocolVersion)
}

function passwordBytes(password: unknown): Uint8Array {
  const bytes = typeof password === 'string' ? new TextEncoder().encode(password) : password
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('password must be a string or Uint8Array')
  // Binary data with a two-byte length (MQTT §1.5.6); the message says the size only, never the password.
  if (bytes.byteLength > MAX_STRING_BYTES) throw new InvalidArgumentError(`password must be at most ${MAX_STRING_BYTES} bytes`)
  return bytes
}
