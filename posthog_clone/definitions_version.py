"""A per-project counter of the stored definitions queries inline (actions, cohorts). Query results are
cached under a key that holds it, so editing an action is seen by the next query instead of after the
cache expires. Kept in the shared cache (the counter only has to change, not to last)."""

from __future__ import annotations

from django.core.cache import cache

_KEY = "definitions-version:{team_id}"
_TTL = 30 * 24 * 3600


def current(team_id: int) -> int:
    return int(cache.get(_KEY.format(team_id=team_id)) or 0)


def bump(team_id: int) -> None:
    key = _KEY.format(team_id=team_id)
    try:
        cache.incr(key)
    except ValueError:  # not there yet (or evicted): any new value changes the query cache keys
        cache.set(key, current(team_id) + 1, _TTL)
