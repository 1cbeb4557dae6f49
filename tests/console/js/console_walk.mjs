// Walk the web console in Debian's headless Chromium via playwright-core, driven by the Python test over
// stdin/stdout (one JSON object a line): sign in, wait on Activity for an event the test captures and flushes,
// toggle a flag and read its evaluation, open Settings; a screenshot of each page.
// Usage: node console_walk.mjs '<json {baseUrl, email, password, projectId, flagKey, screenshots}>'
import { createRequire } from 'node:module'
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
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
})
const report = { screenshots: {}, cspViolations: [], consoleErrors: [] }
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()) })
  const base = args.baseUrl
  const project = `${base}/console/project/${args.projectId}`

  await page.goto(`${base}/console/`)
  report.loginUrl = page.url()
  await page.getByLabel('Email').fill(args.email)
  await page.getByLabel('Password').fill(args.password)
  report.screenshots.login = await shot(page, 'login')
  await page.keyboard.press('Enter') // keyboard: submit from the password field
  await page.waitForURL(`${project}/activity/`)
  report.afterLogin = page.url()

  say({ step: 'ready' })
  await lines.next() // the test captured an event through /e/ and flushed ingestion
  const flushedAt = Date.now()
  const row = page.locator('li[data-uuid] .event-name', { hasText: args.eventName })
  await row.first().waitFor({ timeout: 10000 })
  report.eventSeenAfterMs = Date.now() - flushedAt
  await page.locator('li[data-uuid] summary', { hasText: args.eventName }).first().focus()
  await page.keyboard.press('Enter') // <details> opens from the keyboard
  report.propertyShown = await page.locator('li[data-uuid] details[open] table').first().innerText()
  report.screenshots.activity = await shot(page, 'activity')

  await page.getByRole('link', { name: 'Feature flags' }).click()
  await page.getByLabel('Distinct id').fill('user-1')
  await page.getByRole('button', { name: 'Evaluate' }).click()
  await page.locator(`#eval-${args.flagKey} .value`).waitFor()
  report.valueBefore = await page.locator(`#eval-${args.flagKey} .value`).innerText()
  report.screenshots.flags_before = await shot(page, 'flags-before')
  await page.getByRole('button', { name: `Disable ${args.flagKey}` }).click()
  await page.waitForURL(`${project}/flags/`)
  report.statusAfter = await page.locator(`#flag-${args.flagKey} .status`).innerText()
  const answer = await page.request.post(`${base}/flags/?v=2`, {
    data: { api_key: args.token, distinct_id: 'user-1' },
  })
  report.flagsEndpointAfter = (await answer.json()).flags[args.flagKey].enabled
  await page.getByLabel('Distinct id').fill('user-1')
  await page.getByRole('button', { name: 'Evaluate' }).click()
  await page.locator(`#eval-${args.flagKey} .value`).waitFor()
  report.valueAfter = await page.locator(`#eval-${args.flagKey} .value`).innerText()
  report.screenshots.flags_after = await shot(page, 'flags-after')

  await page.getByRole('link', { name: 'Settings' }).click()
  await page.getByLabel('Label').fill('from the browser')
  await page.getByLabel('query:read').check()
  await page.getByRole('button', { name: 'Create key' }).click()
  report.newKeyShown = (await page.locator('#new-key').innerText()).startsWith('phx_')
  report.screenshots.settings = await shot(page, 'settings')
  say({ step: 'done', report })
} finally {
  await browser.close()
}
