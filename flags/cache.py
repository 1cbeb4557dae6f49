"""In-process cache of a project's compiled flag definitions for the public flag endpoints.

Definitions (with the cohorts the flags reference, nested ones included) are kept with the project's
definitions version, a token in the shared cache (the embedded default's diskcache, or Redis) that every
write of a flag, group type or cohort replaces (signals, again once the write commits). Each request
compares the two (one shared-cache read), so a change made through any process is answered by every
process from the next request on. Definitions are also reloaded after FLAGS_CACHE_TTL seconds in any case
(writes that bypass the signals, such as `QuerySet.update()`, or a shared cache that cannot be read).
Static cohort members are not cached: they are read per request, for the person asked about. (Token →
project comes from the SDK endpoints' cache, `posthog_clone.sdk.tokens.team_id_for_token`.)
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from flags.cohort_tree import CohortDefinition
from flags.cohorts import cohort_definitions_get
from flags.evaluation import FlagDefinition
from flags.models import FeatureFlag, GroupTypeMapping

FLAGS_CACHE_TTL = 5.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TeamFlags:
    team_id: int
    flags: tuple[FlagDefinition, ...]
    group_type_mapping: dict[int, str]
    needs_person_properties: bool  # an active flag matches person properties or cohorts
    cohorts: dict[int, CohortDefinition]
    static_cohort_ids: frozenset[int]  # the static ones among `cohorts`, whose members are read per request
    loaded_at: float
    version: str | None = None  # the shared definitions version read before loading


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


def _version_key(team_id: int) -> str:
    return f"flags:definitions:version:{team_id}"


def _shared_version(team_id: int) -> str | None:
    try:
        return cache.get(_version_key(team_id))
    except Exception:  # the shared cache is down: serve what this process has, FLAGS_CACHE_TTL bounds it
        logger.warning("flag definitions version unreadable", exc_info=True)
        return None


def _version_bump(team_id: int) -> None:
    # a new token, never a counter: an evicted and recreated counter could alias an older version
    cache.set(_version_key(team_id), uuid.uuid4().hex, timeout=None)


def _load_team_flags(team_id: int, version: str | None) -> TeamFlags:
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
        version=version,
    )


def team_flags_get(*, team_id: int) -> TeamFlags:
    version = _shared_version(team_id)  # read before loading: a write meanwhile makes the next call reload
    cached = _team_flags.get(team_id)
    if cached is not None and cached.version == version and time.monotonic() - cached.loaded_at < FLAGS_CACHE_TTL:
        return cached
    fresh = _load_team_flags(team_id, version)
    with _lock:
        _team_flags[team_id] = fresh
    return fresh


def _drop(team_id: int) -> None:
    with _lock:
        _team_flags.pop(team_id, None)
    _version_bump(team_id)


def team_flags_invalidate(*, team_id: int) -> None:
    """A project's definitions changed: every process reloads them. Done at once and again when the write
    commits (a process that reloaded in between read the definitions from before it)."""
    _drop(team_id)
    transaction.on_commit(lambda: _drop(team_id))


def caches_clear() -> None:
    with _lock:
        _team_flags.clear()
