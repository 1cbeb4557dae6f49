"""Schema enforcement at ingestion (reference §1.6): which events of an enforced definition are rejected.

`check_properties` is the one pure rule; `violations(team_id, event, properties)` is what the ingestion
worker calls per event. A project's rules (events with ``enforcement_mode=reject`` and the required
properties of their attached groups) are cached in-process and re-read when the project's version token in
Django's cache changes (`rules_invalidate`, called by signals on every change to a definition, group,
group property or event schema). With Redis as the Django cache the version is
shared across processes; a process re-reads the version at most every `VERSION_CHECK_SECONDS`.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_tz
from typing import Any

from django.core.cache import cache

from definitions.models import SchemaPropertyGroupProperty

MISSING_REQUIRED = "missing_required"
TYPE_MISMATCH = "type_mismatch"
VALUE_VALIDATION_FAILED = "value_validation_failed"
VERSION_CHECK_SECONDS = 1.0
KNOWN_TYPES = frozenset({"String", "Numeric", "Boolean", "DateTime", "Object"})

_NUMERIC = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DATE_PREFIX = re.compile(r"^(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})")


@dataclass(frozen=True, slots=True)
class PropertyRule:
    """A required property of an enforced event: the types any group allows, and each group's rules
    (None = no rules in that group). Several groups are OR-ed: any allowed type and any rule set passes."""

    name: str
    types: tuple[str, ...]
    rule_sets: tuple[Mapping[str, Any] | None, ...] = (None,)


# ---- the pure rule ------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str) and _NUMERIC.match(value.strip()):
        number = float(value.strip())
        return number if math.isfinite(number) else None
    return None


def _is_datetime(value: Any) -> bool:
    """What ClickHouse's best-effort datetime parsing takes: unix seconds, ISO-8601, common date forms, RFC 2822."""
    if _is_number(value):
        return value >= 0
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    if text.isdigit():
        return True
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
        return True
    except ValueError:
        pass
    if _DATE_PREFIX.match(text):
        return True
    return parsedate_tz(text) is not None


def type_matches(property_type: str, value: Any) -> bool:
    """Whether a non-null value is acceptable for a schema type (mirrors query-time coercion)."""
    if property_type == "String":
        return True
    if property_type == "Numeric":
        return _as_number(value) is not None
    if property_type == "Boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if property_type == "DateTime":
        return _is_datetime(value)
    if property_type == "Object":
        return isinstance(value, dict | list)
    return True  # unknown types pass


def rules_failure(property_type: str, rules: Mapping[str, Any] | None, value: Any) -> str | None:
    """None when `value` satisfies the group's validation rules, else a one-line explanation."""
    if not rules:
        return None
    if property_type == "String":
        text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        if "enum" in rules and text not in rules["enum"]:
            return f"value must be one of {list(rules['enum'])}"
        excluded = (rules.get("not") or {}).get("enum") or []
        if text in excluded:
            return f"value must not be one of {list(excluded)}"
        return None
    if property_type == "Numeric":
        number = _as_number(value)
        if number is None:
            return None  # the type check reports it
        checks = (
            ("minimum", lambda b: number >= b, ">="),
            ("exclusiveMinimum", lambda b: number > b, ">"),
            ("maximum", lambda b: number <= b, "<="),
            ("exclusiveMaximum", lambda b: number < b, "<"),
        )
        for key, ok, symbol in checks:
            if key in rules and not ok(rules[key]):
                return f"value must be {symbol} {rules[key]}"
    return None


def check_properties(rules: tuple[PropertyRule, ...], properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The errors of one event against its required properties; an empty list means valid."""
    errors: list[dict[str, Any]] = []
    for rule in rules:
        value = properties.get(rule.name)
        expected = list(rule.types)
        base = {"property": rule.name, "expectedTypes": expected, "actualValue": value, "validationDetail": None}
        if value is None:
            errors.append({**base, "reason": MISSING_REQUIRED})
            continue
        passing = [t for t in rule.types if type_matches(t, value)]
        if not passing:
            errors.append({**base, "reason": TYPE_MISMATCH})
            continue
        failures = [rules_failure(t, rule_set, value) for t, rule_set in zip(rule.types, rule.rule_sets, strict=True)]
        if all(failure is not None for failure, t in zip(failures, rule.types, strict=True) if t in passing):
            detail = next(f for f, t in zip(failures, rule.types, strict=True) if t in passing)
            errors.append({**base, "reason": VALUE_VALIDATION_FAILED, "validationDetail": detail})
    return errors


def merge_rules(rows: list[tuple[str, str, Any]]) -> tuple[PropertyRule, ...]:
    """Required (name, type, validation_rules) rows from all of an event's groups → one rule per name.
    The types and rule sets stay aligned: the same name with several types yields one entry per group."""
    by_name: dict[str, list[tuple[str, Any]]] = {}
    for name, property_type, rules in rows:
        by_name.setdefault(name, []).append((property_type, rules or None))
    return tuple(
        PropertyRule(name=name, types=tuple(t for t, _ in entries), rule_sets=tuple(r for _, r in entries))
        for name, entries in sorted(by_name.items())
    )


# ---- the per-project cache ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TeamRules:
    version: str
    events: dict[str, tuple[PropertyRule, ...]]
    checked_at: float


_lock = threading.Lock()
_cache: dict[int, _TeamRules] = {}


def _version_key(team_id: int) -> str:
    return f"definitions:enforcement:version:{team_id}"


def _current_version(team_id: int) -> str:
    return str(cache.get(_version_key(team_id)) or "")


def load_rules(team_id: int) -> dict[str, tuple[PropertyRule, ...]]:
    """Enforced events of a project and their merged required properties (one query)."""
    rows = (
        SchemaPropertyGroupProperty.objects.filter(
            is_required=True,
            property_group__event_schemas__event_definition__team_id=team_id,
            property_group__event_schemas__event_definition__enforcement_mode="reject",
        )
        .order_by("property_group__event_schemas__event_definition__name", "name", "property_group_id")
        .values_list(
            "property_group__event_schemas__event_definition__name", "name", "property_type", "validation_rules"
        )
    )
    grouped: dict[str, list[tuple[str, str, Any]]] = {}
    for event, name, property_type, rules in rows:
        grouped.setdefault(event, []).append((name, property_type, rules))
    return {event: merge_rules(items) for event, items in grouped.items()}


def team_rules(team_id: int) -> dict[str, tuple[PropertyRule, ...]]:
    now = time.monotonic()
    entry = _cache.get(team_id)
    if entry is not None and now - entry.checked_at < VERSION_CHECK_SECONDS:
        return entry.events
    version = _current_version(team_id)
    if entry is None or entry.version != version:
        entry = _TeamRules(version=version, events=load_rules(team_id), checked_at=now)
    else:
        entry = _TeamRules(version=version, events=entry.events, checked_at=now)
    with _lock:
        _cache[team_id] = entry
    return entry.events


def violations(team_id: int, event: str, properties: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors of one event against its project's enforced schema ([] = store it)."""
    rules = team_rules(team_id).get(event)
    if not rules:
        return []
    return check_properties(rules, properties or {})


def rules_invalidate(*, team_id: int) -> None:
    """Call after any change that may alter a project's enforced schemas."""
    cache.set(_version_key(team_id), uuid.uuid4().hex, timeout=None)  # a token: eviction cannot alias it
    with _lock:
        _cache.pop(team_id, None)


def cache_clear() -> None:
    with _lock:
        _cache.clear()
