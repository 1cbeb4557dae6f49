// The console's SQL page in Debian's headless Chromium via playwright-core: sign in, run a query with the
// keyboard (Ctrl+Enter), read its table and its drawn chart (datasets Chart.js holds, non-blank canvas pixels),
// switch it to bars, run a bad query and read the marked error, export CSV and download it; screenshots.
// Usage: node sql_walk.mjs '<json {baseUrl, email, password, projectId, query, badQuery, screenshots}>'
import { createRequire } from 'node:module'
import fs from 'node:fs'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const args = JSON.parse(process.argv[2])
const shot = async (page, name) => {
  const path = `${args.screenshots}/${name}.png`
  await page.screenshot({ path, fullPage: true })
  return path
}
const chartState = (page) => page.evaluate(() => {
  const canvas = document.getElementById('sql-chart')
  const chart = canvas && window.Chart && window.Chart.getChart(canvas)
  if (!chart) return null
  const { width, height } = canvas
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data
  let painted = 0
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++
  return {
    type: chart.config.type,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data, hidden: !!d.hidden })),
    painted,
    size: [width, height],
  }
})
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
})
const report = { screenshots: {}, consoleErrors: [] }
try {
  const context = await browser.newContext({ viewport: { width: 1300, height: 900 }, acceptDownloads: true })
  const page = await context.newPage()
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()) })
  page.on('response', (r) => { if (r.status() >= 400) report.consoleErrors.push(`${r.status()} ${r.url()}`) })
  const base = args.baseUrl
  const sqlUrl = `${base}/console/project/${args.projectId}/sql/`

  await page.goto(sqlUrl)
  await page.getByLabel('Email').fill(args.email)
  await page.getByLabel('Password').fill(args.password)
  await page.keyboard.press('Enter')
  await page.waitForURL(sqlUrl)
  report.navCurrent = await page.locator('nav a[aria-current="page"]').innerText()
  report.tablesListed = await page.locator('.sql-schema summary').allInnerTexts()

  const editor = page.getByLabel('HogQL query')
  await editor.fill(args.query)
  await editor.press(process.platform === 'darwin' ? 'Meta+Enter' : 'Control+Enter')
  await page.locator('#sql-result table tbody tr').first().waitFor({ timeout: 15000 })
  report.header = await page.locator('#sql-result thead th').allInnerTexts()
  report.rows = await page.locator('#sql-result tbody tr').evaluateAll((rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('td')).map((td) => td.textContent)))
  try {
    await page.waitForFunction(() => window.Chart && window.Chart.getChart(document.getElementById('sql-chart')), null, { timeout: 10000 })
  } catch (error) {
    const state = await page.evaluate(() => ({ chart: typeof window.Chart, htmx: typeof window.htmx, url: location.href, canvas: !!document.getElementById('sql-chart') }))
    throw new Error(`no chart: ${JSON.stringify(state)} ${JSON.stringify(report.consoleErrors)}`)
  }
  report.lineChart = await chartState(page)
  report.screenshots.sql = await shot(page, 'sql')
  await page.getByLabel('Chart type').selectOption('bar')
  report.barChart = await chartState(page)
  await page.getByRole('checkbox', { name: 'revenue' }).uncheck()
  report.afterUncheck = await chartState(page)
  report.screenshots.sql_bar = await shot(page, 'sql-bar')

  await editor.fill(args.badQuery)
  await page.getByRole('button', { name: 'Run' }).click()
  await page.locator('#sql-result .sql-error').waitFor({ timeout: 15000 })
  report.errorText = await page.locator('#sql-result .sql-error .error').innerText()
  report.marked = await page.locator('#sql-result .sql-error mark').innerText()
  report.editorInvalid = await editor.getAttribute('aria-invalid')
  report.selection = await editor.evaluate((e) => [e.selectionStart, e.selectionEnd, document.activeElement === e])
  report.chartAfterError = await chartState(page)
  report.screenshots.sql_error = await shot(page, 'sql-error')

  await editor.fill(args.query)
  await page.getByRole('button', { name: 'CSV' }).click()
  const link = page.getByRole('link', { name: /Download sql-query\.csv/ })
  await link.waitFor({ timeout: 20000 })
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
  report.downloadName = download.suggestedFilename()
  report.downloaded = fs.readFileSync(await download.path(), 'utf8')
  console.log(JSON.stringify(report))
} finally {
  await browser.close()
}
