// Drive the real, unmodified posthog-node against our capture endpoints.
// Usage: node node_capture.mjs '<json {host, token, events:[{distinctId, event, properties, uuid, timestamp}]}>'
// Prints one JSON line {errors: [...]} after shutdown (every queued event flushed).
import { createRequire } from 'node:module'

const require = createRequire(process.env.SDK_PACKAGE_JSON)
const { PostHog } = require('posthog-node')

const { host, token, events } = JSON.parse(process.argv[2])
const errors = []
const client = new PostHog(token, { host, flushAt: 3, flushInterval: 100, fetchRetryCount: 0, disableGeoip: false })
client.on('error', (err) => errors.push(String(err && err.message ? err.message : err)))

for (const e of events) {
  client.capture({ ...e, timestamp: e.timestamp ? new Date(e.timestamp) : undefined })
}
client.identify({ distinctId: 'node-user', properties: { email: 'node@example.com' } })
client.alias({ distinctId: 'node-user', alias: 'node-alias' })
client.groupIdentify({ groupType: 'company', groupKey: 'acme', properties: { plan: 'pro' } })
await client.shutdown(10000)
console.log(JSON.stringify({ errors }))
