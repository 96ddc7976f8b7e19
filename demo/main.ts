import { connect, type MqttClient, type QoS } from 'ts-mqtt-ws'

// The demo page of the tutorial this project grew from: connect, subscribe to a topic, publish to
// it, and list what arrives. Open it in two tabs to see messages go across.

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const broker = $<HTMLInputElement>('broker')
const topic = $<HTMLInputElement>('topic')
const qos = $<HTMLSelectElement>('qos')
const retain = $<HTMLInputElement>('retain')
const message = $<HTMLInputElement>('message')
const connectButton = $<HTMLButtonElement>('connect')
const disconnectButton = $<HTMLButtonElement>('disconnect')
const publishButton = $<HTMLButtonElement>('publish')
const status = $<HTMLElement>('status')
const subscription = $<HTMLElement>('subscription')
const errorBox = $<HTMLElement>('error')
const list = $<HTMLUListElement>('messages')

broker.value = new URLSearchParams(location.search).get('broker') ?? `ws://${location.hostname || 'localhost'}:8888`

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

function addMessage(text: string): void {
  const item = document.createElement('li')
  item.textContent = `[${new Date().toLocaleTimeString('en-GB', { hour12: false })}] ${text}`
  list.append(item)
}

async function onConnect(): Promise<void> {
  clearError()
  try {
    client = connect(broker.value, { keepalive: 30, reconnect: { minDelay: 500, maxDelay: 5000 } })
  } catch (err) {
    showError(err)
    return
  }
  const c = client
  for (const event of ['connect', 'reconnect', 'close', 'offline', 'end'] as const) c.on(event, showStatus)
  c.on('error', showError)
  showStatus()
  const filter = topic.value
  const level = Number(qos.value) as QoS
  try {
    await c.subscribe(filter, { qos: level }, (msg) => addMessage(msg.text()))
    subscription.textContent = `subscribed to ${filter} (QoS ${level})`
    subscription.dataset.topic = filter
  } catch (err) {
    showError(err)
  }
}

async function onDisconnect(): Promise<void> {
  const c = client
  if (!c) return
  await c.end()
  client = undefined
  subscription.textContent = ''
  delete subscription.dataset.topic
  showStatus()
  status.textContent = 'closed'
  status.dataset.state = 'closed'
}

async function onPublish(): Promise<void> {
  clearError()
  if (!client) {
    showError(new Error('Connect first'))
    return
  }
  try {
    await client.publish(topic.value, message.value, { qos: Number(qos.value) as QoS, retain: retain.checked })
  } catch (err) {
    showError(err)
  }
}

connectButton.addEventListener('click', () => void onConnect())
disconnectButton.addEventListener('click', () => void onDisconnect())
publishButton.addEventListener('click', () => void onPublish())
message.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') void onPublish()
})
showStatus()
