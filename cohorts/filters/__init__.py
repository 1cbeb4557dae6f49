"""Dynamic cohort filters (reference §5.3): the grammar and its validation, what kind of cohort a tree makes,
and the HogQL SELECT of a cohort's members.

- `validate_filters(filters, *, team, cohort_id=None)` → the filters as stored, or a `rest_framework`
  ValidationError with PostHog's wording (for a serializer's `validate_filters`);
- `members_select(team, cohort_or_filters, *, now=None)` → HogQL text `SELECT id FROM persons WHERE …` (column
  `id`, the person UUID) for `query.runner.hogql_execute`;
- `cohort_type_for(filters, *, team, is_static, query)`, `has_behavioral(filters, team)` (through referenced
  cohorts; what flags refuse), `cohort_properties(cohort)` (legacy `groups` converted), `check_negations`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cohorts.filters.behavioral import Context
from cohorts.filters.compile import MEMBER_COLUMN, members_select
from cohorts.filters.grammar import check_negations, normalized_tree, properties_of, walk
from cohorts.filters.graph import check_references, cohort_properties, cohort_type_for, has_behavioral

__all__ = [
    "MEMBER_COLUMN",
    "check_negations",
    "cohort_properties",
    "cohort_type_for",
    "has_behavioral",
    "members_select",
    "validate_filters",
]


def validate_filters(filters: Any, *, team: Any, cohort_id: int | None = None) -> dict[str, Any]:
    """Check a cohort's `filters` strictly and return them as stored (`{"properties": …}`, defaults filled in).

    In order: the `properties` key (`attr: filters__detail`), the grammar of every group and filter, referenced
    cohorts (same project: `Invalid Cohort ID in filter`; `Cohorts cannot reference other cohorts in a loop.`,
    `cohort_id` being the cohort saved), referenced actions, and negations paired with a positive filter
    (`Negations must be paired with a positive filter.`; PostHog only finds that when calculating)."""
    tree = normalized_tree(properties_of(filters))
    check_references(tree, team.pk, cohort_id)
    _check_actions(tree, team)
    check_negations(tree)
    return {"properties": tree}


def _check_actions(tree: dict[str, Any], team: Any) -> None:
    """Every action a behavioral filter names is a live action of the project."""
    ctx = Context(team=team, now=dt.datetime.now(dt.UTC), property_types={})
    for item in walk(tree):
        if item["type"] != "behavioral":
            continue
        for key, event_type in ((item["key"], item["event_type"]), (item.get("seq_event"), item.get("seq_event_type"))):
            if event_type == "actions":
                ctx.entity(key, event_type)
