import { type Page, expect, test } from '@playwright/test'
import { startAedesBroker } from '../support/aedes-broker.js'
import { startFakeBroker } from '../support/fake-broker.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { env, openDemo, openDetails, publish, receivedQos, receivedTexts, recordStatus, uniqueTopic, watchErrors } from './pages.js'

/** Adds a subscription row on the demo page and waits until the broker granted it. */
async function watch(page: Page, filter: string, qos: 0 | 1 | 2 = 0) {
  await page.fill('#filter', filter)
  await page.selectOption('#filter-qos', String(qos))
  await page.click('#subscribe')
  const row = page.locator(`#subscriptions li[data-filter="${filter}"]`)
  await expect(row).toHaveAttribute('data-state', 'active')
  return row
}

test('two tabs exchange messages at QoS 0, 1 and 2', async ({ context }) => {
  const topic = uniqueTopic()
  const a = await context.newPage()
  const b = await context.newPage()
  const errors = [...[a, b].map(watchErrors)]
  // Subscribed at QoS 2, so each message is delivered at the QoS it was published with.
  await openDemo(a, topic, { qos: 2 })
  await openDemo(b, topic, { qos: 2 })

  for (const qos of [0, 1, 2] as const) await publish(a, `A at QoS ${qos}`, { qos })
  await expect(b.locator('#messages li')).toHaveCount(3)
  expect(await receivedTexts(b)).toEqual(['A at QoS 0', 'A at QoS 1', 'A at QoS 2'])
  expect(await receivedQos(b)).toEqual([0, 1, 2])

  for (const qos of [2, 1, 0] as const) await publish(b, `B at QoS ${qos}`, { qos })
  await expect(a.locator('#messages li')).toHaveCount(6)
  expect((await receivedTexts(a)).slice(3)).toEqual(['B at QoS 2', 'B at QoS 1', 'B at QoS 0'])
  expect((await receivedQos(a)).slice(3)).toEqual([2, 1, 0])
  await expect(a.locator('#messages li time').first()).toHaveText(/^\d\d:\d\d:\d\d$/)
  await expect(a.locator('#messages li .topic').first()).toHaveText(topic)
  expect(errors.flat()).toEqual([])
})

test('a retained message reaches a tab that subscribes later', async ({ context }) => {
  const topic = uniqueTopic()
  const a = await context.newPage()
  await openDemo(a, topic, { qos: 1 })
  await publish(a, 'kept for later', { qos: 1, retain: true })
  await expect(a.locator('#messages li')).toHaveCount(1)

  const late = await context.newPage()
  await openDemo(late, topic)
  await expect(late.locator('#messages li')).toHaveCount(1)
  expect(await receivedTexts(late)).toEqual(['kept for later'])
  await publish(a, '', { retain: true }) // clear it
})

test('closing a tab without end() delivers its will to the other tab', async ({ context }) => {
  const topic = uniqueTopic()
  const willTopic = uniqueTopic('will')
  const watcher = await context.newPage()
  await openDemo(watcher, topic)
  const willRow = await watch(watcher, willTopic, 1)

  const leaving = await context.newPage()
  await openDemo(leaving, topic, { will: { topic: willTopic, payload: 'the other tab is gone' } })
  await leaving.close()
  await expect(willRow.locator('.count')).toHaveText('1')
  await expect(willRow.locator('.last')).toHaveText(`last: ${willTopic} = the other tab is gone`)
})

test('a graceful disconnect does not deliver the will', async ({ context }) => {
  const topic = uniqueTopic()
  const willTopic = uniqueTopic('will')
  const watcher = await context.newPage()
  await openDemo(watcher, topic)
  const willRow = await watch(watcher, willTopic)

  const leaving = await context.newPage()
  await openDemo(leaving, topic, { will: { topic: willTopic, payload: 'should not arrive' } })
  await leaving.click('#disconnect')
  await expect(leaving.locator('#status')).toHaveText('closed')
  // A message on the watched topic, sent after, arrives alone.
  await publish(watcher, 'after the disconnect')
  await expect(watcher.locator('#messages li')).toHaveCount(1)
  await expect(willRow.locator('.count')).toHaveText('0')
})

test('each subscription handler sees only the messages its filter matches', async ({ context }) => {
  const base = uniqueTopic()
  const page = await context.newPage()
  await openDemo(page, `${base}/room/temp`)
  for (const filter of [`${base}/+/temp`, `${base}/other/#`]) await watch(page, filter)
  await publish(page, '21.5')
  await expect(page.locator(`#subscriptions li[data-filter="${base}/+/temp"] .count`)).toHaveText('1')
  await expect(page.locator(`#subscriptions li[data-filter="${base}/room/temp"] .count`)).toHaveText('1')
  await expect(page.locator(`#subscriptions li[data-filter="${base}/other/#"] .count`)).toHaveText('0')
})

