"""The one result cache of every query, shared by /query/, saved insights and dashboard tiles.

A result is stored under `cache_key(team, query)` (the query *after* dashboard overrides, so an overridden
tile caches apart from its insight) and kept for `QUERY_CACHE_TTL_SECONDS` (default 7 days: PostHog's Redis
TTL is not known; the reference leaves it to us), much longer than it is *fresh*. Freshness is PostHog's
table (`insights_dashboards_cohorts_actions.md` §1.5), by the query's `interval`:

| interval | default | lazy (lazy_async) |
|---|---|---|
| none | 6 h | 12 h |
| minute | 5 min | 15 min |
| hour | 1 h | 2 h |
| day | 6 h | 12 h |
| week | 1 day | 1 day |
| month | 2 days | 2 days |

and a result whose range ended more than 10 s before it was computed is never stale (a fully past range
cannot change). The range end is read from the response's `resolved_date_range` (the kinds that have a date
range report it), so nothing is parsed twice. `cache_target_age = last_refresh + threshold` and
`next_allowed_client_refresh = last_refresh + 15 min` for insight kinds (3 min when the interval is `hour` or the
range spans at most 7 days), 1 min for the others (HogQL, events, actors).

`query.clock.now()` is the clock of the cache and of the date ranges; tests move it (it is the edge).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import cache

from posthog_clone import definitions_version
from posthog_clone.accounts.models import Team
from query import clock

_MINUTE, _HOUR, _DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)
STALENESS: dict[str | None, tuple[dt.timedelta, dt.timedelta]] = {
    None: (6 * _HOUR, 12 * _HOUR),
    "minute": (5 * _MINUTE, 15 * _MINUTE),
    "hour": (_HOUR, 2 * _HOUR),
    "day": (6 * _HOUR, 12 * _HOUR),
    "week": (_DAY, _DAY),
    "month": (2 * _DAY, 2 * _DAY),
}
PAST_RANGE_SLACK = dt.timedelta(seconds=10)
INSIGHT_KINDS = frozenset({"TrendsQuery", "StickinessQuery", "FunnelsQuery", "RetentionQuery", "LifecycleQuery"})
DEFAULT_TTL_SECONDS = 7 * 24 * 3600


def cache_key(team: Team, query: dict[str, Any]) -> str:
    """What a result depends on beyond the query: the project's timezone, week start and test-account filters
    (also reached through HogQL `{filters}`), and the version of its actions and cohorts."""
    team_settings = {
        "tz": team.timezone,
        "week": team.week_start_day,
        "test_accounts": team.test_account_filters,
        "definitions": definitions_version.current(team.pk),  # edited actions/cohorts change the answer
    }
    payload = json.dumps({"team": team.pk, **team_settings, "query": query}, sort_keys=True, default=str)
    return "cache_" + hashlib.sha256(payload.encode()).hexdigest()[:32]


def _ttl() -> int:
    return max(int(getattr(settings, "QUERY_CACHE_TTL_SECONDS", DEFAULT_TTL_SECONDS)), 1)


def load(key: str) -> dict[str, Any] | None:
    return cache.get(key)


def store(key: str, envelope: dict[str, Any]) -> None:
    cache.set(key, envelope, _ttl())


def _interval(query: dict[str, Any]) -> str | None:
    interval = query.get("interval")
    return interval if interval in STALENESS else None


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def threshold(query: dict[str, Any], *, lazy: bool = False) -> dt.timedelta:
    default, lazy_threshold = STALENESS[_interval(query)]
    return lazy_threshold if lazy else default


def _range_end(envelope: dict[str, Any]) -> dt.datetime | None:
    resolved = envelope.get("resolved_date_range")
    return _moment(resolved.get("date_to")) if isinstance(resolved, dict) else None


def is_stale(query: dict[str, Any], envelope: dict[str, Any], *, lazy: bool = False) -> bool:
    last_refresh = _moment(envelope.get("last_refresh"))
    if last_refresh is None:
        return True
    end = _range_end(envelope)
    if end is not None and end < last_refresh - PAST_RANGE_SLACK:
        return False
    return clock.now() >= last_refresh + threshold(query, lazy=lazy)


def min_refresh_interval(query: dict[str, Any], envelope: dict[str, Any]) -> dt.timedelta:
    if query.get("kind") not in INSIGHT_KINDS:
        return _MINUTE
    if _interval(query) == "hour":
        return 3 * _MINUTE
    resolved = envelope.get("resolved_date_range")
    if isinstance(resolved, dict):
        start, end = _moment(resolved.get("date_from")), _moment(resolved.get("date_to"))
        if start is not None and end is not None and end - start <= 7 * _DAY:
            return 3 * _MINUTE
    return 15 * _MINUTE


def stamp(query: dict[str, Any], envelope: dict[str, Any], computed_at: dt.datetime) -> dict[str, Any]:
    """The envelope's cache times for a result computed at `computed_at`."""
    return {
        **envelope,
        "last_refresh": computed_at.isoformat(),
        "cache_target_age": (computed_at + threshold(query)).isoformat(),
        "next_allowed_client_refresh": (computed_at + min_refresh_interval(query, envelope)).isoformat(),
    }
