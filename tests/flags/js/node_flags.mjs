// Drive the real, unmodified posthog-node against our server and print what it answers.
// Usage: node node_flags.mjs '<json {host, token, personalApiKey, cases:[{key, distinct_id, person_properties}]}>'
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { PostHog } = require('posthog-node')

const { host, token, personalApiKey, cases } = JSON.parse(process.argv[2])
const local = Boolean(personalApiKey)
const client = new PostHog(token, {
  host,
  personalApiKey: personalApiKey || undefined,
  featureFlagsPollingInterval: 600000,
  flushAt: 1,
  fetchRetryCount: 0,
})
const errors = []
client.on('error', (err) => errors.push(String(err)))

if (local && !(await client.waitForLocalEvaluationReady(10000))) {
  console.error('local evaluation never became ready', errors)
  process.exit(2)
}
const results = []
for (const c of cases) {
  const options = { personProperties: c.person_properties || {}, sendFeatureFlagEvents: false, onlyEvaluateLocally: local }
  results.push({
    value: (await client.getFeatureFlag(c.key, c.distinct_id, options)) ?? null,
    enabled: (await client.isFeatureEnabled(c.key, c.distinct_id, options)) ?? null,
  })
}
const payload = await client.getFeatureFlagPayload('always-on', 'user-1', undefined, { onlyEvaluateLocally: local })
await client.shutdown()
console.log(JSON.stringify({ results, errors, payload }))
