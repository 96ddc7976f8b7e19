// The public exports, nothing else: the whole API (core.ts, which the script-tag build
// ts-mqtt-ws.iife.js carries) and connectShared, which bundlers drop when it is not imported.
export * from './core.js'
export { connectShared, type ConnectSharedOptions } from './shared/connect-shared.js'
export type { SharedOptions } from './shared/tab-client.js'
