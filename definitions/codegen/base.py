"""What the code generators share: the project's events with their schema properties (reference §2.2),
naming helpers and the deterministic `schema_hash` (§2.3)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from django.db.models import Q

from definitions.models import EventDefinition
from posthog_clone.accounts.models import Team

INCLUDED_POSTHOG_EVENTS = ("$pageview", "$pageleave", "$screen")
_CHUNKS = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True, slots=True)
class PropertySpec:
    name: str
    property_type: str
    is_required: bool
    is_optional_in_types: bool = False


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: str
    properties: tuple[PropertySpec, ...] = ()
    has_schema: bool = False


@dataclass
class MergedProperty:
    """One property name of an event after folding the occurrences from several groups."""

    name: str
    types: list[str] = field(default_factory=list)
    required: bool = False
    optional_in_types: bool = False


def codegen_events(*, team: Team) -> list[EventSpec]:
    """Custom events (no `$`) plus $pageview/$pageleave/$screen, by name, each with every property of
    every attached group (duplicates across groups kept: each generator folds them its own way)."""
    definitions = (
        EventDefinition.objects.filter(team=team)
        .filter(~Q(name__startswith="$") | Q(name__in=INCLUDED_POSTHOG_EVENTS))
        .prefetch_related("schemas__property_group__properties")
        .order_by("name")
    )
    specs = []
    for definition in definitions:
        schemas = sorted(definition.schemas.all(), key=lambda s: (s.property_group.name, str(s.property_group_id)))
        props = tuple(
            PropertySpec(p.name, p.property_type, p.is_required, p.is_optional_in_types)
            for schema in schemas
            for p in sorted(schema.property_group.properties.all(), key=lambda p: p.name)
        )
        specs.append(EventSpec(definition.name, props, bool(schemas)))
    return specs


def schema_hash(events: list[EventSpec], *, version: str, language: str) -> str:
    """First 32 hex chars of SHA-256 over a canonical JSON of names, types and required flags."""
    schemas = sorted(
        [e.name, sorted([p.name, p.property_type, p.is_required, p.is_optional_in_types] for p in e.properties)]
        for e in events
    )
    payload = {"language": language, "version": version, "schemas": schemas}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def merged_properties(event: EventSpec) -> list[MergedProperty]:
    """Fold duplicate names: the distinct types in order, required if any group requires it."""
    by_name: dict[str, MergedProperty] = {}
    for prop in event.properties:
        merged = by_name.setdefault(prop.name, MergedProperty(prop.name))
        if prop.property_type not in merged.types:
            merged.types.append(prop.property_type)
        merged.required = merged.required or prop.is_required
        merged.optional_in_types = merged.optional_in_types or prop.is_optional_in_types or not prop.is_required
    return sorted(by_name.values(), key=lambda m: m.name)


def chunks(name: str) -> list[str]:
    return _CHUNKS.findall(name)


def pascal_case(name: str, *, prefix: str = "Event") -> str:
    """Split on non-alphanumerics, capitalise each chunk; prefix when it would not start with a letter."""
    text = "".join(chunk[:1].upper() + chunk[1:] for chunk in chunks(name))
    if not text or not text[0].isalpha():
        text = prefix + text
    return text


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `name2`, `name3`, … — the first not yet taken (and mark it taken)."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}{n}"
    taken.add(candidate)
    return candidate


def quoted(text: str) -> str:
    """A double-quoted string literal valid in both Go and Python source: printable ASCII as is, everything
    else as \\u/\\U escapes (JSON's surrogate-pair escapes are invalid in Go and wrong in Python); a lone
    surrogate, which no UTF-8 source can carry, becomes U+FFFD."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def comment_safe(text: str) -> str:
    return " ".join(text.replace("*/", "* /").split())
