"""A cohort → the HogQL text of `SELECT id FROM persons WHERE …`: the ids of its members, one row each (the
`persons` table holds each live person of the project once; deleted persons are never members).

The WHERE mirrors the property tree: groups are AND/OR, a person filter is the shared property-filter
expression over `persons.properties`, a behavioral filter is `id IN (SELECT person_id FROM events …)`
(`cohorts.filters.behavioral`), and a negated filter is `NOT` of its (null-safe) condition, so within an AND
group it subtracts from the positive ones. Referenced cohorts:

- dynamic: their own tree, compiled in place (recursively, fresh as of `now`; no dependency on the referenced
  cohort having been calculated). A deleted one has no members.
- static: their members as listed in Postgres (`CohortPeople`), as a constant list of ids.

The query is HogQL, so `query.runner.hogql_execute` guards every table it reads with the team.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlglot import exp

from cohorts.filters.behavioral import Context, behavioral_select
from cohorts.filters.grammar import check_negations, invalid, normalized_tree, person_property_filter, properties_of
from cohorts.filters.graph import LOOP, UNKNOWN_COHORT, cohort_properties, find_cohort
from cohorts.models import Cohort, CohortPeople
from query.hogql.ast import call, const
from query.hogql.parser import to_hogql
from query.properties import PropertyFilterError, property_filters_to_expr
from query.selectors import property_types_for_team

logger = logging.getLogger(__name__)

MEMBER_COLUMN = "id"
"""The single column of `members_select`: the person's UUID."""
STATIC_LIST_LIMIT = 20_000
"""Most members of a referenced static cohort inlined as constants (HogQL text stays under its 1 MB limit)."""


def members_select(team: Any, cohort_or_filters: Cohort | dict[str, Any], *, now: dt.datetime | None = None) -> str:
    """HogQL text of a SELECT whose single column `id` is the person id of every member of a cohort (a Cohort
    of `team`, or its `filters` `{"properties": …}`), with behavioral windows counted back from `now`.
    Raises ValidationError for a tree that cannot be computed (unpaired negation, a loop, an unknown cohort or
    action)."""
    now = now or dt.datetime.now(dt.UTC)
    ctx = Context(team=team, now=now, property_types=property_types_for_team(team=team))
    if isinstance(cohort_or_filters, Cohort):
        if cohort_or_filters.team_id != team.pk:
            raise ValueError("members_select: the cohort belongs to another project")
        condition = _cohort_condition(cohort_or_filters, ctx, frozenset())
    else:
        condition = _tree_condition(properties_of(cohort_or_filters), ctx, frozenset())
    select = exp.select(MEMBER_COLUMN).from_("persons").where(condition, copy=False)
    text = to_hogql(select)
    logger.debug("cohort members select", extra={"team_id": team.pk, "length": len(text)})
    return text


def _tree_condition(tree: dict[str, Any], ctx: Context, path: frozenset[int]) -> exp.Expression:
    tree = normalized_tree(tree)
    check_negations(tree)
    return _node(tree, ctx, path)


def _node(node: dict[str, Any], ctx: Context, path: frozenset[int]) -> exp.Expression:
    if node["type"] in ("AND", "OR"):
        if not node["values"]:
            return exp.false()  # a group without criteria has no members
        parts = [_node(value, ctx, path) for value in node["values"]]
        return exp.and_(*parts, copy=False) if node["type"] == "AND" else exp.or_(*parts, copy=False)
    condition = _filter(node, ctx, path)
    if node.get("negation"):  # a filter that cannot be evaluated (a missing property) is not matched
        return exp.not_(call("ifNull", condition, const(0)))
    return exp.paren(condition)


def _filter(node: dict[str, Any], ctx: Context, path: frozenset[int]) -> exp.Expression:
    if node["type"] == "person":
        try:
            return property_filters_to_expr(
                person_property_filter(node),
                scope="person",
                property_types=ctx.property_types,
                timezone=ctx.timezone,
                now=ctx.now,
            )
        except PropertyFilterError as error:
            raise invalid(error.message) from None
    if node["type"] == "behavioral":
        return _member_of(behavioral_select(node, ctx))
    cohort = find_cohort(ctx.team.pk, node["value"])
    if cohort is None:
        raise invalid(UNKNOWN_COHORT)
    return _cohort_condition(cohort, ctx, path)


def _cohort_condition(cohort: Cohort, ctx: Context, path: frozenset[int]) -> exp.Expression:
    if cohort.pk in path:
        raise invalid(LOOP)
    if cohort.deleted:
        return exp.false()
    if cohort.is_static:
        return _static_members(cohort)
    return _tree_condition(cohort_properties(cohort), ctx, path | {cohort.pk})


def _static_members(cohort: Cohort) -> exp.Expression:
    """The listed members as constants: HogQL cannot read `person_static_cohort` yet (`IN COHORT` will)."""
    people = CohortPeople.objects.filter(cohort=cohort)
    count = people.count()
    if count > STATIC_LIST_LIMIT:
        raise invalid(
            f"Cohort {cohort.pk} is a static cohort of {count} persons: a dynamic cohort can include static cohorts "
            f"of up to {STATIC_LIST_LIMIT} persons"
        )
    ids = [str(uuid) for uuid in people.values_list("person__uuid", flat=True)]
    if not ids:
        return exp.false()
    return exp.In(this=exp.column(MEMBER_COLUMN), expressions=[exp.Literal.string(i) for i in sorted(ids)])


def _member_of(select: exp.Select) -> exp.Expression:
    return exp.In(this=exp.column(MEMBER_COLUMN), query=exp.Subquery(this=select))
