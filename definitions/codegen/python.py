"""Python generator: a `posthog_typed.py` module of TypedDicts and `capture` overloads over the `posthog`
SDK (reference §2.5)."""

from __future__ import annotations

import keyword
import re
from datetime import UTC, datetime

from definitions.codegen.base import EventSpec, MergedProperty, merged_properties, pascal_case, quoted, unique

VERSION = "1.0.0"
TYPES = {
    "String": "str",
    "Numeric": "float",
    "Boolean": "bool",
    "DateTime": "datetime",
    "Object": "Dict[str, Any]",
    "Array": "list[Any]",
}
# Module-level names a TypedDict class must not take.
_RESERVED_CLASSES = {
    "Any",
    "Dict",
    "List",
    "Literal",
    "Mapping",
    "Optional",
    "Union",
    "TypedDict",
    "Required",
    "NotRequired",
}


def py_type(prop: MergedProperty) -> str:
    types = list(dict.fromkeys(TYPES.get(t, "Any") for t in prop.types))
    return types[0] if len(types) == 1 else f"Union[{', '.join(types)}]"


def identifier(name: str) -> str:
    text = re.sub(r"[^0-9A-Za-z_]", "_", name)
    if not text or text[0].isdigit():
        text = "prop_" + text
    return text + "_" if keyword.iskeyword(text) or keyword.issoftkeyword(text) else text


def _fields(props: list[MergedProperty]) -> list[tuple[str, MergedProperty]]:
    ordered = [p for p in props if p.required] + [p for p in props if not p.required]
    taken: set[str] = set()
    out = []
    for prop in ordered:
        base, n = identifier(prop.name), 1
        candidate = base
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        out.append((candidate, prop))
    return out


def _signature(event: EventSpec, props_type: str, required: bool) -> str:
    properties = f"properties: {props_type}" if required else f"properties: Optional[{props_type}] = None"
    return (
        f"    event: Literal[{quoted(event.name)}],\n    *,\n    {properties},\n"
        "    distinct_id: Optional[str] = None,\n    **kwargs: Any,\n"
    )


def _dict_literal(mappings: dict[str, dict[str, str]]) -> str:
    if not mappings:
        return "{}"
    lines = ["{"]
    for event in sorted(mappings):
        lines.append(f"    {quoted(event)}: {{")
        lines.extend(f"        {quoted(ident)}: {quoted(name)}," for ident, name in sorted(mappings[event].items()))
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


def generate_python(events: list[EventSpec], *, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    classes, overloads, mappings = [], [], {}
    taken = set(_RESERVED_CLASSES)
    uses_datetime = False
    for event in events:
        if not event.has_schema:
            overloads.append(_signature(event, "Dict[str, Any]", False))
            continue
        class_name = unique(pascal_case(event.name) + "Props", taken)
        fields = _fields(merged_properties(event))
        renamed = {ident: prop.name for ident, prop in fields if ident != prop.name}
        if renamed:
            mappings[event.name] = renamed
        lines = [
            f"class {class_name}(TypedDict, total=False):",
            f'    """Properties of the {quoted(event.name)} event."""',
        ]
        for ident, prop in fields:
            wrapper = "Required" if prop.required else "NotRequired"
            uses_datetime = uses_datetime or "datetime" in py_type(prop)
            lines.append(f"    {ident}: {wrapper}[{py_type(prop)}]")
        classes.append("\n".join(lines) + "\n")
        overloads.append(_signature(event, class_name, any(p.required for _, p in fields)))
    decorate = len(overloads) >= 2
    overload_code = (
        "".join(f"@overload\ndef capture(\n{sig}) -> Optional[str]: ...\n\n\n" for sig in overloads) if decorate else ""
    )
    mapping_literal = _dict_literal(mappings)
    datetime_import = "from datetime import datetime\n" if uses_datetime else ""
    first = quoted(events[0].name) if events else '"my_event"'
    return f'''\
"""Typed PostHog events for this project. GENERATED FILE - DO NOT EDIT.

Save as posthog_typed.py and call `capture` instead of `posthog.capture`: each event's properties are a
TypedDict, required ones must be given. Generated at {stamp} (generator version {VERSION}).
"""

from __future__ import annotations

{datetime_import}from typing import Any, Dict, List, Literal, Mapping, Optional, Union, overload

import posthog
from typing_extensions import NotRequired, Required, TypedDict

# event -> {{python identifier -> original property name}}, only for renamed keys.
_PROPERTY_MAPPINGS: Dict[str, Dict[str, str]] = {mapping_literal}


def _original_keys(event: str, properties: Mapping[str, Any]) -> Dict[str, Any]:
    mapping = _PROPERTY_MAPPINGS.get(event, {{}})
    return {{mapping.get(key, key): value for key, value in properties.items()}}


{"".join(c + chr(10) + chr(10) for c in classes)}{overload_code}def capture(
    event: str,
    *,
    properties: Optional[Mapping[str, Any]] = None,
    distinct_id: Optional[str] = None,
    **kwargs: Any,
) -> Optional[str]:
    """Send an event through the posthog SDK, with schema property names restored."""
    mapped = _original_keys(event, properties or {{}})
    return posthog.capture(event, distinct_id=distinct_id, properties=mapped, **kwargs)


def capture_raw(event: str, properties: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Optional[str]:
    """Untyped escape hatch: any event name, any properties."""
    return posthog.capture(event, properties=properties, **kwargs)


# Usage:
#   import posthog, posthog_typed
#   posthog.api_key = "<project token>"; posthog.host = "<host>"
#   posthog_typed.capture({first}, distinct_id="user-123", properties={{...}})
'''