test('a bad topic shows the error on the page and sends nothing', async ({ context }) => {
  // The page publishes through a proxy that decodes every packet it forwards: the witness of what
  // reached the wire is not the client's own account of it.
  const proxy = await startFaultProxy({ port: Number(new URL(env('E2E_BROKER_URL')).port), witness: true })
  try {
    const topic = uniqueTopic()
    const a = await context.newPage()
    const b = await context.newPage()
    await openDemo(a, topic, { broker: proxy.url })
    // The other tab listens below the topic, where a leaked wildcard PUBLISH would land if a broker
    // passed it on (aedes drops the connection that sent it instead).
    await openDemo(b, `${topic}/#`)
    const history = await recordStatus(a)

    await a.fill('#topic', `${topic}/+`)
    await publish(a, 'must not be sent')
    await expect(a.locator('#error')).toBeVisible()
    await expect(a.locator('#error')).toContainText('InvalidTopicError')

    // A marker sent after it arrives alone, and it is the only PUBLISH the wire carried.
    await a.fill('#topic', `${topic}/marker`)
    await publish(a, 'marker')
    await expect(b.locator('#messages li')).toHaveCount(1)
    expect(await receivedTexts(b)).toEqual(['marker'])
    await expect(a.locator('#error')).toBeHidden()
    const published = (proxy.witness?.log ?? []).flatMap((e) => (e.dir === 'toBroker' && e.packet.cmd === 'publish' ? [e.packet.topic] : []))
    expect(published).toEqual([`${topic}/marker`])
    expect(proxy.witness?.errors).toEqual([])
    // The connection that would have carried a wildcard PUBLISH never dropped.
    expect(await history()).toEqual(['connected'])
    expect(proxy.accepted).toBe(1)
  } finally {
    await proxy.close()
  }
})

// ---- the showcase: settings, status, message fields, chart, guards ----

/** Fills the settings form of a demo page (not yet connected) and presses Connect. */
async function connectWith(page: Page, fields: Record<string, string>, checks: Record<string, boolean> = {}): Promise<void> {
  for (const [id, value] of Object.entries(fields)) {
    await openDetails(page, `#${id}`)
    if (await page.locator(`#${id}`).evaluate((el) => el.tagName === 'SELECT')) await page.selectOption(`#${id}`, value)
    else await page.fill(`#${id}`, value)
  }
  for (const [id, checked] of Object.entries(checks)) {
    await openDetails(page, `#${id}`)
    await page.setChecked(`#${id}`, checked)
  }
  await page.click('#connect')
}

const demoAt = (broker: string, base = env('E2E_DEMO_URL')) => `${base}?${new URLSearchParams({ broker })}`

test('each tab gets a random client id of its own, and the form settings are what the CONNECT carries', async ({ context }) => {
  const broker = await startFakeBroker()
  try {
    const [a, b] = [await context.newPage(), await context.newPage()]
    await a.goto(demoAt(broker.url))
    await b.goto(demoAt(broker.url))
    const ids = [await a.inputValue('#client-id'), await b.inputValue('#client-id')]
    for (const id of ids) expect(id).toMatch(/^demo-[0-9a-f]{8}$/)
    expect(ids[0]).not.toBe(ids[1])

    const opened = broker.nextConnection()
    await connectWith(
      a,
      { username: 'alice', password: 'secret', keepalive: '17', 'will-topic': 'e2e/will', 'will-payload': 'bye', 'will-qos': '2' },
      { clean: false, 'will-retain': true },
    )
    const connect = (await (await opened).waitFor('connect')) as unknown as Record<string, unknown> & { password: Buffer; will: Record<string, unknown> & { payload: Buffer } }
    expect(connect).toMatchObject({ clientId: ids[0], protocolVersion: 4, username: 'alice', clean: false, keepalive: 17 })
    expect(connect.password.toString()).toBe('secret')
    expect(connect.will).toMatchObject({ topic: 'e2e/will', qos: 2, retain: true })
    expect(connect.will.payload.toString()).toBe('bye')
    await expect(a.locator('#status')).toHaveText('connected')
    await expect(a.locator('#shown-client-id')).toHaveText(ids[0] as string)
    // The settings went out in the CONNECT: they cannot change under a running client.
    await expect(a.locator('#client-id')).toBeDisabled()
  } finally {
    await broker.close()
  }
})

