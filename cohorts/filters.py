"""PLACEHOLDER for this branch only (the cohort-filters branch owns this module and replaces it on merge):
person-property cohort filters → a HogQL SELECT of the members' person ids, and a light validation. Only
`person` filters (with `negation`) in nested AND/OR groups; behavioural and cohort-in-cohort filters are the
full version's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.hogql.parser import to_hogql
from query.properties import PropertyFilterError, property_filters_to_expr


def _properties(cohort_or_filters: Any) -> Any:
    filters = getattr(cohort_or_filters, "filters", cohort_or_filters)
    return (filters or {}).get("properties") if isinstance(filters, dict) else None


def _tree(node: Any) -> Any:
    """`negation` is cohort grammar, not a property filter key: `{"type": "AND", "values": [...]}` with the
    negated filters wrapped in a one-filter NOT the property module does not have, so handled here."""
    if isinstance(node, dict) and node.get("type") in ("AND", "OR") and "values" in node:
        return {"type": node["type"], "values": [_tree(v) for v in node["values"]]}
    return {k: v for k, v in node.items() if k != "negation"} if isinstance(node, dict) else node


def _expr(node: Any, *, team: Team, now: dt.datetime | None) -> exp.Expression:
    if isinstance(node, dict) and node.get("type") in ("AND", "OR") and "values" in node:
        parts = [_expr(v, team=team, now=now) for v in node["values"]]
        if not parts:
            return exp.true()
        return exp.and_(*parts) if node["type"] == "AND" else exp.or_(*parts)
    if isinstance(node, dict) and node.get("type") not in (None, "person"):
        raise PropertyFilterError(f"Cohort filters of type '{node.get('type')}' are not supported yet")
    expr = property_filters_to_expr(_tree(node), scope="person", timezone=team.timezone or "UTC", now=now)
    return exp.Not(this=exp.Paren(this=expr)) if isinstance(node, dict) and node.get("negation") else expr


def members_select(team: Team, cohort_or_filters: Any, *, now: dt.datetime | None = None) -> str:
    """HogQL: `SELECT id FROM persons WHERE <filters>` (one column, the person id)."""
    condition = _expr(_properties(cohort_or_filters) or {"type": "AND", "values": []}, team=team, now=now)
    return to_hogql(exp.select("id").from_("persons").where(condition))


def _person_leaves(node: Any) -> Any:
    """The tree without cohort and behavioral leaves (this placeholder only checks person filters)."""
    if isinstance(node, dict) and node.get("type") in ("AND", "OR") and "values" in node:
        return {"type": node["type"], "values": [_person_leaves(v) for v in node["values"] if _keep(v)]}
    return node


def _keep(node: Any) -> bool:
    return not (isinstance(node, dict) and node.get("type") in ("cohort", "behavioral"))


def validate_filters(filters: Any, team: Team) -> None:
    """Raise DRF ValidationError when the person filters cannot be compiled."""
    try:
        members_select(team, {"properties": _person_leaves(_properties(filters))})
    except PropertyFilterError as error:
        raise serializers.ValidationError(error.message) from None
