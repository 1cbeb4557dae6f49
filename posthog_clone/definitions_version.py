"""A per-project counter of the stored definitions queries inline (actions, cohorts). Query results are
cached under a key that holds it, so editing an action is seen by the next query instead of after the
cache expires. Kept in the shared cache (the counter only has to change, not to last), changed only by the
cache's atomic `add`/`incr`: two processes bumping at once both change it. A counter the cache lost
(expired or evicted) starts again from the clock in nanoseconds, above any value it held before, so a
result cached under an older value is never found again."""

from __future__ import annotations

import time

from django.core.cache import cache

_KEY = "definitions-version:{team_id}"
_TTL = 30 * 24 * 3600


def current(team_id: int) -> int:
    return int(cache.get(_KEY.format(team_id=team_id)) or 0)


def bump(team_id: int) -> None:
    key = _KEY.format(team_id=team_id)
    for _ in range(3):
        try:
            cache.incr(key)
            return
        except ValueError:  # not there (yet, or any more): start above every earlier value, unless another did
            if cache.add(key, time.time_ns(), _TTL):
                return
