"""In-process cache of a project's compiled flag definitions for the public flag endpoints.

Definitions are dropped on every write in this process (signals) and refreshed after FLAGS_CACHE_TTL
seconds in any case, so other worker processes see changes within that time. (Token → project comes
from the SDK endpoints' cache, `posthog_clone.sdk.tokens.team_id_for_token`.)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flags.evaluation import FlagDefinition
from flags.models import FeatureFlag, GroupTypeMapping

FLAGS_CACHE_TTL = 5.0


@dataclass(frozen=True)
class TeamFlags:
    team_id: int
    flags: tuple[FlagDefinition, ...]
    group_type_mapping: dict[int, str]
    needs_person_properties: bool
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
    return TeamFlags(
        team_id=team_id,
        flags=flags,
        group_type_mapping=mapping,
        needs_person_properties=any(f.active and f.uses_person_properties for f in flags),
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
