import { connect, connectShared, type MqttClientApi } from 'ts-mqtt-ws'
import { byId, describeError, note } from './dom.js'
import { whyNoClient, whyNotConnect } from './guards.js'
import { showMessage } from './messages.js'
import { publishRequest, publishTopic, subscribeQos } from './publish.js'
import { countMessage } from './rate-chart.js'
import { autoconnect, brokerUrl, clientOptions, lockSettings, presetSettings, type SharingMode, sharingMode } from './settings.js'
import { clearLastError, refreshStatus, unwatchStatus, watchStatus } from './status.js'
import { clearSubscriptions, showSubscribeError, subscribe } from './subscriptions.js'

// The demo page: it holds the one client and wires the panels to it. Each panel is a module of
// its own; each shows its own errors in its own place. The panels take any MqttClientApi, so a
// client whose connection is shared across tabs works in them as one of the tab's own.

declare global {
  interface Window {
    /** The demo's client, to play with from the browser console. */
    client?: MqttClientApi
  }
}

const connectButton = byId<HTMLButtonElement>('connect')
const disconnectButton = byId<HTMLButtonElement>('disconnect')
const settingsNote = byId('settings-note')
const publishError = byId('error')

let client: MqttClientApi | undefined

/** A client of the tab's own, or one on the connection the tabs asking for the same URL and client id share. */
function makeClient(sharing: SharingMode | undefined): MqttClientApi {
  if (!sharing) return connect(brokerUrl(), clientOptions())
  return connectShared(brokerUrl(), { ...clientOptions(), shared: sharing === 'leader' ? 'leader' : true })
}

function showButtons(): void {
  connectButton.disabled = client !== undefined
  disconnectButton.disabled = client === undefined
}

async function onConnect(): Promise<void> {
  const refusal = whyNotConnect(client)
  if (refusal) return note(settingsNote, refusal)
  note(settingsNote, '')
  clearLastError()
  const sharing = sharingMode()
  try {
    client = makeClient(sharing)
  } catch (err) {
    // Bad settings: the client refused them before anything went on the wire.
    return note(settingsNote, describeError(err))
  }
  window.client = client
  lockSettings(true)
  showButtons()
  client.on('message', countMessage)
  watchStatus(client, sharing)
  await subscribe(client, publishTopic(), subscribeQos(), showMessage)
}

async function onDisconnect(): Promise<void> {
  const c = client
  const refusal = whyNoClient(c, 'Disconnect')
  if (refusal || !c) return note(settingsNote, refusal ?? '')
  await c.end()
  client = undefined
  window.client = undefined
  clearSubscriptions()
  unwatchStatus(true)
  lockSettings(false)
  showButtons()
}

async function onPublish(): Promise<void> {
  const refusal = whyNoClient(client, 'Publish')
  if (refusal || !client) return note(publishError, refusal ?? '')
  note(publishError, '')
  const { topic, payload, options } = publishRequest()
  try {
    await client.publish(topic, payload, options)
  } catch (err) {
    note(publishError, describeError(err))
  }
}

function onSubscribe(): void {
  const refusal = whyNoClient(client, 'Subscribe')
  if (refusal || !client) return showSubscribeError(refusal)
  const filter = byId<HTMLInputElement>('filter').value
  void subscribe(client, filter, Number(byId<HTMLSelectElement>('filter-qos').value) as 0 | 1 | 2)
}

byId<HTMLFormElement>('settings').addEventListener('submit', (event) => {
  event.preventDefault()
  void onConnect()
})
disconnectButton.addEventListener('click', () => void onDisconnect())
byId('publish').addEventListener('click', () => void onPublish())
byId('subscribe').addEventListener('click', onSubscribe)
byId('message').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') void onPublish()
})

presetSettings()
refreshStatus(undefined)
showButtons()
if (autoconnect()) void onConnect()
