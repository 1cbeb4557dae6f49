// The People, Cohorts and flag edit pages in Debian's headless Chromium via playwright-core: sign in, search a
// person and open them, open one of their cohorts, edit a flag's rollout and read /flags; a screenshot of each.
// Usage: node people_walk.mjs '<json {baseUrl, email, password, projectId, search, cohortName, flagKey, token,
// distinctId, screenshots}>'; prints the report as the last stdout line.
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { chromium } = require('playwright-core')

const args = JSON.parse(process.argv[2])
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
const report = { screenshots: {}, consoleErrors: [], notFound: [] }
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } })
  page.on('console', (m) => { if (m.type() === 'error') report.consoleErrors.push(m.text()) })
  page.on('response', (r) => { if (r.status() === 404) report.notFound.push(r.url()) })
  const base = args.baseUrl
  const project = `${base}/console/project/${args.projectId}`
  const flagsAnswer = async () => {
    const answer = await page.request.post(`${base}/flags/?v=2`, {
      data: { api_key: args.token, distinct_id: args.distinctId },
    })
    return (await answer.json()).flags[args.flagKey].enabled
  }

  await page.goto(`${base}/console/`)
  await page.getByLabel('Email').fill(args.email)
  await page.getByLabel('Password').fill(args.password)
  await page.keyboard.press('Enter')
  await page.waitForURL(`${project}/activity/`)

  await page.getByRole('link', { name: 'People', exact: true }).click()
  await page.waitForURL(`${project}/people/`)
  report.listedBefore = await page.locator('#people tbody tr[data-uuid]').count()
  await page.getByLabel('Search by email, name or distinct id').fill(args.search)
  await page.keyboard.press('Enter') // keyboard: submit the search from its field
  await page.waitForURL(/search=/)
  report.listedAfter = await page.locator('#people tbody tr[data-uuid]').count()
  report.screenshots.people = await shot(page, 'people')

  await page.locator('#people tbody tr[data-uuid] a').first().focus()
  await page.keyboard.press('Enter') // keyboard: follow the person's link
  await page.waitForURL(/\/people\/[0-9a-f-]{36}\/$/)
  report.personHeading = await page.locator('h1').innerText()
  report.properties = await page.locator('#properties').innerText()
  report.events = await page.locator('#events .event-name').allInnerTexts()
  report.screenshots.person = await shot(page, 'person')

  await page.locator('#cohorts').getByRole('link', { name: args.cohortName }).click()
  await page.waitForURL(/\/cohorts\/[0-9]+\/$/)
  report.cohortHeading = await page.locator('h1').innerText()
  report.members = await page.locator('#members tbody tr[data-uuid]').count()
  report.screenshots.cohort = await shot(page, 'cohort')

  await page.getByRole('link', { name: 'Feature flags' }).click()
  report.flagsBefore = await flagsAnswer()
  await page.getByRole('link', { name: `Edit ${args.flagKey}` }).click()
  await page.getByLabel('Rollout % of condition 1').fill('0')
  report.screenshots.flag_edit = await shot(page, 'flag-edit')
  await page.getByRole('button', { name: `Save ${args.flagKey}` }).click()
  await page.waitForURL(`${project}/flags/`)
  report.flagsAfter = await flagsAnswer()
  await page.getByRole('link', { name: `Edit ${args.flagKey}` }).click()
  await page.getByLabel('Variant 1 key').fill('a')
  await page.getByLabel('Variant 1 rollout %').fill('70')
  await page.getByLabel('Variant 2 key').fill('b')
  await page.getByLabel('Variant 2 rollout %').fill('20')
  await page.getByRole('button', { name: `Save ${args.flagKey}` }).click()
  report.formError = await page.getByRole('alert').innerText()
  report.screenshots.flag_edit_error = await shot(page, 'flag-edit-error')
  console.log(JSON.stringify(report))
} finally {
  await browser.close()
}
