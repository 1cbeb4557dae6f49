"""An insight's results: its runnable query, with the dashboard's (or tile's) filters applied, run through
the query service in PostHog's execution modes.

`refresh` (query string first, then body; reference §1.4): absent, `false`, `0`, `no` or anything unknown →
`force_cache` (the insight default: the cache, fresh or stale, or a miss; never computes); `true`, `1`, `yes` or
empty → `force_blocking`; a mode name → that mode. Requests made with a sharing token are remapped
(`force_cache` → `lazy_async`, `force_blocking` → `blocking`, `async` stays, anything else → `lazy_async`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from insights.queries import runnable_query
from posthog_clone.accounts.models import Team
from query import services

TRUE_VALUES = frozenset({"true", "1", "yes", ""})
FALSE_VALUES = frozenset({"false", "0", "no"})
SHARED_REMAP = {"force_cache": "lazy_async", "force_blocking": "blocking", "async": "async"}


def refresh_mode(raw: Any) -> str:
    if raw is None or raw is False:
        return "force_cache"
    if raw is True:
        return "force_blocking"
    text = str(raw).strip().lower()
    if text in TRUE_VALUES:
        return "force_blocking"
    if text in FALSE_VALUES:
        return "force_cache"
    return text if text in services.MODES else "force_cache"


def shared_mode(mode: str) -> str:
    return SHARED_REMAP.get(mode, "lazy_async")


@dataclass(frozen=True)
class RunContext:
    """How an insight is run: the mode, and the dashboard it is seen on (its id and effective filters)."""

    mode: str = "force_cache"
    dashboard_id: int | None = None
    filters: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)


def effective_filters(
    dashboard_filters: dict[str, Any] | None,
    filters_override: dict[str, Any] | None,
    tile_filters: dict[str, Any] | None,
) -> dict[str, Any]:
    """A tile's non-empty `filters_overrides` replace the dashboard's filters entirely; otherwise the
    dashboard's stored filters with `filters_override` merged over them (§1.5 step 1)."""
    if tile_filters:
        return dict(tile_filters)
    return {**(dashboard_filters or {}), **(filters_override or {})}


@dataclass(frozen=True)
class InsightResult:
    """The result fields of an insight as shown (all null on a miss)."""

    result: Any = None
    has_more: bool | None = None
    columns: list[Any] | None = None
    types: list[Any] | None = None
    hogql: str | None = None
    last_refresh: str | None = None
    cache_target_age: str | None = None
    next_allowed_client_refresh: str | None = None
    is_cached: bool = False
    query_status: dict[str, Any] | None = None
    filters_hash: str | None = None


def insight_result(team: Team, insight: Any, context: RunContext) -> InsightResult:
    """Run (or read from cache) the insight in `context`. Blocking user errors raise ExposedHogQLError."""
    node = runnable_query(insight.query)
    if node is None:
        return InsightResult()
    node = services.apply_variables(services.apply_dashboard_filters(node, context.filters), context.variables)
    outcome = services.run_query(team, node, context.mode, insight_id=insight.pk, dashboard_id=context.dashboard_id)
    envelope = outcome.response or {}
    return InsightResult(
        result=envelope.get("results"),
        has_more=envelope.get("hasMore"),
        columns=envelope.get("columns"),
        types=envelope.get("types"),
        hogql=envelope.get("hogql"),
        last_refresh=envelope.get("last_refresh"),
        cache_target_age=envelope.get("cache_target_age"),
        next_allowed_client_refresh=envelope.get("next_allowed_client_refresh"),
        is_cached=bool(envelope.get("is_cached")),
        query_status=outcome.query_status,
        filters_hash=outcome.cache_key,
    )
