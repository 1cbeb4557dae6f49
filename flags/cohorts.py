"""Reads of cohorts for flags (the declared flags → cohorts edge): definitions with every cohort they
reference, and a person's static cohorts (Postgres `CohortPeople`; flags never read ClickHouse)."""

from __future__ import annotations

from collections.abc import Iterable

from cohorts.models import Cohort, CohortPeople
from flags.cohort_tree import CohortDefinition, cohort_properties


def cohort_definition_from_model(cohort: Cohort) -> CohortDefinition:
    return CohortDefinition(
        id=cohort.pk,
        name=cohort.name or "",
        is_static=cohort.is_static,
        properties=cohort_properties(is_static=cohort.is_static, filters=cohort.filters, groups=cohort.groups),
    )


def cohort_definitions_get(*, team_id: int, ids: Iterable[int | None]) -> dict[int, CohortDefinition]:
    """The live cohorts of this project among `ids` and, transitively, the cohorts they reference: one query
    per level of nesting. Another project's id or a deleted cohort is simply absent (it never matches)."""
    found: dict[int, CohortDefinition] = {}
    asked: set[int] = set()
    wanted = {i for i in ids if i is not None}
    while wanted:
        asked |= wanted
        rows = Cohort.objects.filter(team_id=team_id, deleted=False, pk__in=wanted).only(
            "id", "name", "is_static", "filters", "groups"
        )
        level = [cohort_definition_from_model(row) for row in rows]
        found.update((c.id, c) for c in level)
        wanted = {i for c in level for i in c.nested_ids if i is not None} - asked
    return found


def static_cohort_memberships(*, person_id: int | None, cohort_ids: Iterable[int]) -> frozenset[int]:
    """Which of these static cohorts list the person (one query; none without a person)."""
    ids = list(cohort_ids)
    if person_id is None or not ids:
        return frozenset()
    rows = CohortPeople.objects.filter(person_id=person_id, cohort_id__in=ids).values_list("cohort_id", flat=True)
    return frozenset(rows)
