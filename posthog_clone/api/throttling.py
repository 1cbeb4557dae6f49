"""Rate limits counted per personal API key (hash), as PostHog does; session users are not throttled.

Rates come from settings.THROTTLE_RATES (environment); a rate of `off` disables that bucket.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from posthog_clone.accounts.models import PersonalAPIKey


class PersonalAPIKeyRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope)

    def allow_request(self, request: Request, view: Any) -> bool:
        if not settings.RATE_LIMIT_ENABLED or self.rate is None:
            return True
        return super().allow_request(request, view)

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
