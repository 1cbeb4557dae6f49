// The console's dashboard and an insight in Debian's headless Chromium via playwright-core: sign in, open the
// dashboard, read back every drawn chart (Chart.js instance data, annotation markers the plugin drew, whether
// the canvas has painted pixels) and the HTML tiles (retention, paths, text), then the trend insight's page.
// Screenshots: dashboard.png and insight.png. Usage: node insights_walk.mjs '<json {baseUrl, email, password,
// dashboardUrl, insightUrl, screenshots}>'; prints one JSON report line.
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const args = JSON.parse(process.argv[2])
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
})
const report = { screenshots: {}, consoleErrors: [] }

function readCharts () {
  return Array.from(document.querySelectorAll('canvas[data-chart]')).map(function (canvas) {
    const chart = Chart.getChart(canvas) // eslint-disable-line no-undef
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let painted = 0
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++
    return {
      tile: canvas.closest('[data-tile]') ? canvas.closest('[data-tile]').getAttribute('data-tile') : null,
      kind: canvas.closest('figure').getAttribute('data-kind'),
      type: chart ? chart.config.type : null,
      labels: chart ? chart.data.labels : null,
      data: chart ? chart.data.datasets.map(function (d) { return d.data }) : null,
      markers: chart ? (chart.$annotationMarkers || []).map(function (m) { return [m.index, m.text] }) : null,
      painted: painted,
    }
  })
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()) })
  page.on('pageerror', (e) => report.consoleErrors.push(String(e)))
  await page.goto(`${args.baseUrl}${args.dashboardUrl}`)
  await page.getByLabel('Email').fill(args.email)
  await page.getByLabel('Password').fill(args.password)
  await page.keyboard.press('Enter')
  await page.waitForURL(`${args.baseUrl}${args.dashboardUrl}`)
  await page.waitForFunction(() => document.querySelectorAll('canvas[data-chart]').length > 0 &&
    Array.from(document.querySelectorAll('canvas[data-chart]')).every((c) => c.getAttribute('data-drawn') === 'true'))
  report.tiles = await page.locator('[data-tile]').count()
  report.charts = await page.evaluate(readCharts)
  report.retentionCells = await page.locator('table.retention td.heat').count()
  report.pathEdges = await page.locator('li.path-edge').allInnerTexts()
  report.textTile = await page.locator('.text-tile').innerText()
  report.screenshots.dashboard = `${args.screenshots}/dashboard.png`
  await page.screenshot({ path: report.screenshots.dashboard, fullPage: true })

  // the date filter from the keyboard: choose "from 2 Mar" and submit
  await page.getByLabel('Date range').selectOption(args.dateFrom)
  await page.getByRole('button', { name: 'Apply' }).click()
  await page.waitForURL(/date_from=/)
  await page.waitForFunction(() => Array.from(document.querySelectorAll('canvas[data-chart]')).every((c) => c.getAttribute('data-drawn') === 'true'))
  report.afterFilter = await page.evaluate(readCharts)

  await page.goto(`${args.baseUrl}${args.insightUrl}`)
  await page.waitForFunction(() => document.querySelector('canvas[data-drawn="true"]'))
  report.insight = await page.evaluate(readCharts)
  report.screenshots.insight = `${args.screenshots}/insight.png`
  await page.screenshot({ path: report.screenshots.insight, fullPage: true })
  console.log(JSON.stringify(report))
} catch (error) {
  report.error = String(error)
  console.error(JSON.stringify(report))
  process.exitCode = 1
} finally {
  await browser.close()
}
