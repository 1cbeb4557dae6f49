"""Cohorts as flags see them: a definition (static, or a tree of AND/OR groups of filters) and pure walks
over flag conditions and cohort trees. No database: `flags.cohorts` loads the definitions.

A cohort filter in a flag condition (or nested in a cohort) is `{"type": "cohort", "key": "id", "value": 5}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

EMPTY_GROUP: Mapping[str, Any] = {"type": "AND", "values": []}
# Legacy `groups` entries with these keys describe behaviour (performed an action or event), not properties.
LEGACY_BEHAVIOURAL_KEYS = ("action_id", "event_id", "days", "count", "count_operator")


@dataclass(frozen=True)
class CohortDefinition:
    """What flags need of a stored cohort (built once per cache fill, shared between requests)."""

    id: int
    name: str
    is_static: bool
    properties: Mapping[str, Any]  # the normalized group tree; EMPTY_GROUP for static cohorts

    @property
    def nested_ids(self) -> list[int | None]:
        """Cohorts this one references (None for an unusable reference), in tree order."""
        return [cohort_id_of(leaf) for leaf in leaves(self.properties) if leaf.get("type") == "cohort"]

    @property
    def has_behavioral(self) -> bool:
        """A filter on events in this cohort's own tree (referenced cohorts are checked on their own)."""
        return any(leaf.get("type") == "behavioral" for leaf in leaves(self.properties))


def is_group(node: Any) -> bool:
    return isinstance(node, Mapping) and node.get("type") in ("AND", "OR") and "values" in node


def leaves(tree: Any) -> Iterator[Mapping[str, Any]]:
    """Every filter of a group tree, depth first."""
    if is_group(tree):
        for value in tree.get("values") or []:
            yield from leaves(value)
    elif isinstance(tree, Mapping):
        yield tree


def _leaf(prop: Mapping[str, Any]) -> dict[str, Any]:
    return {**prop, "negation": bool(prop.get("negation", False))}


def _normalized(node: Any) -> dict[str, Any]:
    if is_group(node):
        return {"type": node["type"], "values": [_normalized(v) for v in node.get("values") or []]}
    return _leaf(node) if isinstance(node, Mapping) else {"type": "unknown"}


def _from_legacy_groups(groups: Any) -> dict[str, Any]:
    """Pre-`filters` cohorts: an OR of groups, each an AND of its properties, or a behavioural group."""
    ors: list[dict[str, Any]] = []
    for group in groups if isinstance(groups, list) else []:
        if not isinstance(group, Mapping):
            continue
        if any(group.get(key) is not None for key in LEGACY_BEHAVIOURAL_KEYS):
            ors.append({"type": "AND", "values": [{"type": "behavioral", "negation": False}]})
        else:
            ands = [_leaf({"type": "person", **p}) for p in group.get("properties") or [] if isinstance(p, Mapping)]
            ors.append({"type": "AND", "values": ands})
    return {"type": "OR", "values": ors}


def cohort_properties(*, is_static: bool, filters: Any, groups: Any) -> dict[str, Any]:
    """The cohort's property tree as `filters.properties` holds it (a flat list is an AND; legacy `groups`
    are converted), leaves with `negation` spelled out — the shape local evaluation sends."""
    if is_static:
        return dict(EMPTY_GROUP)
    properties = filters.get("properties") if isinstance(filters, Mapping) else None
    if isinstance(properties, list):
        return {"type": "AND", "values": [_normalized(p) for p in properties]}
    if is_group(properties):
        return _normalized(properties)
    if groups:
        return _from_legacy_groups(groups)
    return dict(EMPTY_GROUP)


def cohort_id_of(prop: Mapping[str, Any]) -> int | None:
    """The cohort id a cohort filter names; None when its value is not an id."""
    value = prop.get("value")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def condition_cohort_filters(filters: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The cohort filters of a flag's conditions, in order."""
    for condition in filters.get("groups") or []:
        for prop in (condition.get("properties") if isinstance(condition, Mapping) else None) or []:
            if isinstance(prop, Mapping) and prop.get("type") == "cohort":
                yield prop


def flag_cohort_ids(filters: Mapping[str, Any]) -> list[int | None]:
    """The cohorts a flag's conditions name directly (None for a value that is not an id)."""
    return [cohort_id_of(prop) for prop in condition_cohort_filters(filters)]


def with_dependencies(ids: Iterable[int | None], cohorts: Mapping[int, CohortDefinition]) -> set[int | None]:
    """`ids` and every cohort they reference, transitively (missing ones included: they are still named)."""
    seen: set[int | None] = set()
    pending = list(ids)
    while pending:
        cohort_id = pending.pop()
        if cohort_id in seen:
            continue
        seen.add(cohort_id)
        cohort = cohorts.get(cohort_id) if cohort_id is not None else None
        if cohort is not None:
            pending.extend(cohort.nested_ids)
    return seen
