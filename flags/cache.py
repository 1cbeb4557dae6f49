"""In-process cache of a project's compiled flag definitions for the public flag endpoints.

Definitions (with the cohorts the flags reference, nested ones included) are dropped on every write of a
flag, group type or cohort in this process (signals) and refreshed after FLAGS_CACHE_TTL seconds in any
case, so other worker processes see changes within that time. Static cohort members are not cached: they
are read per request, for the person asked about. (Token → project comes
from the SDK endpoints' cache, `posthog_clone.sdk.tokens.team_id_for_token`.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flags.cohort_tree import CohortDefinition
from flags.cohorts import cohort_definitions_get
from flags.evaluation import FlagDefinition
from flags.models import FeatureFlag, GroupTypeMapping

FLAGS_CACHE_TTL = 5.0


@dataclass(frozen=True)
class TeamFlags:
    team_id: int
    flags: tuple[FlagDefinition, ...]
    group_type_mapping: dict[int, str]
    needs_person_properties: bool  # an active flag matches person properties or cohorts
    cohorts: dict[int, CohortDefinition]
    static_cohort_ids: frozenset[int]  # the static ones among `cohorts`, whose members are read per request
    loaded_at: float


_lock = threading.Lock()
_team_flags: dict[int, TeamFlags] = {}


def flag_definition_from_model(flag: FeatureFlag) -> FlagDefinition:
    return FlagDefinition(
        id=flag.pk,
        key=flag.key,
        active=flag.active,
        filters=flag.filters or {},
        version=flag.version,
        ensure_experience_continuity=flag.ensure_experience_continuity,
    )


def _load_team_flags(team_id: int) -> TeamFlags:
    flags = tuple(
        flag_definition_from_model(flag)
        for flag in FeatureFlag.objects.filter(team_id=team_id, deleted=False).order_by("id")
    )
    mapping = dict(GroupTypeMapping.objects.filter(team_id=team_id).values_list("group_type_index", "group_type"))
    active = [f for f in flags if f.active]
    cohorts = cohort_definitions_get(team_id=team_id, ids={i for f in active for i in f.cohort_ids})
    return TeamFlags(
        team_id=team_id,
        flags=flags,
        group_type_mapping=mapping,
        needs_person_properties=any(f.uses_person_properties or f.cohort_ids for f in active),
        cohorts=cohorts,
        static_cohort_ids=frozenset(c.id for c in cohorts.values() if c.is_static),
        loaded_at=time.monotonic(),
    )


def team_flags_get(*, team_id: int) -> TeamFlags:
    cached = _team_flags.get(team_id)
    if cached is not None and time.monotonic() - cached.loaded_at < FLAGS_CACHE_TTL:
        return cached
    fresh = _load_team_flags(team_id)
    with _lock:
        _team_flags[team_id] = fresh
    return fresh


def team_flags_invalidate(*, team_id: int) -> None:
    with _lock:
        _team_flags.pop(team_id, None)


def caches_clear() -> None:
    with _lock:
        _team_flags.clear()
