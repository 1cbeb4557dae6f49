"""The grammar of a dynamic cohort's `filters` (reference §5.3), checked strictly: unknown keys, missing keys and
values of the wrong kind are `rest_framework` ValidationErrors with PostHog's wording where PostHog has one.

Pure: no database, no ClickHouse. `normalized_tree` returns the tree as it is stored (defaults filled in,
numbers as ints, PostHog's `bytecode*` keys dropped), so a serializer can save what it validated.

Where PostHog accepts a filter and only its calculation fails (a behavioral filter without its time window, a
bad interval, `min_periods > total_periods`), this is a 400 at validation time, with the calculation's message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rest_framework.exceptions import ValidationError

from query.dates import DateRangeError, parse_date
from query.properties import PropertyFilterError, property_filters_to_expr

GROUP_TYPES = ("AND", "OR")
FILTER_TYPES = ("person", "behavioral", "cohort")
BEHAVIORAL_KINDS = (
    "performed_event",
    "performed_event_multiple",
    "performed_event_first_time",
    "performed_event_regularly",
    "stopped_performing_event",
    "restarted_performing_event",
    "performed_event_sequence",
)
ANALYTICAL_KINDS = frozenset(BEHAVIORAL_KINDS[2:])
"""Behavioral kinds that make a cohort `analytical` rather than `behavioral` (PostHog's cohort_type)."""
EVENT_TYPES = ("events", "actions")
INTERVALS = ("day", "week", "month", "year")
INTERVAL_SECONDS = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
"""PostHog's fixed lengths, used to order two windows and as the sequence window."""
COUNT_OPERATORS = (None, "gte", "lte", "gt", "lt", "eq", "exact")
SET_OPERATORS = ("is_set", "is_not_set")

PROPERTIES_MISSING = "Must contain a 'properties' key with type and values"
UNPAIRED_NEGATION = "Negations must be paired with a positive filter."

_BYTECODE = {"bytecode", "bytecode_error", "conditionHash"}  # PostHog stores these; accepted and dropped
_KEYS = {
    "person": {"type", "key", "operator", "value", "negation"},
    "cohort": {"type", "key", "value", "negation"},
    "behavioral": {
        "type", "key", "value", "event_type", "negation", "time_value", "time_interval", "operator",
        "operator_value", "seq_time_value", "seq_time_interval", "seq_event", "seq_event_type",
        "total_periods", "min_periods", "event_filters", "explicit_datetime", "explicit_datetime_to",
    },
}  # fmt: skip
_INTEGERS = ("time_value", "operator_value", "seq_time_value", "total_periods", "min_periods")
_WINDOW = ("time_value", "time_interval")
_SEQ_WINDOW = ("seq_time_value", "seq_time_interval")
_REQUIRED = {
    "performed_event_multiple": ("operator_value",),
    "performed_event_regularly": (*_WINDOW, "operator_value", "min_periods", "total_periods"),
    "stopped_performing_event": (*_WINDOW, *_SEQ_WINDOW),
    "restarted_performing_event": (*_WINDOW, *_SEQ_WINDOW),
    "performed_event_sequence": ("seq_event", "seq_event_type", *_SEQ_WINDOW),
}
"""Kind-specific keys; the `_EXPLICIT_KINDS` also need a window or `explicit_datetime`."""
_EXPLICIT_KINDS = (
    "performed_event",
    "performed_event_multiple",
    "performed_event_first_time",
    "performed_event_sequence",
)
_EVENT_FILTER_KEYS = {"event": {"type", "key", "value", "operator"}, "hogql": {"type", "key", "value"}}


def invalid(message: str) -> ValidationError:
    return ValidationError(message)


# ---------------------------------------------------------------------------------------------------
# the tree


def properties_of(filters: Any) -> dict[str, Any]:
    """`filters` → its `properties` group; without one, PostHog's nested error (`attr: filters__detail`)."""
    if not isinstance(filters, dict) or "properties" not in filters:
        raise ValidationError({"detail": PROPERTIES_MISSING, "type": "validation_error"})
    extra = sorted(set(filters) - {"properties"})
    if extra:
        raise invalid(f"Unknown key '{extra[0]}' in filters: only 'properties' is allowed")
    properties = filters["properties"]
    if not isinstance(properties, dict) or properties.get("type") not in GROUP_TYPES:
        raise ValidationError({"detail": PROPERTIES_MISSING, "type": "validation_error"})
    return properties


def normalized_tree(node: Any) -> dict[str, Any]:
    """Check one group or filter (recursively) and return its stored form."""
    if not isinstance(node, dict):
        raise invalid(f"A cohort filter must be an object, got {type(node).__name__}")
    kind = node.get("type")
    if kind in GROUP_TYPES:
        return _group(node)
    if kind == "person":
        return _person(node)
    if kind == "behavioral":
        return _behavioral(node)
    if kind == "cohort":
        return _cohort(node)
    raise invalid(f"Invalid filter type '{kind}': use a group (AND, OR) or a person, behavioral or cohort filter")


def _group(node: dict[str, Any]) -> dict[str, Any]:
    extra = sorted(set(node) - {"type", "values"})
    if extra:
        raise invalid(f"Unknown key '{extra[0]}' in a filter group")
    values = node.get("values")
    if not isinstance(values, list):
        raise invalid("A filter group needs 'values', a list of filters and groups")
    return {"type": node["type"], "values": [normalized_tree(value) for value in values]}


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every filter (not group) of a tree, depth first."""
    if isinstance(node, dict) and node.get("type") in GROUP_TYPES:
        for value in node.get("values") or []:
            yield from walk(value)
    elif isinstance(node, dict):
        yield node


def check_negations(node: dict[str, Any]) -> None:
    """PostHog's rule: every negated filter must share an AND group with a positive one (at its level or a
    parent's), else the calculation would have nothing to subtract from."""
    negated, _ = _negation_flags(node)
    if negated:
        raise invalid(UNPAIRED_NEGATION)


def _negation_flags(node: dict[str, Any]) -> tuple[bool, bool]:
    """(an unpaired negation below, a positive clause below)."""
    if node.get("type") not in GROUP_TYPES:
        return (True, False) if node.get("negation") else (False, True)
    negated = positive = False
    for value in node.get("values") or []:
        child_negated, child_positive = _negation_flags(value)
        negated, positive = negated or child_negated, positive or child_positive
    if node["type"] == "AND" and negated and positive:
        return False, True  # paired here: nothing left for the parents to pair
    return negated, positive


# ---------------------------------------------------------------------------------------------------
# person and cohort filters


def _check_keys(node: dict[str, Any], kind: str) -> None:
    extra = sorted(set(node) - _KEYS[kind] - _BYTECODE)
    if extra:
        raise invalid(f"Unknown key '{extra[0]}' in a {kind} filter")


def _negation(node: dict[str, Any]) -> bool:
    value = node.get("negation")
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid("negation must be true or false")
    return value


def _person(node: dict[str, Any]) -> dict[str, Any]:
    _check_keys(node, "person")
    if not isinstance(node.get("key"), str) or not node["key"]:
        if node.get("key") is None:
            raise invalid("Missing required keys for person filter: key")
        raise invalid("A person filter's key must be a non-empty string")
    operator, value = node.get("operator"), node.get("value")
    missing = []
    if value is None and operator not in SET_OPERATORS:
        missing.append("value")
    if operator is None:
        missing.append("operator")
    if missing:
        raise invalid(f"Missing required keys for person filter: {', '.join(missing)}")
    stored = {"key": node["key"], "type": "person", "value": value, "operator": operator, "negation": _negation(node)}
    if value is None:
        del stored["value"]
    try:  # operators, values and dates as the shared property-filter module reads them
        property_filters_to_expr(person_property_filter(stored), scope="person")
    except PropertyFilterError as error:
        raise invalid(error.message) from None
    return stored


def person_property_filter(node: dict[str, Any]) -> dict[str, Any]:
    """A cohort person filter as a `query.properties` filter (no negation: the caller applies it)."""
    return {k: node[k] for k in ("type", "key", "operator", "value") if k in node}


def _cohort(node: dict[str, Any]) -> dict[str, Any]:
    _check_keys(node, "cohort")
    for key in ("key", "value"):
        if node.get(key) is None:
            raise invalid(f"Missing required keys for cohort filter: {key}")
    if node["key"] != "id":
        raise invalid("A cohort filter's key must be 'id'")
    return {"key": "id", "type": "cohort", "value": cohort_id_of(node["value"]), "negation": _negation(node)}


def cohort_id_of(value: Any) -> int:
    """A cohort filter's value as an id (numbers and digit strings); anything else names no cohort."""
    number = _integer(value)
    if number is None:
        raise invalid("Invalid Cohort ID in filter")
    return number


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


# ---------------------------------------------------------------------------------------------------
# behavioral filters


def _behavioral(node: dict[str, Any]) -> dict[str, Any]:
    _check_keys(node, "behavioral")
    for key in ("key", "value", "event_type"):  # PostHog's field order: the first one missing is named
        if node.get(key) is None:
            raise invalid(f"Missing required keys for behavioral filter: {key}")
    kind = node["value"]
    if kind not in BEHAVIORAL_KINDS:
        raise invalid(f"Invalid behavioral property value for Cohort: {kind}")
    stored: dict[str, Any] = {"key": _entity(node["key"], node["event_type"], "key"), "type": "behavioral"}
    stored.update({"value": kind, "event_type": node["event_type"], "negation": _negation(node)})
    for name in _INTEGERS:
        if node.get(name) is not None:
            stored[name] = _positive(node[name], name)
    for name in ("time_interval", "seq_time_interval"):
        if node.get(name) is not None:
            stored[name] = _interval(node[name])
    for name in ("operator", "seq_event_type", "explicit_datetime", "explicit_datetime_to"):
        if node.get(name) is not None:
            stored[name] = node[name]
    if node.get("seq_event") is not None:
        stored["seq_event"] = node["seq_event"]
    if node.get("event_filters") is not None:
        stored["event_filters"] = _event_filters(node["event_filters"])
    _check_kind(stored)
    return stored


def _entity(key: Any, event_type: Any, name: str) -> str | int:
    if event_type not in EVENT_TYPES:
        raise invalid("Event type must be 'events' or 'actions'")
    if event_type == "actions":
        number = _integer(key)
        if number is None:
            raise invalid(f"A behavioral filter on actions needs an action id as its {name}, got {key!r}")
        return number
    if not isinstance(key, str) or not key:
        raise invalid(f"A behavioral filter on events needs an event name as its {name}")
    return key


def _positive(value: Any, name: str) -> int:
    number = _integer(value)
    if number is None:
        raise invalid(f"{name} must be an integer, got {value}")
    if number <= 0:
        raise invalid(f"{name} must be greater than 0, got {value}")
    return number


def _interval(value: Any) -> str:
    if value not in INTERVALS:
        raise invalid(f"Invalid interval: {value}")
    return value


def _check_kind(node: dict[str, Any]) -> None:
    kind = node["value"]
    required = list(_REQUIRED.get(kind, ()))
    if kind in _EXPLICIT_KINDS and node.get("explicit_datetime") is None:
        required = [*_WINDOW, *required]
    missing = [key for key in required if node.get(key) is None]
    if missing:
        raise invalid(f"Missing required keys for behavioral filter: {', '.join(missing)}")
    if (
        kind in ("performed_event_multiple", "performed_event_regularly")
        and node.get("operator") not in COUNT_OPERATORS
    ):
        raise invalid("count_operator must be gt(e), lt(e), exact, or None")
    if kind == "performed_event_regularly" and node["min_periods"] > node["total_periods"]:
        raise invalid(
            f"min_periods ({node['min_periods']}) cannot be greater than total_periods ({node['total_periods']})"
        )
    if kind in ("stopped_performing_event", "restarted_performing_event") and seconds(
        node["seq_time_value"], node["seq_time_interval"]
    ) > seconds(node["time_value"], node["time_interval"]):
        raise invalid("seq_date must be more recent than date")
    if kind == "performed_event_sequence":
        node["seq_event"] = _entity(node["seq_event"], node["seq_event_type"], "seq_event")
    for name in ("explicit_datetime", "explicit_datetime_to"):
        if node.get(name) is not None:
            _check_date(node[name], name)


def seconds(value: int, interval: str) -> int:
    return value * INTERVAL_SECONDS[interval]


def _check_date(value: Any, name: str) -> None:
    if not isinstance(value, str):
        raise invalid(f"{name} must be a date string (2024-01-31 or -30d)")
    try:
        parse_date(value, "UTC")
    except DateRangeError as error:
        raise invalid(f"{name}: {error.message}") from None


def _event_filters(filters: Any) -> list[dict[str, Any]]:
    if not isinstance(filters, list):
        raise invalid("event_filters must be a list of event, element or hogql property filters")
    for item in filters:
        kind = item.get("type") if isinstance(item, dict) else None
        allowed = _EVENT_FILTER_KEYS.get("event" if kind == "element" else kind)
        if allowed is None:
            raise invalid(f"Invalid event filter type '{kind}': use event, element or hogql")
        extra = sorted(set(item) - allowed)
        if extra:
            raise invalid(f"Unknown key '{extra[0]}' in an event filter")
    try:
        property_filters_to_expr(filters, scope="event")
    except PropertyFilterError as error:
        raise invalid(f"event_filters: {error.message}") from None
    return [dict(item) for item in filters]
