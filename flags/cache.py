"""In-process caches for the public flag endpoints: a project's flag definitions and token → project.

Flag definitions are dropped on every write in this process (signals) and refreshed after
FLAGS_CACHE_TTL seconds in any case, so other worker processes see changes within that time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flags.evaluation import FlagDefinition
from flags.models import FeatureFlag, GroupTypeMapping
from posthog_clone.accounts.models import Team

FLAGS_CACHE_TTL = 5.0
TOKEN_CACHE_TTL = 60.0
UNKNOWN_TOKEN_TTL = 5.0


@dataclass(frozen=True)
class TeamFlags:
    team_id: int
    flags: tuple[FlagDefinition, ...]
    group_type_mapping: dict[int, str]
    needs_person_properties: bool
    loaded_at: float


@dataclass(frozen=True)
class TokenTeam:
    """The little of a project the public endpoints need."""

    id: int
    api_token: str
    secret_api_token: str


_lock = threading.Lock()
_team_flags: dict[int, TeamFlags] = {}
_tokens: dict[str, tuple[TokenTeam | None, float]] = {}


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


def token_team_get(*, token: str) -> TokenTeam | None:
    """The project whose api_token is `token`, or None (also cached, briefly, so floods stay cheap)."""
    now = time.monotonic()
    hit = _tokens.get(token)
    if hit is not None:
        team, expires = hit
        if now < expires:
            return team
    row = Team.objects.filter(api_token=token).values_list("id", "api_token", "secret_api_token").first()
    team = TokenTeam(*row) if row else None
    with _lock:
        if len(_tokens) > 10_000:
            _tokens.clear()
        _tokens[token] = (team, now + (TOKEN_CACHE_TTL if team else UNKNOWN_TOKEN_TTL))
    return team


def caches_clear() -> None:
    with _lock:
        _team_flags.clear()
        _tokens.clear()
