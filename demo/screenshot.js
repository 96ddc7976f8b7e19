import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium } from '@playwright/test'
import { createServer } from 'vite'
import { startAedesBroker } from '../test/support/aedes-broker.js'

// `npm run screenshot`: docs/demo-two-tabs.png, the README's picture of the demo, taken from the
// page as it is now so that it stays true. It starts a broker and the demo's dev server on free
// ports, opens two tabs of the demo side by side (two frames of one window), connects both,
// sends some traffic between them, and writes one small PNG.

const output = fileURLToPath(new URL('../docs/demo-two-tabs.png', import.meta.url))
const WIDTH = 1280
const HEIGHT = 860
/** Each tab drawn smaller, as a browser zoomed out would, so that more of the page fits the picture. */
const ZOOM = 0.8

// The browser as playwright.config.ts finds it: CHROMIUM_PATH, else the system Chromium, else Playwright's own.
const systemChromium = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined)

const broker = await startAedesBroker({ port: 0 })
const vite = await createServer({
  configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
  // Nothing may reload a tab mid-picture: no file watching, no live reload, no late dependency scan.
  server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: [] },
  logLevel: 'warn',
})
await vite.listen()
const browser = await chromium.launch({
  ...(systemChromium ? { executablePath: systemChromium } : {}),
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run'],
})

try {
  const base = vite.resolvedUrls?.local[0]
  const tab = (n) => `${base}?${new URLSearchParams({ broker: broker.url, topic: 'home/kitchen' })}#tab${n}`
  const page = await browser.newPage({ viewport: { width: WIDTH, height: HEIGHT } })
  await page.setContent(frameset([tab(1), tab(2)]))
  const [a, b] = [1, 2].map((n) => page.frameLocator(`#tab${n}`))
  for (const f of [a, b]) {
    // Subscribed at QoS 2, so each message arrives at the QoS it was sent with.
    // The page's script has run once it filled in a client id.
    await f.locator('#client-id').evaluate(async (field) => {
      for (let i = 0; i < 200 && !field.value; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    })
    await f.locator('#qos').selectOption('2')
    await f.locator('#connect').click()
    await f.locator('#subscriptions li[data-state="active"][data-granted="2"]').waitFor()
  }

  // The second tab also watches the whole house, with a handler of its own.
  await b.locator('#filter').fill('home/#')
  await b.locator('#filter-qos').selectOption('2')
  await b.locator('#subscribe').click()
  await b.locator('#subscriptions li[data-filter="home/#"][data-state="active"]').waitFor()

  const say = async (f, text, qos, retain = false) => {
    await f.locator('#qos').selectOption(String(qos))
    await f.locator('#retain').setChecked(retain)
    await f.locator('#message').fill(text)
    await f.locator('#publish').click()
  }
  await say(a, 'kettle on', 1)
  await say(a, '{"temp": 21.5}', 0)
  await say(b, 'two sugars, please', 2)
  await say(a, 'tea is ready', 1, true)
  for (let i = 0; i < 6; i++) await say(a, `ping ${i + 1}`, 0)
  for (const f of [a, b]) await f.locator('#messages li').nth(9).waitFor()
  // The chart draws once a second: wait for the bars, then for a quiet moment.
  for (const f of [a, b]) await f.locator('#rate-peak').filter({ hasNotText: /^0$/ }).waitFor()
  // Clicks scrolled the tabs: each shows its top again, its list its newest messages.
  for (const f of [a, b]) await f.locator('html').evaluate(() => window.scrollTo(0, 0))

  await mkdir(new URL('../docs/', import.meta.url), { recursive: true })
  await page.screenshot({ path: output })
  console.log(`wrote ${output}`)
} finally {
  await browser.close()
  await vite.close()
  await broker.close()
}

/** A window holding two tabs side by side, each under a bar with its address. */
function frameset(urls) {
  const pane = (url, n) => `
    <figure>
      <figcaption><span class="dots">● ● ●</span> Tab ${n} <code>${new URL(url).host}/</code></figcaption>
      <div class="view"><iframe id="tab${n}" src="${url}"></iframe></div>
    </figure>`
  return `<!doctype html><html><head><style>
    body { margin: 0; background: #cbd2d9; display: flex; gap: 12px; padding: 12px; height: 100vh; box-sizing: border-box; font: 13px system-ui, sans-serif; }
    figure { margin: 0; flex: 1; display: flex; flex-direction: column; border-radius: 8px; overflow: hidden; box-shadow: 0 2px 8px rgba(0,0,0,0.15); background: #fff; min-width: 0; }
    .view { flex: 1; position: relative; overflow: hidden; }
    figcaption { padding: 6px 10px; background: #e4e7eb; color: #3e4c59; display: flex; gap: 10px; align-items: center; }
    .dots { color: #9aa5b1; letter-spacing: 2px; }
    code { background: #fff; border-radius: 4px; padding: 1px 8px; color: #616e7c; flex: 1; }
    iframe { border: 0; position: absolute; top: 0; left: 0; width: ${100 / ZOOM}%; height: ${100 / ZOOM}%; transform: scale(${ZOOM}); transform-origin: 0 0; }
  </style></head><body>${urls.map((url, i) => pane(url, i + 1)).join('')}</body></html>`
}
