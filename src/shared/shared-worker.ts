/**
 * The SharedWorker entry of shared connections (issue 15): one {@link SharedHost} for every tab
 * of the origin that opens this worker, its clients made by the real `connect` with the worker's
 * own WebSocket. Built on its own, as dist/shared-worker.js (found by `openWorkerLink` through
 * `new URL('./shared-worker.js', import.meta.url)`) and dist/ts-mqtt-ws.shared-worker.js (a
 * classic script for script-tag pages), so none of this reaches a bundle that does not share.
 * It exports nothing: the built file has no import or export, and loads as module or classic.
 */
import { connect } from '../client/connect.js'
import { SharedHost } from './host.js'
import { ownClientFactory, servePort } from './worker-ports.js'

const host = new SharedHost(ownClientFactory(connect))
const locks = (globalThis.navigator as Navigator | undefined)?.locks

// Each page (or each client in it) that makes `new SharedWorker(...)` arrives as one connect event with its port.
globalThis.addEventListener('connect', (event) => {
  const port = (event as MessageEvent).ports[0]
  if (port) servePort(host, port, locks)
})
