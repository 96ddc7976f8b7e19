import { connect, type ClientOptions, IndexedDBStore, type Message, type MqttClient, type QoS } from 'ts-mqtt-ws'

// The demo page of the tutorial this project grew from: connect, subscribe to a topic, publish to
// it, and list what arrives; open it in two tabs to see messages go across. Beyond the tutorial:
// a will, and subscriptions that each have a handler of their own.

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const field = (id: string) => $<HTMLInputElement>(id)
const qosOf = (id: string) => Number($<HTMLSelectElement>(id).value) as QoS
const status = $('status')
const errorBox = $('error')
const received = $<HTMLUListElement>('messages')
const subscriptionList = $<HTMLUListElement>('subscriptions')
const connectButton = $<HTMLButtonElement>('connect')
const disconnectButton = $<HTMLButtonElement>('disconnect')

// Settings beyond the form come from the address, e.g. ?topic=t&keepalive=5&minDelay=2000&clientId=me&store=indexeddb&autoconnect
const params = new URLSearchParams(location.search)
field('broker').value = params.get('broker') ?? `ws://${location.hostname || 'localhost'}:8888`
field('topic').value = params.get('topic') ?? field('topic').value

declare global {
  interface Window {
    /** The demo's client, to play with from the browser console. */
    client?: MqttClient
  }
}

let client: MqttClient | undefined

function showStatus(): void {
  const state = client?.state ?? 'idle'
  status.textContent = client ? state : 'not connected'
  status.dataset.state = state
  connectButton.disabled = client !== undefined
  disconnectButton.disabled = client === undefined
}

function showError(err: unknown): void {
  errorBox.textContent = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  errorBox.hidden = false
}

function clearError(): void {
  errorBox.hidden = true
  errorBox.textContent = ''
}

const timestamp = () => new Date().toLocaleTimeString('en-GB', { hour12: false })

function listMessage(msg: Message): void {
  const item = document.createElement('li')
  item.textContent = `[${timestamp()}] ${msg.text()}`
  // The QoS it was delivered at: the lower of the publisher's and the subscription's.
  item.dataset.qos = String(msg.qos)
  item.title = `QoS ${msg.qos}${msg.retain ? ', retained' : ''}`
  received.append(item)
}

/** A row for one subscription: its handler updates only this row. */
function subscriptionRow(filter: string, qos: QoS): { row: HTMLLIElement; handler: (msg: Message) => void } {
  const row = document.createElement('li')
  row.dataset.filter = filter
  row.dataset.state = 'subscribing'
  const label = document.createElement('span')
  label.textContent = `${filter} (QoS ${qos}): `
  const count = document.createElement('span')
  count.className = 'count'
  count.textContent = '0'
  const last = document.createElement('span')
  last.className = 'last'
  const remove = document.createElement('button')
  remove.textContent = 'Unsubscribe'
  remove.addEventListener('click', () => {
    client?.unsubscribe(filter).then(() => row.remove(), showError)
  })
  row.append(label, count, ' messages ', last, remove)
  subscriptionList.append(row)
  let n = 0
  const handler = (msg: Message) => {
    count.textContent = String(++n)
    last.textContent = `last: ${msg.topic} = ${msg.text()}`
  }
  return { row, handler }
}

async function subscribe(filter: string, qos: QoS, extra?: (msg: Message) => void): Promise<void> {
  const c = client
  if (!c) return showError(new Error('Connect first'))
  const { row, handler } = subscriptionRow(filter, qos)
  try {
    const [granted] = await c.subscribe(filter, { qos }, (msg) => {
      handler(msg)
      extra?.(msg)
    })
    row.dataset.state = 'active'
    row.dataset.granted = String(granted?.qos)
  } catch (err) {
    row.remove()
    showError(err)
  }
}

function connectOptions(): ClientOptions {
  const minDelay = Number(params.get('minDelay') ?? 500)
  const options: ClientOptions = {
    keepalive: Number(params.get('keepalive') ?? 30),
    reconnect: { minDelay, maxDelay: Math.max(5000, minDelay) },
  }
  const clientId = params.get('clientId')
  if (clientId) options.clientId = clientId
  // With a store in IndexedDB, accepted QoS 1/2 messages survive a reload of the page.
  if (params.get('store') === 'indexeddb') options.store = new IndexedDBStore(clientId ?? 'demo')
  const willTopic = field('will-topic').value
  if (willTopic) options.will = { topic: willTopic, payload: field('will-payload').value, qos: 1 }
  return options
}

async function onConnect(): Promise<void> {
  clearError()
  try {
    client = connect(field('broker').value, connectOptions())
  } catch (err) {
    showError(err)
    return
  }
  window.client = client
  for (const event of ['connect', 'reconnect', 'close', 'offline', 'end'] as const) client.on(event, showStatus)
  client.on('error', showError)
  showStatus()
  await subscribe(field('topic').value, qosOf('qos'), listMessage)
}

async function onDisconnect(): Promise<void> {
  const c = client
  if (!c) return
  await c.end()
  client = undefined
  window.client = undefined
  subscriptionList.replaceChildren()
  showStatus()
  status.textContent = 'closed'
  status.dataset.state = 'closed'
}

async function onPublish(): Promise<void> {
  clearError()
  if (!client) return showError(new Error('Connect first'))
  try {
    await client.publish(field('topic').value, field('message').value, { qos: qosOf('qos'), retain: field('retain').checked })
  } catch (err) {
    showError(err)
  }
}

connectButton.addEventListener('click', () => void onConnect())
disconnectButton.addEventListener('click', () => void onDisconnect())
$('publish').addEventListener('click', () => void onPublish())
$('subscribe').addEventListener('click', () => {
  clearError()
  void subscribe(field('filter').value, qosOf('filter-qos'))
})
field('message').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') void onPublish()
})
showStatus()
if (params.has('autoconnect')) void onConnect()
