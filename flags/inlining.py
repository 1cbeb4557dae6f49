"""Local evaluation without `send_cohorts`: a flag whose conditions name exactly one cohort (nested ones
count) is sent with that cohort spelled out as person-property conditions when PostHog's rules allow it
(reference §6); otherwise the flag goes as is and SDKs ask the server. Pure: cohorts come loaded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flags.cohort_tree import CohortDefinition, cohort_id_of, flag_cohort_ids, is_group, leaves, with_dependencies

PropertyLists = list[list[dict[str, Any]]]


def _only_leaves(values: list[Any]) -> list[dict[str, Any]] | None:
    return None if any(is_group(v) for v in values) else [dict(v) for v in values]


def _reduce_to_conditions(tree: Mapping[str, Any]) -> PropertyLists | None:
    """The tree as an OR of property lists, when it is one of: a single property, a single AND list (one
    condition), a single OR list (a condition per property), or an OR of AND lists / properties."""
    values = list(tree.get("values") or [])
    if len(values) == 1 and not is_group(values[0]):
        return [[dict(values[0])]]
    if len(values) == 1:
        inner = _only_leaves(list(values[0].get("values") or []))
        if inner is None:
            return None
        return [inner] if values[0]["type"] == "AND" else [[prop] for prop in inner]
    if tree.get("type") != "OR":
        return None
    conditions: PropertyLists = []
    for value in values:
        if not is_group(value):
            conditions.append([dict(value)])
            continue
        inner = _only_leaves(list(value.get("values") or [])) if value["type"] == "AND" else None
        if inner is None:
            return None  # an OR inside the OR, or deeper nesting: not expressible as flag conditions
        conditions.append(inner)
    return conditions


def _cohort_conditions(cohort: CohortDefinition | None) -> PropertyLists | None:
    if cohort is None or cohort.is_static:
        return None
    found = list(leaves(cohort.properties))
    if not found or any(leaf.get("type") != "person" or leaf.get("negation") for leaf in found):
        return None
    return _reduce_to_conditions(cohort.properties)


def inline_single_cohort(filters: Mapping[str, Any], cohorts: Mapping[int, CohortDefinition]) -> Mapping[str, Any]:
    """`filters` with its one cohort condition replaced, in place, by the cohort's conditions (each carrying
    the replaced condition's rollout); `filters` unchanged when any rule forbids it."""
    named = flag_cohort_ids(filters)
    if len(with_dependencies(named, cohorts)) != 1:
        return filters
    groups = list(filters.get("groups") or [])
    if any(isinstance(g, Mapping) and g.get("variant") for g in groups):
        return filters
    replacement = _cohort_conditions(cohorts.get(named[0]) if named[0] is not None else None)
    if replacement is None:
        return filters
    out: list[Any] = []
    for condition in groups:
        props = list(condition.get("properties") or [])
        cohort_props = [p for p in props if isinstance(p, Mapping) and p.get("type") == "cohort"]
        if not cohort_props:
            out.append(condition)
            continue
        prop = cohort_props[0]
        if len(props) > 1 or cohort_id_of(prop) is None or (prop.get("operator") or "in") not in ("in", "exact"):
            return filters  # not alone in its condition, or negated (`not_in`): sent as is
        rollout = condition.get("rollout_percentage")
        out.extend({"properties": conditions, "rollout_percentage": rollout} for conditions in replacement)
    return {**filters, "groups": out}
