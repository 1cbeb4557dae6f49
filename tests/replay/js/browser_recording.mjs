// Record a session with posthog-js (loaded only through the snippet from api_host + /static/array.js) in Debian's
// headless Chromium, then, in the same browser, replay what the server gives back with rrweb's Replayer.
// Usage: node browser_recording.mjs '<json {pageUrl, apiHost, timeoutMs}>'
// Protocol (one JSON object a line): prints {phase: "recorded", ...} once the last interaction has been
// acknowledged by /s/; then reads one line from stdin, the path of a JSON file of rrweb events (as the player
// gets them: in time order, compressed ones decompressed); prints {phase: "replayed", ...} and exits.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { gunzipSync } from 'node:zlib'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')
const RRWEB = join(dirname(require.resolve('rrweb')), 'rrweb.umd.cjs') // the UMD build: a `rrweb` global

const { pageUrl, apiHost, timeoutMs } = JSON.parse(process.argv[2])
const say = (object) => process.stdout.write(JSON.stringify(object) + '\n')

// What a /s/ POST carried: posthog-js sends gzip of a JSON array of $snapshot events (compression=gzip-js).
function snapshotTimestamps(request) {
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
const requests = []
const acknowledged = [] // latest rrweb timestamp of each /s/ request answered 200
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } })
  const page = await context.newPage()
  page.on('request', (request) => requests.push({ method: request.method(), url: request.url() }))
  page.on('response', (response) => {
    const request = response.request()
    if (request.method() === 'POST' && request.url().startsWith(apiHost + '/s/') && response.status() === 200) {
      acknowledged.push(Math.max(0, ...snapshotTimestamps(request)))
    }
  })
  await page.goto(pageUrl)
  await page.waitForFunction(() => window.__loaded === true && window.posthog.sessionRecordingStarted(), null,
    { timeout: 20000 })
  await page.waitForTimeout(300) // a moment of page life before the first interaction
  await page.click('#buy')
  await page.type('#name', 'Ada Lovelace', { delay: 15 })
  await page.click('#buy')
  // The page changed its text in response; once rrweb has emitted that mutation (a frame later), any event
  // recorded after `mark` that /s/ acknowledged means the buffer holding the final state went out before it.
  await page.waitForFunction(() => document.querySelector('h1').textContent.startsWith('Thanks'))
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50))))
  const mark = await page.evaluate(() => Date.now())
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !acknowledged.some((timestamp) => timestamp >= mark)) {
    await page.mouse.move(20 + Math.random() * 200, 20 + Math.random() * 200)
    await page.waitForTimeout(200)
  }
  const final = await page.evaluate(() => ({
    text: document.body.innerText,
    heading: document.querySelector('h1').textContent,
    value: document.querySelector('#name').value,
  }))
  const state = await page.evaluate(() => ({
    version: window.posthog.version,
    sessionId: window.posthog.get_session_id(),
    recording: window.posthog.sessionRecordingStarted(),
  }))
  say({ phase: 'recorded', state, final, mark, flushed: acknowledged.some((t) => t >= mark), requests })

  const lines = createInterface({ input: process.stdin })
  const eventsPath = await new Promise((resolve) => lines.once('line', resolve))
  lines.close()
  const events = JSON.parse(readFileSync(eventsPath, 'utf8'))

  // rrweb's player, from npm, in a blank page of the same browser; nothing of the SDK is involved.
  const player = await context.newPage()
  await player.setContent('<!doctype html><html><body><div id="player"></div></body></html>')
  await player.addScriptTag({ path: RRWEB })
  const replayed = await player.evaluate((events) => {
    const replayer = new window.rrweb.Replayer(events, {
      root: document.getElementById('player'),
      mouseTail: false,
      triggerFocus: false,
      showWarning: false,
    })
    const { totalTime } = replayer.getMetaData()
    replayer.pause(totalTime) // every event applied: the page as it was at the end of the recording
    const doc = replayer.iframe.contentDocument
    return {
      totalTime,
      text: doc.body.innerText,
      heading: doc.querySelector('h1')?.textContent ?? null,
      value: doc.querySelector('#name')?.value ?? null,
    }
  }, events)
  say({ phase: 'replayed', replayed })
} finally {
  await browser.close()
}
