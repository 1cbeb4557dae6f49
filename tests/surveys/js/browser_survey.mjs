// posthog-js (the npm bundle, unmodified) in Debian's headless Chromium via playwright-core: load a page, wait for
// the popover survey posthog-js renders from what our server serves, answer its open question, submit.
// Usage: node browser_survey.mjs '<json {pageUrl, apiHost, surveyId, answer, expectSurvey}>'
// Prints one JSON line: {shown, submitted, distinctId, requests, failures, servedSurveys}.
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const { pageUrl, apiHost, surveyId, answer, expectSurvey } = JSON.parse(process.argv[2])
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
})
const requests = []
const failures = []
let servedSurveys = null
let shown = false
let submitted = false
try {
  const page = await browser.newPage()
  page.on('response', async (response) => {
    if (!response.url().startsWith(apiHost)) return
    const entry = `${response.request().method()} ${response.url().slice(apiHost.length)} ${response.status()}`
    requests.push(entry)
    if (response.status() >= 400) failures.push(entry)
    if (response.url().includes('/api/surveys/')) {
      try { servedSurveys = (await response.json()).surveys.map((s) => s.id) } catch (e) { failures.push(`surveys body: ${e}`) }
    }
  })
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(apiHost)) failures.push(`${request.method()} ${request.url()} failed: ${request.failure()?.errorText}`)
  })
  await page.goto(pageUrl)
  const textarea = page.locator(`.PostHogSurvey-${surveyId} textarea`)
  if (expectSurvey) {
    await textarea.waitFor({ state: 'visible', timeout: 20000 })
    shown = true
    await textarea.fill(answer)
    await page.locator(`.PostHogSurvey-${surveyId} button.form-submit`).click()
    submitted = true
  } else {
    // Give posthog-js the time it takes to fetch and show a survey, then check none appeared.
    for (let waited = 0; servedSurveys === null && waited < 20000; waited += 200) await page.waitForTimeout(200)
    await page.waitForTimeout(3000)
    shown = (await page.locator(`[class^="PostHogSurvey-"]`).count()) > 0
  }
  await page.waitForTimeout(1500) // let the `survey sent` request go out
  const distinctId = await page.evaluate(() => window.posthog.get_distinct_id())
  console.log(JSON.stringify({ shown, submitted, distinctId, requests, failures, servedSurveys }))
} finally {
  await browser.close()
}
