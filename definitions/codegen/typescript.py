"""TypeScript generator: a typed wrapper over posthog-js (reference §2.5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from definitions.codegen.base import EventSpec, merged_properties

VERSION = "1.1.0"
TYPES = {
    "String": "string",
    "Numeric": "number",
    "Boolean": "boolean",
    "DateTime": "string | Date",
    "Object": "Record<string, any>",
    "Array": "any[]",
}

_HELPERS = """\
export type EventName = keyof EventSchemas
type LooseProperties = Record<string, any>
/** The schema's properties of event K; extra keys are allowed. */
export type EventProperties<K extends EventName> = EventSchemas[K] & LooseProperties

type RequiredKeys<T> = { [P in keyof T]-?: {} extends Pick<T, P> ? never : P }[keyof T]
type CaptureArgs<K extends EventName> = [RequiredKeys<EventSchemas[K]>] extends [never]
    ? [properties?: EventProperties<K> | null, options?: CaptureOptions]
    : [properties: EventProperties<K>, options?: CaptureOptions]
/** A literal event name not in the schema (a plain `string` variable is rejected). */
type OtherEventName<E extends string> = string extends E ? never : E extends EventName ? never : E

export interface TypedPostHog extends Omit<PostHog, 'capture'> {
    /** Capture a known event: its properties are typed and required ones must be given. */
    capture<K extends EventName>(event: K, ...args: CaptureArgs<K>): CaptureResult | undefined
    /** Capture another event by its literal name with free-form properties. */
    capture<E extends string>(
        event: OtherEventName<E>,
        properties?: Properties | null,
        options?: CaptureOptions
    ): CaptureResult | undefined
    /** Untyped escape hatch: any name, any properties. */
    captureRaw(event: string, properties?: Properties | null, options?: CaptureOptions): CaptureResult | undefined
}

function createTypedPostHog(client: PostHog): TypedPostHog {
    const capture = (event: string, properties?: Properties | null, options?: CaptureOptions) =>
        client.capture(event, properties, options)
    const overrides: Record<string, unknown> = { capture, captureRaw: capture }
    const base: object = Object.create(client)
    return new Proxy(base, {
        get(_target, property) {
            if (typeof property === 'string' && property in overrides) {
                return overrides[property]
            }
            const value: unknown = Reflect.get(client, property, client)
            return typeof value === 'function' ? value.bind(client) : value
        },
        set(_target, property, value) {
            return Reflect.set(client, property, value, client)
        },
    }) as TypedPostHog
}

export const posthog: TypedPostHog = createTypedPostHog(posthogOriginal)
export default posthog
export * from 'posthog-js'
"""


def _member(event: EventSpec) -> str:
    key = json.dumps(event.name)
    if not event.has_schema:
        return f"    {key}: Record<string, any>"
    props = merged_properties(event)
    if not props:
        return f"    {key}: {{}}"
    lines = [f"    {key}: {{"]
    for prop in props:
        types = " | ".join(dict.fromkeys(TYPES.get(t, "any") for t in prop.types))
        optional = "?" if prop.optional_in_types or not prop.required else ""
        lines.append(f"        {json.dumps(prop.name)}{optional}: {types}")
    lines.append("    }")
    return "\n".join(lines)


def generate_typescript(events: list[EventSpec], *, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    members = "\n".join(_member(e) for e in events)
    first = events[0].name if events else "my_event"
    return f"""\
/**
 * GENERATED FILE - DO NOT EDIT.
 * Typed PostHog events for this project, regenerate after changing event schemas.
 * Generated at {stamp} by generator version {VERSION}.
 */
import posthogOriginal from 'posthog-js'
import type {{ CaptureOptions, CaptureResult, PostHog, Properties }} from 'posthog-js'

interface EventSchemas {{
{members}
}}

{_HELPERS}
// Usage:
//   import posthog from './posthog-typed'
//   posthog.init('<project token>', {{ api_host: '<host>' }})
//   posthog.capture({json.dumps(first)}, {{ /* typed properties */ }})
//   posthog.captureRaw('anything', {{ free: 'form' }})
"""
