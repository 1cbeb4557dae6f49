"""Reads for flag evaluation: definitions for server SDKs, the stored person, a whole evaluation, and which
flags use a cohort."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flags.cache import TeamFlags, team_flags_get
from flags.cohort_tree import CohortDefinition, flag_cohort_ids, with_dependencies
from flags.cohorts import cohort_definitions_get, static_cohort_memberships
from flags.evaluation import EvaluationContext, FlagResult, evaluate_flags
from flags.inlining import inline_single_cohort
from flags.models import FeatureFlag, GroupTypeMapping
from persons.models import Person


def _cohorts_payload(cohorts: dict[int, CohortDefinition]) -> dict[str, Any]:
    return {str(c.id): c.properties for c in sorted(cohorts.values(), key=lambda c: c.id) if not c.is_static}


def local_evaluation_payload(*, team_id: int, send_cohorts: bool = False) -> dict[str, Any]:
    """`{flags, group_type_mapping, cohorts}` as posthog-python and posthog-node poll it. With `send_cohorts`
    the flags go unchanged and `cohorts` holds every non-static cohort they reference (nested ones too);
    without it `cohorts` is empty and single-cohort conditions are inlined where PostHog's rules allow."""
    flags = list(FeatureFlag.objects.filter(team_id=team_id, deleted=False).order_by("id"))
    mapping = GroupTypeMapping.objects.filter(team_id=team_id).values_list("group_type_index", "group_type")
    named = {i for flag in flags for i in flag_cohort_ids(flag.filters or {})}
    cohorts = cohort_definitions_get(team_id=team_id, ids=named)

    def filters_of(flag: FeatureFlag) -> Any:
        filters = flag.filters or {}
        return filters if send_cohorts else inline_single_cohort(filters, cohorts)

    return {
        "flags": [
            {
                "id": flag.pk,
                "team_id": flag.team_id,
                "name": flag.name,
                "key": flag.key,
                "filters": filters_of(flag),
                "deleted": False,
                "active": flag.active,
                "ensure_experience_continuity": flag.ensure_experience_continuity,
                "version": flag.version,
            }
            for flag in flags
        ],
        "group_type_mapping": {str(index): group_type for index, group_type in mapping},
        "cohorts": _cohorts_payload(cohorts) if send_cohorts else {},
    }


def active_flags_using_cohort(team_id: int, cohort_id: int) -> list[tuple[str, str]]:
    """`("feature_flag", name or key)` of the project's active flags whose conditions use the cohort, directly
    or through a cohort that references it — the registry's `reference_users("cohort")` lookup."""
    rows = FeatureFlag.objects.filter(team_id=team_id, active=True, deleted=False).order_by("id")
    flags = [(flag, flag_cohort_ids(flag.filters or {})) for flag in rows.only("id", "name", "key", "filters")]
    cohorts = cohort_definitions_get(team_id=team_id, ids={i for _, ids in flags for i in ids})
    if cohort_id not in cohorts:
        return []  # not a live cohort of this project: no flag of it can use that cohort
    return [
        ("feature_flag", flag.name or flag.key)
        for flag, ids in flags
        if ids and cohort_id in with_dependencies(ids, cohorts)
    ]


def person_get(*, team_id: int, distinct_id: str) -> tuple[int | None, dict[str, Any]]:
    """The id and stored properties of the person behind `distinct_id` (one query), or (None, {})."""
    row = (
        Person.objects.filter(team_id=team_id, distinct_ids__distinct_id=distinct_id)
        .values_list("id", "properties")
        .first()
    )
    if row is None:
        return None, {}
    return row[0], row[1] if isinstance(row[1], dict) else {}


def flags_evaluate(
    *,
    team_id: int,
    distinct_id: str,
    person_properties: dict[str, Any],
    groups: dict[str, str],
    group_properties: dict[str, dict[str, Any]],
    device_id: str | None = None,
    only_keys: Iterable[str] | None = None,
) -> tuple[TeamFlags, dict[str, FlagResult]]:
    """Evaluate the project's cached flags; request properties override stored person properties."""
    team_flags = team_flags_get(team_id=team_id)
    properties, memberships = person_properties, frozenset[int]()
    if team_flags.needs_person_properties:
        person_id, stored = person_get(team_id=team_id, distinct_id=distinct_id)
        properties = {**stored, **person_properties}
        memberships = static_cohort_memberships(person_id=person_id, cohort_ids=team_flags.static_cohort_ids)
    ctx = EvaluationContext(
        distinct_id=distinct_id,
        person_properties=properties,
        groups=groups,
        group_properties=group_properties,
        group_type_mapping=team_flags.group_type_mapping,
        device_id=device_id,
        cohorts=team_flags.cohorts,
        static_cohort_ids=memberships,
    )
    return team_flags, evaluate_flags(team_flags.flags, ctx, only_keys=only_keys)
