// A classic script: TsMqttWs is the global the IIFE build defines, with the module build's names.
const $ = (id) => document.getElementById(id)

// ?broker=ws://host:port&topic=some/topic fill in the form, so a link (or a test) can set them.
const params = new URLSearchParams(location.search)
$('broker').value = params.get('broker') ?? 'ws://localhost:8888'
$('topic').value = params.get('topic') ?? 'examples/hello'

let client

// Every failure is an MqttError subclass: String(err) reads "InvalidTopicError: Invalid topic ...".
function showError(err) {
  $('error').textContent = String(err)
}

function showMessage(topic, text) {
  const item = document.createElement('li')
  item.textContent = `${topic}: ${text}`
  $('messages').append(item)
}

$('connect').addEventListener('click', async () => {
  await client?.end()
  $('error').textContent = ''
  const mqtt = TsMqttWs.connect($('broker').value)
  client = mqtt
  for (const event of ['connect', 'reconnect', 'close', 'end']) {
    mqtt.on(event, () => ($('status').textContent = mqtt.state))
  }
  mqtt.on('error', showError)
  $('status').textContent = mqtt.state
  try {
    // Resolves on the broker's SUBACK; from then on the handler gets each message on the filter.
    await mqtt.subscribe($('topic').value, { qos: 1 }, (msg) => showMessage(msg.topic, msg.text()))
    $('publish').disabled = false
  } catch (err) {
    showError(err)
  }
})

$('publish').addEventListener('click', async () => {
  $('error').textContent = ''
  try {
    // A topic with + or # is a filter: publish rejects with InvalidTopicError and sends nothing.
    await client?.publish($('topic').value, $('message').value, { qos: 1 })
  } catch (err) {
    showError(err)
  }
})
