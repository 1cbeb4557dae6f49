// Open a page that loads posthog-js only through the HTML snippet (script src = api_host + /static/array.js) in
// Debian's headless Chromium via playwright-core; click and type on it; report every request the page made.
// Usage: node browser_snippet.mjs '<json {pageUrl, apiHost, waitForPath, timeoutMs}>'
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const { pageUrl, apiHost, waitForPath, timeoutMs } = JSON.parse(process.argv[2])
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
})
const requests = []
const responses = []
const consoleErrors = []
try {
  const page = await browser.newPage()
  page.on('request', (request) => requests.push({ method: request.method(), url: request.url() }))
  page.on('response', (response) => {
    const headers = response.headers()
    responses.push({
      method: response.request().method(),
      url: response.url(),
      status: response.status(),
      contentType: headers['content-type'] || '',
      cors: headers['access-control-allow-origin'] || '',
    })
  })
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text())
  })
  await page.goto(pageUrl)
  await page.waitForFunction(() => window.__loaded === true, null, { timeout: 20000 })
  await page.click('#buy')
  await page.type('#name', 'hello replay', { delay: 20 })
  await page.click('#buy')
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline && !requests.some((r) => r.url.startsWith(apiHost + waitForPath))) {
    await page.mouse.move(10 + Math.random() * 100, 10 + Math.random() * 100)
    await page.waitForTimeout(250)
  }
  await page.waitForTimeout(500)
  const state = await page.evaluate(() => ({
    version: window.posthog.version,
    sessionId: window.posthog.get_session_id(),
    recording: window.posthog.sessionRecordingStarted(),
  }))
  console.log(JSON.stringify({ state, requests, responses, consoleErrors }))
} finally {
  await browser.close()
}
