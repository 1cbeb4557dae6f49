"""Reads for flag evaluation: definitions for server SDKs, stored person properties, a whole evaluation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flags.cache import TeamFlags, team_flags_get
from flags.evaluation import EvaluationContext, FlagResult, evaluate_flags
from flags.models import FeatureFlag, GroupTypeMapping
from persons.models import Person


def local_evaluation_payload(*, team_id: int) -> dict[str, Any]:
    """`{flags, group_type_mapping, cohorts}` as posthog-python and posthog-node poll it."""
    flags = FeatureFlag.objects.filter(team_id=team_id, deleted=False).order_by("id")
    mapping = GroupTypeMapping.objects.filter(team_id=team_id).values_list("group_type_index", "group_type")
    return {
        "flags": [
            {
                "id": flag.pk,
                "team_id": flag.team_id,
                "name": flag.name,
                "key": flag.key,
                "filters": flag.filters or {},
                "deleted": False,
                "active": flag.active,
                "ensure_experience_continuity": flag.ensure_experience_continuity,
                "version": flag.version,
            }
            for flag in flags
        ],
        "group_type_mapping": {str(index): group_type for index, group_type in mapping},
        "cohorts": {},
    }


def person_properties_get(*, team_id: int, distinct_id: str) -> dict[str, Any]:
    """The stored properties of the person behind `distinct_id` (one query), or {}."""
    row = (
        Person.objects.filter(team_id=team_id, distinct_ids__distinct_id=distinct_id)
        .values_list("properties", flat=True)
        .first()
    )
    return row if isinstance(row, dict) else {}


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
    properties = person_properties
    if team_flags.needs_person_properties:
        properties = {**person_properties_get(team_id=team_id, distinct_id=distinct_id), **person_properties}
    ctx = EvaluationContext(
        distinct_id=distinct_id,
        person_properties=properties,
        groups=groups,
        group_properties=group_properties,
        group_type_mapping=team_flags.group_type_mapping,
        device_id=device_id,
    )
    return team_flags, evaluate_flags(team_flags.flags, ctx, only_keys=only_keys)