for (const [build, urlVar] of [['dev server', 'E2E_DEMO_URL'], ['production build', 'E2E_DEMO_PREVIEW_URL']] as const) {
  test(`a broker that checks credentials refuses a wrong password, and the status panel names the error's class (${build})`, async ({ page }) => {
    const broker = await startAedesBroker({ port: 0 })
    broker.aedes.authenticate = (_client, username, password, done) => done(null, username === 'alice' && password?.toString() === 'secret')
    try {
      await page.goto(demoAt(broker.url, env(urlVar)))
      await connectWith(page, { username: 'alice', password: 'wrong' })
      await expect(page.locator('#status')).toHaveText('disconnected')
      await expect(page.locator('#last-error')).toHaveText(/^ConnectionRefusedError: /)
      // A connection error is the status panel's: the publish panel's own error line stays empty.
      await expect(page.locator('#error')).toBeHidden()

      await page.click('#disconnect')
      await expect(page.locator('#status')).toHaveText('closed')
      await connectWith(page, { password: 'secret' })
      await expect(page.locator('#status')).toHaveText('connected')
      await expect(page.locator('#last-error')).toBeHidden()

      // A caller error is the publish panel's, named by its class even in a minified build.
      await page.fill('#topic', 'a/+')
      await publish(page, 'never sent')
      await expect(page.locator('#error')).toHaveText(/^InvalidTopicError: /)
      await expect(page.locator('#last-error')).toBeHidden()
    } finally {
      await broker.close()
    }
  })
}

test('while the broker is down the status counts down to the next attempt and queues a QoS 1 message, which goes out once it is back', async ({ page }) => {
  let broker = await startAedesBroker({ port: 0 })
  const port = broker.port
  try {
    const topic = uniqueTopic()
    await openDemo(page, topic, { qos: 1, broker: broker.url, params: { minDelay: '3000' } })
    await expect(page.locator('#reconnect')).toHaveText('–')
    await broker.close()

    await expect(page.locator('#status')).toHaveText('reconnecting')
    const countdown = page.locator('#reconnect')
    await expect(countdown).toHaveText(/^attempt \d+ in \d+\.\d s$/)
    const first = await countdown.textContent()
    // The countdown moves between events: the panel reads the client again as time passes.
    await expect.poll(() => countdown.textContent()).not.toBe(first)

    await publish(page, 'sent while the broker was down', { qos: 1 })
    await expect(page.locator('#queued')).toHaveText('1')
    await expect(page.locator('#messages li')).toHaveCount(0)

    broker = await startAedesBroker({ port })
    const arrived = new Promise<string>((resolve) => broker.aedes.on('publish', (packet, client) => client && resolve(packet.payload.toString())))
    await expect(page.locator('#status')).toHaveText('connected', { timeout: 20_000 })
    expect(await arrived).toBe('sent while the broker was down')
    // The page subscribed again before the queue went out, so it gets its own message back.
    await expect(page.locator('#messages li .payload')).toHaveText(['sent while the broker was down'])
    await expect(page.locator('#queued')).toHaveText('0')
    await expect(page.locator('#in-flight')).toHaveText('0')
    await expect(page.locator('#reconnect')).toHaveText('–')
  } finally {
    await broker.close()
  }
})

test('a received message shows its topic, QoS, retain and dup flags and MQTT 5 properties; the page publishes MQTT 5 properties', async ({ page }) => {
  const topic = 'e2e/fields'
  const broker = await startFakeBroker({
    protocolVersion: 5,
    onPacket: (packet, conn) => {
      if (packet.cmd === 'connect') conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: false })
      if (packet.cmd !== 'subscribe') return
      conn.send({ cmd: 'suback', messageId: packet.messageId, granted: packet.subscriptions.map((s) => s.qos) })
      // As a broker sends a message again after a lost connection: DUP set, here retained too.
      conn.send({
        cmd: 'publish',
        topic,
        payload: Buffer.from('once more'),
        qos: 1,
        dup: true,
        retain: true,
        messageId: 7,
        properties: { contentType: 'text/plain', userProperties: { room: 'kitchen' }, correlationData: Buffer.from([1, 2, 255]) },
      })
    },
  })
  try {
    await page.goto(`${demoAt(broker.url)}&topic=${topic}`)
    await page.selectOption('#qos', '1')
    const opened = broker.nextConnection()
    await connectWith(page, { version: '5' })
    const conn = await opened
    expect(await conn.waitFor('connect')).toMatchObject({ protocolVersion: 5 })

    const item = page.locator('#messages li')
    await expect(item).toHaveCount(1)
    await expect(item.locator('.topic')).toHaveText(topic)
    await expect(item.locator('.payload')).toHaveText('once more')
    await expect(item.locator('.flag')).toHaveText(['QoS 1', 'retain', 'dup'])
    await expect(item.locator('[data-property="contentType"] dd')).toHaveText('text/plain')
    await expect(item.locator('[data-property="userProperties"] dd')).toHaveText('room=kitchen')
    await expect(item.locator('[data-property="correlationData"] dd')).toHaveText('01 02 ff')

    await openDetails(page, '#content-type')
    await page.fill('#content-type', 'application/json')
    await page.fill('#user-property', 'unit=celsius')
    await publish(page, '{"t":21.5}', { qos: 0 })
    const sent = (await conn.waitFor('publish')) as unknown as { topic: string; properties: Record<string, unknown> }
    expect(sent.topic).toBe(topic)
    expect(sent.properties).toMatchObject({ contentType: 'application/json', userProperties: { unit: 'celsius' } })
  } finally {
    await broker.close()
  }
})

