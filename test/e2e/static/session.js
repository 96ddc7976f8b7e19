// A classic script, loaded first by both pages: the CSP tests need page code that is an external
// same-origin file (no inline script, no eval), and one session both builds of the client run.

// Every CSP violation from the first moment, so one the client's build causes is not missed.
window.cspViolations = []
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, disposition: e.disposition })
})

/** What the test reads: each step's outcome in the page, and the keepalive traffic. */
window.session = { pingreq: 0, pingresp: 0 }

const show = (id, text) => {
  document.getElementById(id).textContent = text
}

/**
 * Connects to ?broker= with ?keepalive= (seconds), subscribes to ?topic= at QoS 1, publishes one
 * QoS 1 message to it and shows what comes back; a failure shows its class, code and message.
 */
window.runSession = async (lib) => {
  const params = new URLSearchParams(location.search)
  const topic = params.get('topic')
  try {
    const client = await lib.connectAsync(params.get('broker'), { keepalive: Number(params.get('keepalive') ?? '60'), reconnect: false })
    window.client = client
    client.on('packetsend', (p) => {
      if (p.cmd === 'pingreq') window.session.pingreq++
    })
    client.on('packetreceive', (p) => {
      if (p.cmd === 'pingresp') show('pings', String(++window.session.pingresp))
    })
    client.on('close', () => show('status', client.state))
    show('status', client.state)
    let received
    const got = new Promise((resolve) => (received = resolve))
    await client.subscribe(topic, { qos: 1 }, (message) => received(message))
    await client.publish(topic, `hello from ${document.title}`, { qos: 1 })
    const message = await got
    show('received', `${message.text()} (QoS ${message.qos})`)
  } catch (err) {
    // The class by its exported name: the minified IIFE renames classes, and err.name with them.
    const exported = Object.keys(lib).find((key) => lib[key] === err.constructor) ?? err.name
    show('error', `${exported} ${err.code}: ${err.message}`)
  }
}
