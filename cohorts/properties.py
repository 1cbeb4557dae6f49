"""What a cohort's definition says, read without compiling it: the `filters` output (legacy `groups`
converted), its leaf filters, the cohorts it references, and its `cohort_type`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cohorts.models import Cohort

# Behavioural kinds PostHog calls analytical (they need history beyond simple counts).
ANALYTICAL_BEHAVIORAL = frozenset(
    {
        "performed_event_first_time",
        "performed_event_regularly",
        "performed_event_sequence",
        "stopped_performing_event",
        "restarted_performing_event",
    }
)
TYPE_RANK = {"static": 0, "person_property": 1, "behavioral": 2, "analytical": 3}
EMPTY = {"type": "AND", "values": []}


def _legacy_group(group: dict[str, Any]) -> dict[str, Any] | None:
    """One entry of the pre-2022 `groups` list as a property group; None for a group PostHog calls invalid."""
    props = group.get("properties")
    if props:
        if isinstance(props, dict) and "type" not in props and "values" not in props:
            props = [{"key": key, "value": value, "type": "person"} for key, value in props.items()]
        if isinstance(props, dict):
            return props
        values = [
            {**p, "type": "person"} if p.get("type", "event") == "event" else dict(p)
            for p in props
            if isinstance(p, dict)
        ]
        return {"type": "AND", "values": values}
    key = group.get("action_id") or group.get("event_id")
    if not key:
        return None
    try:
        count = max(0, int(group.get("count") or 0))
    except (TypeError, ValueError):
        count = 0
    behavioral = {
        "key": key,
        "type": "behavioral",
        "value": "performed_event_multiple" if count else "performed_event",
        "event_type": "actions" if group.get("action_id") else "events",
        "time_interval": "day",
        "time_value": group.get("days") or 365,
        "operator": group.get("count_operator"),
        "operator_value": count,
        "negation": False,
    }
    return {"type": "AND", "values": [behavioral]}


def properties_of(cohort: Cohort) -> dict[str, Any]:
    """The cohort's property group: `filters.properties`, else its legacy `groups` OR-ed, else an empty AND."""
    if isinstance(cohort.filters, dict) and cohort.filters.get("properties"):
        return cohort.filters["properties"]
    if cohort.groups:
        groups = [_legacy_group(g) if isinstance(g, dict) else None for g in cohort.groups]
        if any(g is None for g in groups):
            return dict(EMPTY)
        return {"type": "OR", "values": groups}
    return dict(EMPTY)


def filters_of(cohort: Cohort) -> dict[str, Any]:
    """`filters` as the API shows it: always `{"properties": …}`."""
    if isinstance(cohort.filters, dict) and cohort.filters:
        return cohort.filters
    return {"properties": properties_of(cohort)}


def leaves(node: Any) -> Iterator[dict[str, Any]]:
    """Every filter (not group) of a property group, depth first."""
    if isinstance(node, dict) and node.get("type") in ("AND", "OR") and isinstance(node.get("values"), list):
        for value in node["values"]:
            yield from leaves(value)
    elif isinstance(node, dict):
        yield node
    elif isinstance(node, list):
        for value in node:
            yield from leaves(value)


def referenced_cohort_ids(node: Any) -> list[int]:
    ids = []
    for leaf in leaves(node):
        if leaf.get("type") == "cohort":
            try:
                ids.append(int(leaf.get("value")))
            except (TypeError, ValueError):
                continue
    return ids


def has_behavioral(node: Any) -> bool:
    return any(leaf.get("type") == "behavioral" for leaf in leaves(node))


class UnknownCohortType(ValueError):
    """The definition does not say what type the cohort is (a message for a 400)."""


def cohort_type_of(
    *, is_static: bool, query: Any, properties: Any, team_id: int, seen: frozenset[int] = frozenset()
) -> str:
    """PostHog's `cohort_type` for a definition: static > query (analytical) > the most complex filter
    (person_property < behavioral < analytical), a referenced cohort counting as its own type."""
    if is_static:
        return "static"
    if query:
        return "analytical"
    best: str | None = None
    for leaf in leaves(properties):
        kind = _leaf_type(leaf, team_id, seen)
        if best is None or TYPE_RANK[kind] > TYPE_RANK[best]:
            best = kind
    if best is None:
        raise UnknownCohortType("Cannot determine type: no valid filters found")
    return best


def _leaf_type(leaf: dict[str, Any], team_id: int, seen: frozenset[int]) -> str:
    kind = leaf.get("type")
    if kind == "behavioral":
        return "analytical" if leaf.get("value") in ANALYTICAL_BEHAVIORAL else "behavioral"
    if kind == "cohort":
        try:
            ref = int(leaf.get("value"))
        except (TypeError, ValueError):
            raise UnknownCohortType("Cohort filter has no value") from None
        if ref in seen:
            raise UnknownCohortType("Circular cohort reference detected")
        other = Cohort.objects.filter(pk=ref, team_id=team_id).first()
        if other is None:
            raise UnknownCohortType(f"Referenced cohort {ref} not found")
        return cohort_type_of(
            is_static=other.is_static,
            query=other.query,
            properties=properties_of(other),
            team_id=team_id,
            seen=seen | {ref},
        )
    return "person_property"
