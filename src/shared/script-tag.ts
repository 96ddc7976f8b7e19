/**
 * The entry of the script-tag build that shares (dist/ts-mqtt-ws.shared.iife.js): the whole API on
 * the global TsMqttWs, as ts-mqtt-ws.iife.js has it, and connectShared, whose worker is by
 * default ts-mqtt-ws.shared-worker.js beside this script. A page loads it with
 * `<script src="/js/ts-mqtt-ws.shared.iife.js">` and keeps both files in one folder of its own
 * origin (a SharedWorker must be same-origin).
 */
import type { MqttClientApi } from '../client/api.js'
import { type ConnectSharedOptions, connectShared as connectWith } from './connect-shared.js'

export * from '../core.js'
export type { ConnectSharedOptions } from './connect-shared.js'
export type { SharedOptions } from './tab-client.js'

/** Where this script was loaded from: known only while it first runs. */
const loadedFrom = typeof document === 'object' && document.currentScript instanceof HTMLScriptElement ? document.currentScript.src : undefined

/** The worker beside this script, or undefined where the script's address is unknown (then give `workerUrl`). */
const besideThis = loadedFrom ? new URL('ts-mqtt-ws.shared-worker.js', loadedFrom).href : undefined

/** See the module build's connectShared; `workerUrl` defaults to ts-mqtt-ws.shared-worker.js beside this script. */
export function connectShared(url: string, options: ConnectSharedOptions = {}): MqttClientApi {
  return connectWith(url, options.workerUrl === undefined && besideThis ? { ...options, workerUrl: besideThis } : options)
}