test('the rate chart draws the messages on its canvas', async ({ context }) => {
  const topic = uniqueTopic()
  const page = await context.newPage()
  await openDemo(page, topic)
  const pixels = () => page.locator('#rate').evaluate((c) => (c as HTMLCanvasElement).toDataURL())
  const empty = await pixels()
  for (let i = 0; i < 5; i++) await publish(page, `m${i}`)
  await expect(page.locator('#messages li')).toHaveCount(5)
  // Drawn once a second: the bars appear with the next second.
  await expect.poll(pixels).not.toBe(empty)
  await expect(page.locator('#rate-peak')).not.toHaveText('0')
})

test('Connect twice makes one client: the broker sees one connection, and the page says why', async ({ page }) => {
  const broker = await startAedesBroker({ port: 0 })
  const ids: string[] = []
  broker.aedes.on('client', (client) => ids.push(client.id))
  try {
    await page.goto(`${demoAt(broker.url)}&topic=${encodeURIComponent(uniqueTopic())}`)
    // Two submits in one go, as a double Enter would make, before the button could be disabled.
    await page.locator('#settings').evaluate((form) => {
      ;(form as HTMLFormElement).requestSubmit()
      ;(form as HTMLFormElement).requestSubmit()
    })
    await expect(page.locator('#settings-note')).toHaveText(/^Already connected as demo-[0-9a-f]{8} \((connecting|connected)\): press Disconnect first/)
    await expect(page.locator('#status')).toHaveText('connected')
    await expect(page.locator('#subscriptions li')).toHaveAttribute('data-state', 'active')
    // A round trip through the broker after both submits: a second client would have connected by now.
    await publish(page, 'marker')
    await expect(page.locator('#messages li .payload')).toHaveText(['marker'])
    expect(ids).toHaveLength(1)
    expect(broker.aedes.connectedClients).toBe(1)
  } finally {
    await broker.close()
  }
})

test('Publish and Subscribe before Connect say so on the page and open no connection', async ({ page }) => {
  const broker = await startFakeBroker()
  try {
    await page.goto(demoAt(broker.url))
    await page.click('#publish')
    await expect(page.locator('#error')).toHaveText('Not connected: press Connect first, then Publish.')
    await page.click('#subscribe')
    await expect(page.locator('#subscribe-error')).toHaveText('Not connected: press Connect first, then Subscribe.')
    await expect(page.locator('#status')).toHaveText('not connected')
    expect(broker.connections).toHaveLength(0)
  } finally {
    await broker.close()
  }
})

test('the script-tag page: Connect twice makes one client, Publish before Connect says so, and Disconnect ends the client', async ({ page }) => {
  const broker = await startAedesBroker({ port: 0 })
  const ids: string[] = []
  broker.aedes.on('client', (client) => ids.push(client.id))
  const gone = new Promise<void>((resolve) => broker.aedes.on('clientDisconnect', () => resolve()))
  try {
    const errors = watchErrors(page)
    const topic = uniqueTopic()
    await page.goto(`${env('E2E_DEMO_URL')}script-tag.html?broker=${encodeURIComponent(broker.url)}`)
    await page.fill('#topic', topic)
    await page.click('#publish')
    await expect(page.locator('#note')).toHaveText('Not connected: press Connect first, then Publish.')

    await page.locator('#connect').evaluate((button) => {
      ;(button as HTMLButtonElement).click()
      ;(button as HTMLButtonElement).click()
    })
    await expect(page.locator('#status')).toHaveAttribute('data-subscribed', 'yes')
    await expect(page.locator('#note')).toBeHidden()
    await page.click('#publish')
    await expect(page.locator('#messages li')).toHaveText([`${topic}: Hello from a script tag`])
    expect(ids).toHaveLength(1)

    await page.click('#disconnect')
    await expect(page.locator('#status')).toHaveText('closed')
    await gone
    await expect(page.locator('#connect')).toBeEnabled()
    await page.click('#publish')
    await expect(page.locator('#note')).toHaveText('Not connected: press Connect first, then Publish.')
    expect(errors).toEqual([])
  } finally {
    await broker.close()
  }
})
