"""Go generator: package `typed`, capture builders over github.com/posthog/posthog-go (reference §2.5)."""

from __future__ import annotations

from datetime import UTC, datetime

from definitions.codegen.base import (
    EventSpec,
    MergedProperty,
    chunks,
    merged_properties,
    pascal_case,
    quoted,
    unique,
)

VERSION = "1.0.0"
TYPES = {
    "String": "string",
    "Numeric": "float64",
    "Boolean": "bool",
    "DateTime": "time.Time",
    "Object": "map[string]interface{}",
    "Array": "[]interface{}",
}
KEYWORDS = frozenset(
    [
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "type",
        "var",
    ]
)
# Names the generated bodies use: a parameter must not shadow them.
RESERVED = frozenset({"distinctId", "options", "base", "c", "option", "posthog", "time", "setProperty", "props"})


def go_type(prop: MergedProperty) -> str:
    return TYPES.get(prop.types[0], "interface{}") if len(prop.types) == 1 else "interface{}"


def camel_case(name: str) -> str:
    parts = chunks(name)
    text = parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:]) if parts else "value"
    if text[0].isdigit():
        text = "param" + text[:1].upper() + text[1:]
    return text + "_" if text in KEYWORDS else text


def _params(required: list[MergedProperty]) -> list[tuple[str, MergedProperty]]:
    taken = set(RESERVED)
    return [(unique(camel_case(p.name), taken), p) for p in required]


def _event_code(event: EventSpec, base: str, taken: set[str]) -> str:
    """One event's declarations; every top-level name is claimed in `taken` (package-wide), so names derived
    from different events (`A` + `WithCapture` vs `AWith` + `Capture`) never collide."""
    name = quoted(event.name)
    if not event.has_schema:
        capture = unique(f"{base}Capture", taken)
        return f"""\
// {capture} builds a {name} event; it has no schema, so any properties are accepted.
func {capture}(distinctId string, properties ...posthog.Properties) posthog.Capture {{
\tc := posthog.Capture{{DistinctId: distinctId, Event: {name}, Properties: posthog.Properties{{}}}}
\tfor _, props := range properties {{
\t\tfor k, v := range props {{
\t\t\tc.Properties[k] = v
\t\t}}
\t}}
\treturn c
}}
"""
    props = merged_properties(event)
    required = [p for p in props if p.required]
    optional = [p for p in props if not p.required]
    params = _params(required)
    signature = "".join(f", {param} {go_type(p)}" for param, p in params)
    assigns = "".join(f"\tc.Properties[{quoted(p.name)}] = {param}\n" for param, p in params)
    option, extra, capture, from_base = (
        unique(f"{base}{suffix}", taken) for suffix in ("Option", "WithExtraProps", "Capture", "CaptureFromBase")
    )
    out = [f"// {option} sets an optional property of a {name} event.\ntype {option} func(*posthog.Capture)\n"]
    for prop in optional:
        setter = unique(f"{base}With{pascal_case(prop.name, prefix='Prop')}", taken)
        out.append(
            f"// {setter} sets the optional {quoted(prop.name)} property.\n"
            f"func {setter}(value {go_type(prop)}) {option} {{\n"
            f"\treturn func(c *posthog.Capture) {{ setProperty(c, {quoted(prop.name)}, value) }}\n}}\n"
        )
    out.append(
        f"// {extra} adds properties outside the schema.\n"
        f"func {extra}(props posthog.Properties) {option} {{\n"
        "\treturn func(c *posthog.Capture) {\n"
        "\t\tfor k, v := range props {\n\t\t\tsetProperty(c, k, v)\n\t\t}\n\t}\n}\n"
    )
    out.append(
        f"// {capture} builds a {name} event with its required properties.\n"
        f"func {capture}(distinctId string{signature}, options ...{option}) posthog.Capture {{\n"
        f"\tc := posthog.Capture{{DistinctId: distinctId, Event: {name}, Properties: posthog.Properties{{}}}}\n"
        f"{assigns}\tfor _, option := range options {{\n\t\toption(&c)\n\t}}\n\treturn c\n}}\n"
    )
    out.append(
        f"// {from_base} turns a prepared capture into a {name} event (its properties are kept).\n"
        f"func {from_base}(base posthog.Capture{signature}, options ...{option}) posthog.Capture {{\n"
        f"\tc := base\n\tc.Event = {name}\n\tc.Properties = posthog.Properties{{}}\n"
        f"\tfor k, v := range base.Properties {{\n\t\tc.Properties[k] = v\n\t}}\n"
        f"{assigns}\tfor _, option := range options {{\n\t\toption(&c)\n\t}}\n\treturn c\n}}\n"
    )
    return "\n".join(out)


def generate_golang(events: list[EventSpec], *, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bases: set[str] = set()
    taken: set[str] = {"setProperty"}
    bodies = [_event_code(e, unique(pascal_case(e.name), bases), taken) for e in events]
    uses_time = any(go_type(p) == "time.Time" for e in events if e.has_schema for p in merged_properties(e))
    imports = '\t"time"\n\n' if uses_time else ""
    example = pascal_case(events[0].name) if events else "MyEvent"
    return f"""\
// Code generated by the PostHog definitions API; DO NOT EDIT.
// Typed capture builders for this project's events, generated at {stamp} (generator version {VERSION}).

package typed

import (
{imports}\tposthog "github.com/posthog/posthog-go"
)

func setProperty(c *posthog.Capture, key string, value interface{{}}) {{
\tif c.Properties == nil {{
\t\tc.Properties = posthog.Properties{{}}
\t}}
\tc.Properties[key] = value
}}

{chr(10).join(bodies)}
// Usage:
//
//\tclient, _ := posthog.NewWithConfig("<project token>", posthog.Config{{Endpoint: "<host>"}})
//\tdefer client.Close()
//\t_ = client.Enqueue(typed.{example}Capture("user-123" /* required properties */))
"""
