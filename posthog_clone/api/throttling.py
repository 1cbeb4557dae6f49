"""Rate limits counted per personal API key (hash), as PostHog does; session users are not throttled.

Rates come from settings.THROTTLE_RATES (environment); a rate of `off` disables that bucket.

Counting is atomic and shared by every process that shares the cache (the web processes of `serve` through
the embedded default's diskcache, every machine through Redis): a sliding window estimated from two fixed
windows, each one counter changed only by the cache's atomic `add`/`incr`/`decr`, never read-modify-written.
A request is admitted when `previous window's count × the part of it still inside the sliding window + this
window's count (itself included)` is at most the rate's N; a refused request gives its count back, so a
caller who keeps trying while refused is admitted again as the window slides (as DRF's request log does).
From a quiet start, N requests are admitted within any one window, whichever processes answer them.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from posthog_clone.accounts.models import PersonalAPIKey


def counter_incr(cache: Any, key: str, timeout: int) -> int:
    """Add one to the counter at ``key`` (created with ``timeout`` when missing); its new value."""
    for _ in range(3):
        try:
            return cache.incr(key)
        except ValueError:  # missing (first request of the window, or evicted): create it, unless another did
            if cache.add(key, 1, timeout):
                return 1
    return cache.incr(key)


def counter_decr(cache: Any, key: str) -> None:
    with contextlib.suppress(ValueError):  # expired or evicted meanwhile: nothing to give back
        cache.decr(key)


class PersonalAPIKeyRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        if not settings.RATE_LIMIT_ENABLED or self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window, offset = divmod(self.now, self.duration)
        current = f"{self.key}_{int(window)}"
        previous = int(self.cache.get(f"{self.key}_{int(window) - 1}") or 0)
        # kept through the next window, where it is the previous one
        count = counter_incr(self.cache, current, timeout=2 * int(self.duration) + 1)
        weight = 1.0 - offset / self.duration
        if previous * weight + count <= self.num_requests:
            return True
        counter_decr(self.cache, current)
        self._wait = self._seconds_until_admitted(previous, count - 1, offset)
        return False

    def _seconds_until_admitted(self, previous: int, admitted: int, offset: float) -> float:
        """When `previous × weight + admitted + 1 ≤ N` holds again: later in this window as the previous one
        weighs less, else in the next one, where this window's count is the previous one."""
        duration, room = float(self.duration), self.num_requests - admitted - 1
        if previous and room >= 0:
            at = duration * (1.0 - room / previous)
            if at < duration:
                return max(at - offset, 0.0)
        over = admitted - (self.num_requests - 1)
        at_next = duration * over / admitted if admitted and over > 0 else 0.0
        return duration - offset + at_next

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, PersonalAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.secure_value[-32:]}


class BurstRateThrottle(PersonalAPIKeyRateThrottle):
    scope = "burst"


class SustainedRateThrottle(PersonalAPIKeyRateThrottle):
    scope = "sustained"


class ClickHouseBurstRateThrottle(PersonalAPIKeyRateThrottle):
    scope = "clickhouse_burst"


class ClickHouseSustainedRateThrottle(PersonalAPIKeyRateThrottle):
    scope = "clickhouse_sustained"


class QueryRateThrottle(PersonalAPIKeyRateThrottle):
    scope = "query"


class LocalEvaluationThrottle(PersonalAPIKeyRateThrottle):
    scope = "local_evaluation"


ANALYTICS_THROTTLES = [ClickHouseBurstRateThrottle, ClickHouseSustainedRateThrottle]
