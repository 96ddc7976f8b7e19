// A tab that uses connectShared as an app would: from the script-tag build when the page loaded
// it (the global TsMqttWs), else from the ESM build. ?broker=, ?clientId=, ?shared= (true or
// leader), ?topics= (comma-separated filters to subscribe to at once) and ?qos= (theirs, default 1) set it up.
const params = new URLSearchParams(location.search)
const now = () => performance.timeOrigin + performance.now()

/** What this tab's handlers got: topic, payload as text, which filter's handler, when. */
window.received = []
/** When each 'connect' event came (ms since the epoch), and the errors heard. */
window.connects = []
window.errors = []

window.ready = (async () => {
  const lib = globalThis.TsMqttWs ?? (await import('/dist/ts-mqtt-ws.js'))
  const options = { reconnect: { minDelay: 100, maxDelay: 500 } }
  if (params.get('clientId')) options.clientId = params.get('clientId')
  if (params.get('shared') === 'leader') options.shared = 'leader'
  const client = lib.connectShared(params.get('broker'), options)
  window.client = client
  client.on('connect', () => window.connects.push(now()))
  client.on('error', (err) => {
    window.errors.push(`${err.name}: ${err.message}`)
    document.getElementById('error').textContent = `${err.name}: ${err.message}`
  })
  for (const name of ['connect', 'close', 'offline', 'reconnect', 'end']) {
    client.on(name, () => (document.getElementById('status').textContent = client.state))
  }
  /** Subscribes a handler that records what it gets under its filter; resolves with the grants. */
  window.subscribe = (filter, qos = 1) =>
    client.subscribe(filter, { qos }, (m) => window.received.push({ topic: m.topic, payload: m.text(), filter, at: now() }))
  window.publish = (topic, payload, qos = 1) => client.publish(topic, payload, { qos })
  window.unsubscribe = (filter) => client.unsubscribe(filter)
  /** Publishes `count` messages ('0', '1', ...) without awaiting each, `gap` ms apart every ten; resolves with how each settled. */
  window.publishMany = async (topic, count, qos, gap) => {
    const settled = []
    for (let i = 0; i < count; i++) {
      settled.push(client.publish(topic, String(i), { qos }).then(() => 'ok', (err) => `${err.name}: ${err.message}`))
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, gap))
    }
    return Promise.all(settled)
  }
  window.end = (options) => client.end(options)
  const qos = Number(params.get('qos') ?? 1)
  for (const filter of params.get('topics')?.split(',').filter(Boolean) ?? []) await window.subscribe(filter, qos)
  return client.state
})()
