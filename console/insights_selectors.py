"""Reads of the console's Insights and Dashboards pages. Results come from the insights app's result path
(`insights.results.insight_result`: the query service and its cache), exactly as GET /insights/:id/?refresh=
and GET /dashboards/:id/ get them; nothing is computed here.

Modes, as PostHog's own pages behave: a cached result is shown at once (`force_cache`); a stale one is shown
while the query service recalculates it in the background (`async`: the next view has it); only a miss runs
in the request (`blocking`, then cached). `refresh` asks `force_blocking`. The list reads the cache only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404
from rest_framework.exceptions import APIException

from annotations.selectors import chart_annotations
from console.insights_charts import chart_spec, place_annotations
from dashboards.selectors import dashboard_get, dashboards_list
from dashboards.tiles import live_tiles
from insights.queries import insight_type, source_node
from insights.results import InsightResult, RunContext, effective_filters, insight_result
from insights.selectors import insights_base, insights_list
from posthog_clone.accounts.models import Team
from query import clock as query_clock
from query.exceptions import ExposedHogQLError

LIST_LIMIT = 200
PAGE_SIZE = 20  # each listed insight costs one cache read (its node validated for the key): kept bounded
REFRESH_MODE = "force_blocking"
CACHE_FIRST = "cache_first"  # the console's default view (see _run), not a query-service mode
KIND_NAMES = {"TRENDS": "Trends", "FUNNELS": "Funnel", "RETENTION": "Retention", "PATHS": "Paths",
              "STICKINESS": "Stickiness", "LIFECYCLE": "Lifecycle", "SQL": "SQL", "JSON": "Query"}  # fmt: skip
TIME_AXIS = frozenset({"line", "bar"})


@dataclass(frozen=True)
class InsightRow:
    insight: Any
    kind: str
    last_refresh: str | None


@dataclass
class Chart:
    """One insight as drawn: its spec (for the template and the script), the cache facts, an error if it failed."""

    insight: Any
    kind: str
    spec: dict[str, Any]
    last_refresh: str | None = None
    is_cached: bool = False
    error: str = ""
    annotations: list[dict[str, Any]] = field(default_factory=list)
    refreshing: bool = False


def insight_rows(*, team: Team, user_id: int, page: int = 1) -> tuple[list[InsightRow], bool]:
    """One page of the project's live insights (PostHog's order), each with its last refresh from the cache
    (never runs), and whether there is a next page."""
    start = (max(page, 1) - 1) * PAGE_SIZE
    found = list(insights_list(team_id=team.pk, user_id=user_id, params={})[start : start + PAGE_SIZE + 1])
    rows = []
    for insight in found[:PAGE_SIZE]:
        cached = insight_result(team, insight, RunContext(mode="force_cache"))
        rows.append(InsightRow(insight, KIND_NAMES[insight_type(insight.query)], cached.last_refresh))
    return rows, len(found) > PAGE_SIZE


def insight_get(*, team: Team, key: str) -> Any:
    """A live insight of the project by short id, or by numeric id; else 404."""
    rows = insights_base(team_id=team.pk).filter(deleted=False)
    insight = rows.filter(short_id=key).first()
    if insight is None and key.isdigit():
        insight = rows.filter(pk=int(key)).first()
    if insight is None:
        raise Http404("Insight not found.")
    return insight


def _in_mode(context: RunContext, mode: str) -> RunContext:
    return RunContext(mode=mode, dashboard_id=context.dashboard_id, filters=context.filters,
                      variables=context.variables)  # fmt: skip


def _fresh(result: InsightResult) -> bool:
    """Before its `cache_target_age` (when the query service will call it stale)."""
    try:
        target = dt.datetime.fromisoformat(str(result.cache_target_age))
    except ValueError:
        return False
    return query_clock.now() < (target if target.tzinfo else target.replace(tzinfo=dt.UTC))


def _run(team: Team, insight: Any, context: RunContext) -> tuple[InsightResult, str]:
    """CACHE_FIRST: a miss is one blocking run; a cached result goes through `async`, which answers it and,
    when it is stale, queues its recalculation. Any other mode runs as asked."""
    try:
        if context.mode == CACHE_FIRST:
            cached = insight_result(team, insight, _in_mode(context, "force_cache"))
            if cached.result is not None and _fresh(cached):
                return cached, ""  # the common case: one cache read, nothing queued
            context = _in_mode(context, "blocking" if cached.result is None else "async")
        return insight_result(team, insight, context), ""
    except (ExposedHogQLError, APIException) as error:
        detail = getattr(error, "detail", None) or str(error)
        return insight_result(team, insight, _in_mode(context, "force_cache")), str(detail)


def chart(team: Team, insight: Any, context: RunContext, annotations: list[Any]) -> Chart:
    outcome, error = _run(team, insight, context)
    source = source_node(insight.query) if isinstance(insight.query, dict) else None
    spec = chart_spec(source if isinstance(source, dict) else None, outcome.result)
    placed: list[dict[str, Any]] = []
    if spec["type"] in TIME_AXIS and spec.get("days"):
        own = [a for a in annotations if a.scope != "dashboard_item" or a.dashboard_item_id == insight.pk]
        placed = place_annotations(spec["days"], own, team.timezone)
        spec["annotations"] = placed
    kind = KIND_NAMES[insight_type(insight.query)]
    refreshing = bool(outcome.query_status and not outcome.query_status.get("complete"))
    return Chart(insight, kind, spec, outcome.last_refresh, outcome.is_cached, error, placed, refreshing)


def insight_chart(*, team: Team, insight: Any, refresh: bool = False) -> Chart:
    context = RunContext(mode=REFRESH_MODE if refresh else CACHE_FIRST)
    return chart(team, insight, context, chart_annotations(team=team, insight_ids=[insight.pk]))


def dashboard_rows(*, team: Team) -> list[Any]:
    return dashboards_list(team_id=team.pk, params={})[:LIST_LIMIT]


def dashboard_or_404(*, team: Team, dashboard_id: int) -> Any:
    dashboard = dashboard_get(team_id=team.pk, dashboard_id=dashboard_id)
    if dashboard is None:
        raise Http404("Dashboard not found.")
    return dashboard


@dataclass(frozen=True)
class Tile:
    id: int
    layout: dict[str, Any]
    text: str | None = None
    chart: Chart | None = None


def _layout(tile: Any) -> dict[str, Any]:
    sm = (tile.layouts or {}).get("sm") if isinstance(tile.layouts, dict) else None
    width = sm.get("w") if isinstance(sm, dict) and isinstance(sm.get("w"), int) else 6
    height = sm.get("h") if isinstance(sm, dict) and isinstance(sm.get("h"), int) else 5
    return {"w": max(1, min(12, width)), "h": max(1, min(12, height))}


def dashboard_tiles(
    *, team: Team, dashboard: Any, date_from: str = "", date_to: str = "", refresh: bool = False
) -> list[Tile]:
    """The dashboard's live tiles in grid order, each insight run in the dashboard's context: its filters with
    `{"date_from": date_from, "date_to": date_to or null}` as `filters_override` (what PostHog's date picker
    sends: a relative range runs to now), a tile's own non-empty overrides winning, as the API does."""
    override = {"date_from": date_from, "date_to": date_to or None} if date_from else None
    tiles = live_tiles(dashboard)
    annotations = chart_annotations(
        team=team, insight_ids=[t.insight_id for t in tiles if t.insight_id], dashboard_id=dashboard.pk
    )
    mode = REFRESH_MODE if refresh else CACHE_FIRST
    out = []
    for tile in tiles:
        if tile.insight is None:
            out.append(Tile(tile.pk, _layout(tile), text=(tile.text.body if tile.text else "") or ""))
            continue
        filters = effective_filters(dashboard.filters, override, tile.filters_overrides)
        context = RunContext(mode=mode, dashboard_id=dashboard.pk, filters=filters, variables=dashboard.variables or {})
        out.append(Tile(tile.pk, _layout(tile), chart=chart(team, tile.insight, context, annotations)))
    return out
