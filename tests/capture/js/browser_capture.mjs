// Load posthog-js (the npm bundle, unmodified) in Debian's headless Chromium via playwright-core, capture a
// few events with request batching on, and report what reached our server.
// Usage: node browser_capture.mjs '<json {pageUrl, apiHost}>'
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const { pageUrl, apiHost } = JSON.parse(process.argv[2])
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
})
const requests = []
const failures = []
try {
  const page = await browser.newPage()
  page.on('request', (request) => {
    if (!request.url().startsWith(apiHost)) return
    const headers = request.headers()
    requests.push({ method: request.method(), path: request.url().slice(apiHost.length), contentType: headers['content-type'] || '' })
  })
  page.on('response', (response) => {
    if (response.url().startsWith(apiHost) && response.status() >= 400) failures.push(`${response.url()} ${response.status()}`)
  })
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(apiHost)) failures.push(`${request.url()} failed: ${request.failure()?.errorText}`)
  })
  await page.goto(pageUrl)
  await page.waitForFunction(() => window.__loaded === true, null, { timeout: 20000 })
  const sent = await page.evaluate(() => {
    const out = []
    for (let i = 0; i < 3; i++) {
      const result = window.posthog.capture('js event', { i, nested: { list: [1, 'two'] } })
      out.push({ uuid: result.uuid, timestamp: result.timestamp ? new Date(result.timestamp).toISOString() : null })
    }
    window.posthog.identify('js-user', { email: 'js@example.com' })
    return out
  })
  const distinctId = await page.evaluate(() => window.posthog.get_distinct_id())
  await page.waitForTimeout(2500) // the request queue flushes every 250 ms here
  console.log(JSON.stringify({ sent, distinctId, requests, failures }))
} finally {
  await browser.close()
}
