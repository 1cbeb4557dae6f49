// Load posthog-js (the npm bundle, unmodified) in Debian's headless Chromium via playwright-core and
// report what it did against our server. Usage: node browser_flags.mjs '<json {pageUrl, apiHost, token, flags}>'
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const { pageUrl, apiHost, token, flags } = JSON.parse(process.argv[2])
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
})
const requests = []
const failures = []
const consoleErrors = []
try {
  const page = await browser.newPage()
  page.on('response', (response) => {
    if (!response.url().startsWith(apiHost)) return
    const entry = `${response.request().method()} ${response.url().slice(apiHost.length)} ${response.status()}`
    requests.push(entry)
    if (response.status() >= 400) failures.push(entry)
  })
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(apiHost)) failures.push(`${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`)
  })
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text())
  })
  await page.goto(pageUrl)
  await page.waitForFunction(() => window.__flagsLoaded === true, null, { timeout: 20000 })
  const answers = await page.evaluate((keys) => {
    const out = {}
    for (const key of keys) out[key] = { enabled: window.posthog.isFeatureEnabled(key), value: window.posthog.getFeatureFlag(key) }
    return out
  }, flags)
  const remoteConfig = await page.evaluate((t) => (window._POSTHOG_REMOTE_CONFIG || {})[t] || null, token)
  const distinctId = await page.evaluate(() => window.posthog.get_distinct_id())
  await page.evaluate(() => window.posthog.capture('browser test event', { source: 'chromium' }))
  // Let the request queue flush (request_batching is off, but capture is still async).
  await page.waitForTimeout(1500)
  console.log(JSON.stringify({ answers, remoteConfig, distinctId, requests, failures, consoleErrors }))
} finally {
  await browser.close()
}
