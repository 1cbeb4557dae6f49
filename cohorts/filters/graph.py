"""Cohorts referencing cohorts: each cohort's effective property tree (legacy `groups` converted as PostHog
reads them), references that must exist in the same project and must not form a loop, and what a cohort is
as a whole (`cohort_type_for`, `has_behavioral`), following references.

A referenced cohort is looked up in the cohort's own project only, deleted ones included (PostHog's loop check
sees them too); another project's id is simply not found.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError

from cohorts.filters.grammar import ANALYTICAL_KINDS, GROUP_TYPES, cohort_id_of, invalid, walk
from cohorts.models import Cohort

LOOP = "Cohorts cannot reference other cohorts in a loop."
UNKNOWN_COHORT = "Invalid Cohort ID in filter"
TYPE_ORDER = ("static", "person_property", "behavioral", "analytical")
"""Cohort types from the simplest to the most demanding; a cohort is the most demanding of its parts."""


def cohort_properties(cohort: Cohort) -> dict[str, Any]:
    """The property tree a cohort stands for: `filters.properties`, else its legacy `groups` (an OR of one AND
    group per entry: `properties` as person filters, `action_id`/`event_id` as a behavioral filter over
    `days` (365) days, `performed_event_multiple` when it has a `count`)."""
    filters = cohort.filters or {}
    if isinstance(filters, dict) and isinstance(filters.get("properties"), dict) and filters["properties"]:
        return filters["properties"]
    groups = [_legacy_group(group) for group in cohort.groups or [] if isinstance(group, dict)]
    if any(group is None for group in groups):
        return {"type": "AND", "values": []}  # PostHog: an unreadable legacy group means no criteria
    return {"type": "OR", "values": groups} if groups else {"type": "AND", "values": []}


def _legacy_group(group: dict[str, Any]) -> dict[str, Any] | None:
    props = group.get("properties")
    if props:
        if isinstance(props, dict) and props.get("type") in GROUP_TYPES:
            return props
        if isinstance(props, dict):  # the oldest shape: {key: value}
            props = [{"key": key, "value": value, "type": "person"} for key, value in props.items()]
        return {"type": "AND", "values": [_legacy_property(p) for p in props if isinstance(p, dict)]}
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
        "time_value": group.get("days") or 365,
        "time_interval": "day",
        "negation": False,
    }
    if count:
        behavioral.update({"operator": group.get("count_operator"), "operator_value": count})
    return {"type": "AND", "values": [behavioral]}


def _legacy_property(prop: dict[str, Any]) -> dict[str, Any]:
    """Old saved properties: type `event` meant person, and the operator defaulted to exact."""
    kind = "person" if prop.get("type", "event") == "event" else prop["type"]
    converted = {**prop, "type": kind}
    if kind == "person" and not converted.get("operator"):
        converted["operator"] = "exact"
    return converted


def find_cohort(team_id: int, cohort_id: int) -> Cohort | None:
    return Cohort.objects.filter(team_id=team_id, pk=cohort_id).first()


def referenced_ids(tree: dict[str, Any]) -> list[int]:
    """Ids of the cohorts a tree references directly (a value naming no id is left to the grammar)."""
    ids = []
    for item in walk(tree):
        if item.get("type") == "cohort":
            try:
                ids.append(cohort_id_of(item.get("value")))
            except ValidationError:
                continue
    return ids


def check_references(tree: dict[str, Any], team_id: int, cohort_id: int | None) -> None:
    """Every referenced cohort exists in the project, and none leads back to one on its own path (`cohort_id`,
    the cohort being saved, included)."""
    seen: set[int] = set()

    def visit(ids: list[int], path: frozenset[int]) -> None:
        for ref in ids:
            if ref in path:
                raise invalid(LOOP)
            if ref in seen:
                continue
            seen.add(ref)
            cohort = find_cohort(team_id, ref)
            if cohort is None:
                raise invalid(UNKNOWN_COHORT)
            visit(referenced_ids(cohort_properties(cohort)), path | {ref})

    visit(referenced_ids(tree), frozenset({cohort_id} if cohort_id is not None else ()))


def has_behavioral(filters: Any, team: Any) -> bool:
    """Whether the cohort (a Cohort, `filters` or a property tree) has a behavioral filter, directly or through
    a referenced live dynamic cohort (a static cohort has its members listed, whatever its filters say)."""
    if isinstance(filters, Cohort) and filters.is_static:
        return False
    tree, own_id = _tree_of(filters)
    return _has_behavioral(tree, team.pk, set() if own_id is None else {own_id})


def _has_behavioral(tree: dict[str, Any], team_id: int, seen: set[int]) -> bool:
    if any(f.get("type") == "behavioral" for f in walk(tree)):
        return True
    for ref in referenced_ids(tree):
        if ref in seen:
            continue
        seen.add(ref)
        cohort = find_cohort(team_id, ref)
        if _is_dynamic(cohort) and _has_behavioral(cohort_properties(cohort), team_id, seen):
            return True
    return False


def cohort_type_for(filters: Any, *, team: Any = None, is_static: bool = False, query: Any = None) -> str:
    """PostHog's `cohort_type`: `static` for static cohorts (and dynamic ones without criteria), `analytical` for
    a query or any first-time / regularly / sequence / stopped / restarted filter, else `behavioral` for any
    behavioral filter, else `person_property`; live dynamic cohorts it references count (they need `team`)."""
    if isinstance(filters, Cohort):
        is_static, query = is_static or filters.is_static, query or filters.query
    if is_static:
        return "static"
    if query:
        return "analytical"
    tree, own_id = _tree_of(filters)
    return _type_of(tree, team, set() if own_id is None else {own_id})


def _type_of(tree: dict[str, Any], team: Any, seen: set[int]) -> str:
    found = "static"
    for item in walk(tree):
        kind = item.get("type")
        if kind == "behavioral":
            found = _most(found, "analytical" if item.get("value") in ANALYTICAL_KINDS else "behavioral")
        elif kind == "person":
            found = _most(found, "person_property")
    for ref in referenced_ids(tree) if team is not None else []:
        if ref in seen:
            continue
        seen.add(ref)
        cohort = find_cohort(team.pk, ref)
        if _is_dynamic(cohort):
            found = _most(found, _type_of(cohort_properties(cohort), team, seen))
    return found


def _is_dynamic(cohort: Cohort | None) -> bool:
    """A live dynamic cohort: its filters decide its members (a deleted one has none, a static one a list)."""
    return cohort is not None and not cohort.is_static and not cohort.deleted


def _most(a: str, b: str) -> str:
    return a if TYPE_ORDER.index(a) >= TYPE_ORDER.index(b) else b


def _tree_of(filters: Any) -> tuple[dict[str, Any], int | None]:
    """(property tree, own cohort id) of a Cohort, a `filters` dict or a property tree."""
    if isinstance(filters, Cohort):
        return cohort_properties(filters), filters.pk
    if isinstance(filters, dict) and "properties" in filters:
        return filters["properties"] or {"type": "AND", "values": []}, None
    return filters or {"type": "AND", "values": []}, None
