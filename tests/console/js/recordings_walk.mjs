// Record a page with posthog-js (loaded only through the snippet from this server's /static/array.js) in Debian's
// headless Chromium, then sign in to the console, open the recording from the Recordings list and play it in the
// console's rrweb-player; report what the player's iframe shows at the end. Driven by the Python test over
// stdin/stdout (one JSON object a line): prints {step: "recorded", ...} once /s/ acknowledged the final state,
// waits for one stdin line (the test flushed ingestion), prints {step: "done", report}.
// Usage: node recordings_walk.mjs '<json {pageUrl, apiHost, baseUrl, email, password, projectId, screenshots}>'
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import readline from 'node:readline'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const args = JSON.parse(process.argv[2])
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]()
const say = (message) => console.log(JSON.stringify(message))
const shot = async (page, name) => {
  const path = `${args.screenshots}/${name}.png`
  await page.screenshot({ path, fullPage: true })
  return path
}

function snapshotTimestamps (request) {
  const body = request.postDataBuffer()
  if (!body) return []
  const raw = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body
  const events = JSON.parse(raw.toString('utf8'))
  return (Array.isArray(events) ? events : [events]).flatMap((event) =>
    (event.properties?.$snapshot_data || []).map((item) => item.timestamp))
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
})
try {
  // 1. The website, recorded by posthog-js.
  const site = await browser.newPage({ viewport: { width: 1000, height: 700 } })
  const acknowledged = []
  site.on('response', (response) => {
    const request = response.request()
    if (request.method() === 'POST' && request.url().startsWith(args.apiHost + '/s/') && response.status() === 200) {
      acknowledged.push(Math.max(0, ...snapshotTimestamps(request)))
    }
  })
  await site.goto(args.pageUrl)
  await site.waitForFunction(() => window.__loaded === true && window.posthog.sessionRecordingStarted(), null,
    { timeout: 20000 })
  await site.waitForTimeout(300)
  await site.click('#buy')
  await site.type('#name', 'Ada Lovelace', { delay: 15 })
  await site.click('#buy')
  await site.waitForFunction(() => document.querySelector('h1').textContent.startsWith('Thanks'))
  await site.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50))))
  const mark = await site.evaluate(() => Date.now())
  const deadline = Date.now() + 15000
  while (Date.now() < deadline && !acknowledged.some((timestamp) => timestamp >= mark)) {
    await site.mouse.move(20 + Math.random() * 200, 20 + Math.random() * 200)
    await site.waitForTimeout(200)
  }
  const final = await site.evaluate(() => ({
    text: document.body.innerText,
    heading: document.querySelector('h1').textContent,
    scriptRan: window.__pageScriptRan === true,
  }))
  const sessionId = await site.evaluate(() => window.posthog.get_session_id())
  await site.close()
  say({ step: 'recorded', sessionId, final, flushed: acknowledged.some((t) => t >= mark) })
  await lines.next()

  // 2. The console: sign in, the list, the player.
  const report = { screenshots: {}, cspMessages: [], consoleErrors: [] }
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) report.cspMessages.push(m.text())
    else if (m.type() === 'error') report.consoleErrors.push(m.text())
  })
  const project = `${args.baseUrl}/console/project/${args.projectId}`
  await page.goto(`${project}/recordings/`)
  await page.getByLabel('Email').fill(args.email)
  await page.getByLabel('Password').fill(args.password)
  await page.keyboard.press('Enter')
  await page.waitForURL(`${project}/recordings/`)
  const row = page.locator(`tr[data-session-id="${sessionId}"]`)
  report.row = {
    clicks: await row.locator('.clicks').innerText(),
    keys: await row.locator('.keys').innerText(),
    url: await row.locator('.url').innerText(),
    duration: await row.locator('.duration').innerText(),
  }
  report.screenshots.recordings = await shot(page, 'recordings')

  await row.getByRole('link').focus()
  await page.keyboard.press('Enter') // keyboard: open the recording
  await page.waitForURL(`${project}/recordings/${sessionId}/`)
  report.playerCsp = (await page.request.get(page.url())).headers()['content-security-policy']
  const started = Date.now()
  await page.locator('#player[data-state="finished"]').waitFor({ timeout: 90000 })
  report.playedMs = Date.now() - started
  report.status = await page.locator('#player-status').innerText()
  report.replayed = await page.evaluate(() => {
    const iframe = document.querySelector('#player iframe')
    const doc = iframe.contentDocument
    const styled = doc.querySelector('#buy')
    return {
      sandbox: iframe.getAttribute('sandbox'),
      text: doc.body.innerText,
      heading: doc.querySelector('h1')?.textContent ?? null,
      value: doc.querySelector('#name')?.value ?? null,
      scriptRan: iframe.contentWindow.__pageScriptRan === true,
      posthogLoaded: typeof iframe.contentWindow.posthog !== 'undefined',
      buyColor: styled ? iframe.contentWindow.getComputedStyle(styled).backgroundColor : null,
      statusColor: iframe.contentWindow.getComputedStyle(doc.querySelector('#status')).color,
    }
  })
  report.screenshots.player = await shot(page, 'player')
  say({ step: 'done', report })
} finally {
  await browser.close()
}
