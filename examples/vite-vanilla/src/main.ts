import { connect, type MqttClient } from 'ts-mqtt-ws'

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T
const broker = $<HTMLInputElement>('broker')
const topic = $<HTMLInputElement>('topic')
const message = $<HTMLInputElement>('message')
const publish = $<HTMLButtonElement>('publish')

// ?broker=ws://host:port&topic=some/topic fill in the form, so a link (or a test) can set them.
const params = new URLSearchParams(location.search)
broker.value = params.get('broker') ?? 'ws://localhost:8888'
topic.value = params.get('topic') ?? 'examples/hello'

let client: MqttClient | undefined

// Every failure is an MqttError subclass: String(err) reads "InvalidTopicError: Invalid topic ...".
function showError(err: unknown): void {
  $('error').textContent = String(err)
}

function showMessage(topic: string, text: string): void {
  const item = document.createElement('li')
  item.textContent = `${topic}: ${text}`
  $('messages').append(item)
}

$('connect').addEventListener('click', async () => {
  await client?.end()
  $('error').textContent = ''
  const mqtt = connect(broker.value)
  client = mqtt
  for (const event of ['connect', 'reconnect', 'close', 'end'] as const) {
    mqtt.on(event, () => ($('status').textContent = mqtt.state))
  }
  mqtt.on('error', showError)
  $('status').textContent = mqtt.state
  try {
    // Resolves on the broker's SUBACK; from then on the handler gets each message on the filter.
    await mqtt.subscribe(topic.value, { qos: 1 }, (msg) => showMessage(msg.topic, msg.text()))
    publish.disabled = false
  } catch (err) {
    showError(err)
  }
})

publish.addEventListener('click', async () => {
  $('error').textContent = ''
  try {
    // A topic with + or # is a filter: publish rejects with InvalidTopicError and sends nothing.
    await client?.publish(topic.value, message.value, { qos: 1 })
  } catch (err) {
    showError(err)
  }
})
