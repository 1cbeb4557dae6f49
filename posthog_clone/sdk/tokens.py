"""Project API key (token) → team (its id, and its settings remote config reads), from an in-process cache (no
database query per SDK request).

Hits live for TTL seconds, misses (unknown tokens) for NEGATIVE_TTL; any save or delete of a Team clears the
cache in this process, so a rotated token stops working at once here and within TTL in other processes.

The cache connects its own invalidation when this module is imported: a process that never imported it has no
cache to clear, and no app (nor the accounts app below this module) has to know about it. Import it only once
the app registry is ready (it imports the accounts models), as every SDK view module does.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from posthog_clone.accounts.models import Team

TTL_SECONDS = 60.0
NEGATIVE_TTL_SECONDS = 5.0
MAX_ENTRIES = 50_000

_cache: dict[str, tuple[Team | None, float]] = {}
_lock = threading.Lock()


def team_for_token(token: str) -> Team | None:
    """The project (team) whose project API key is ``token``, or None if there is none. A shared cached
    instance: read it, never change or save it."""
    now = time.monotonic()
    hit = _cache.get(token)
    if hit is not None and hit[1] > now:
        return hit[0]
    team = Team.objects.filter(api_token=token).first()
    with _lock:
        if len(_cache) >= MAX_ENTRIES:
            _cache.clear()
        _cache[token] = (team, now + (TTL_SECONDS if team is not None else NEGATIVE_TTL_SECONDS))
    return team


def team_id_for_token(token: str) -> int | None:
    """The project (team) id whose project API key is ``token``, or None if there is none."""
    team = team_for_token(token)
    return team.pk if team is not None else None


def token_cache_clear(**_kwargs: Any) -> None:
    """Signal receiver (Team post_save / post_delete) and test helper."""
    with _lock:
        _cache.clear()


post_save.connect(token_cache_clear, sender=Team, dispatch_uid="sdk_token_cache_save")
post_delete.connect(token_cache_clear, sender=Team, dispatch_uid="sdk_token_cache_delete")
