// A tab of a shared connection that speaks the wire (src/shared/wire.ts) to the built SharedWorker
// itself, with no client of ours in the page: the worker and its host are what is under test.
// ?worker= names the worker script (default the classic build), ?broker= and ?key= the connection.
const params = new URLSearchParams(location.search)
const workerUrl = params.get('worker') ?? '/dist/ts-mqtt-ws.shared-worker.js'
const type = workerUrl.endsWith('/shared-worker.js') ? 'module' : 'classic'
const worker = new SharedWorker(workerUrl, { type, name: 'ts-mqtt-ws' })
const port = worker.port
const tab = crypto.randomUUID()
const lock = `ts-mqtt-ws:tab:${tab}`

const answers = new Map()
let nextId = 1
/** Every message the host sent this tab, in order. */
window.hostMessages = []
/** The deliveries: topic, payload as text, and which of this tab's subscriptions they matched. */
window.received = []
window.workerErrors = []

worker.onerror = (event) => window.workerErrors.push(event.message ?? 'error')
port.onmessage = ({ data }) => {
  window.hostMessages.push(data)
  if (data.type === 'message') {
    const { topic, payload } = data.packet
    window.received.push({ topic, payload: new TextDecoder().decode(payload), subs: data.subs })
  } else if (data.type === 'result' || data.type === 'failure') {
    answers.get(data.id)?.(data)
    answers.delete(data.id)
  } else if (data.type === 'state' || data.type === 'event') {
    document.getElementById('status').textContent = data.snapshot.state
  }
}

/** Sends a request and resolves with the host's answer: { type: 'result', value } or { type: 'failure', error }. */
window.request = (message) =>
  new Promise((resolve) => {
    const id = nextId++
    answers.set(id, resolve)
    port.postMessage({ ...message, id })
  })

/** Sends any message as it is (a bye, say). */
window.send = (message) => port.postMessage(message)

// The tab's lock first, held for the page's life: the worker asks for it and is granted it when the page goes.
window.ready = new Promise((resolve) => {
  navigator.locks.request(lock, () => {
    resolve()
    return new Promise(() => {})
  })
}).then(() => {
  const url = params.get('broker')
  const key = params.get('key')
  const hello = { type: 'hello', wire: 1, tab, key, url, options: { clientId: key, reconnect: false }, lock }
  // ?lock=unnamed: the tab holds its lock but does not say so, as a tab of a build without locks.
  if (params.get('lock') === 'unnamed') delete hello.lock
  port.postMessage(hello)
})
