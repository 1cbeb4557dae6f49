"""`FunnelsQuery`: PostHog's funnel insight (reference §3).

The steps (`series`, EventsNodes/ActionsNodes, `query.kinds.series`) and exclusions become HogQL conditions;
`query.kinds.funnels_engine` folds each actor's events of the range into its furthest step and the times of
its best path with array functions; one aggregate over the actors answers the viz:

- `steps`: per step `count` (actors at or past it), `average_conversion_time` / `median_conversion_time`
  (seconds from the previous step on each actor's best path, zero durations left out);
- `time_to_convert` and `trends`: `query.kinds.funnels_viz`.

Breakdowns (`query.kinds.funnels_breakdown`) add a per-actor value by attribution. Every event read is inside
`[date_from, date_to]` (team timezone). The actor is `person_id`, `$group_N` with `aggregation_group_type_index`
(empty keys skipped), or `funnelAggregateByHogQL`. `samplingFactor` f reads `events SAMPLE f`; counts are × 1/f.
The `actors` hook (`query.kinds.funnels_actors`) answers `FunnelsActorsQuery`.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.dates import QueryDateRange, moment_expr
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.hogql.passes.limits import LIMIT_CONTEXTS
from query.kinds.breakdown import parse_breakdown
from query.kinds.funnels_engine import WINDOW_SECONDS, Exclusion, FunnelSpec, actor_rows, conversion_time
from query.kinds.hogql_expr import ExpressionError, parse_expression
from query.kinds.series import earliest_event, event_condition, is_action, series_filters, series_name
from query.runner import hogql_execute
from query.selectors import property_types_for_team

MAX_ROWS = LIMIT_CONTEXTS["query"].maximum
DEFAULT_WINDOW = (14, "day")


def _text(conditions: list[exp.Expression]) -> str:
    return to_hogql(exp.and_(*conditions, copy=False)) if conditions else "true"


class FunnelContext:
    """What every funnel viz shares: the validated node, its date range, step conditions and actor key."""

    def __init__(self, team: Team, query: dict[str, Any], limit_context: str):
        self.team = team
        self.query = query
        self.limit_context = limit_context
        self.timezone = team.timezone or "UTC"
        self.now = clock.now()
        self.property_types = property_types_for_team(team=team)
        self.funnels = query.get("funnelsFilter") or {}
        self.order = self.funnels.get("funnelOrderType") or "ordered"
        self.viz = self.funnels.get("funnelVizType") or "steps"
        self.series: list[dict[str, Any]] = query["series"]
        factor = query.get("samplingFactor")
        self.sampling = factor if factor and factor != 1 else None
        self.date_range = QueryDateRange(
            query.get("dateRange"),
            interval=query.get("interval"),
            timezone=self.timezone,
            week_start_day=team.week_start_day,
            now=self.now,
            earliest_event=lambda: earliest_event(team, limit_context),
        )
        self.hogql: list[str] = []
        self.timings: list[dict[str, Any]] = []

    @property
    def steps(self) -> int:
        return len(self.series)

    def window_ms(self) -> int:
        amount = self.funnels.get("funnelWindowInterval") or DEFAULT_WINDOW[0]
        unit = self.funnels.get("funnelWindowIntervalUnit") or DEFAULT_WINDOW[1]
        return int(amount) * WINDOW_SECONDS[unit] * 1000

    def condition(self, node: dict[str, Any]) -> str:
        """The HogQL condition an event must meet to satisfy a step or an exclusion."""
        context = {"property_types": self.property_types, "timezone": self.timezone, "now": self.now}
        event = event_condition(node, **context)
        filters = series_filters(node, self.query, test_account_filters=self.team.test_account_filters, **context)
        return _text(([event] if event is not None else []) + filters)

    def actor(self) -> tuple[str, list[str]]:
        """The actor key and the conditions it needs (a group key must be set)."""
        custom = self.funnels.get("funnelAggregateByHogQL")
        if custom:
            try:
                return to_hogql(parse_expression(custom, aggregate=False)), []
            except ExpressionError as error:
                raise HogQLQueryError(f"funnelAggregateByHogQL {error}") from None
        index = self.query.get("aggregation_group_type_index")
        if index is not None:
            key = f"`$group_{int(index)}`"
            return key, [f"{key} != ''"]
        return "person_id", []

    def where(self) -> str:
        bounds = [
            f"timestamp >= {to_hogql(moment_expr(self.date_range.date_from))}",
            f"timestamp <= {to_hogql(moment_expr(self.date_range.date_to))}",
        ]
        return " AND ".join([*bounds, *self.actor()[1]])

    def spec(self, extras: tuple[tuple[str, str], ...] = ()) -> FunnelSpec:
        exclusions = [
            Exclusion(self.condition(node), node["funnelFromStep"], node["funnelToStep"])
            for node in self.funnels.get("exclusions") or []
        ]
        return FunnelSpec(
            steps=[self.condition(node) for node in self.series],
            order=self.order,
            window_ms=self.window_ms(),
            actor=self.actor()[0],
            where=self.where(),
            exclusions=exclusions,
            sample=self.sampling,
            extras=extras,
        )

    def scale(self, count: float) -> int:
        return round(count / self.sampling) if self.sampling else int(count)

    def execute(self, text: str) -> list[list[Any]]:
        result = hogql_execute(team=self.team, query=text, limit_context=self.limit_context, limit=MAX_ROWS)
        self.hogql.append(result.hogql)
        self.timings.extend(result.timings)
        return result.results

    def envelope(self, results: Any) -> dict[str, Any]:
        total = sum(t.get("t", 0) for t in self.timings if t.get("k") == ".")
        return {
            "results": results,
            "isUdf": True,
            "hogql": self.hogql[0] if self.hogql else "",
            "timings": [{"k": ".", "t": total}],
            "error": "",
            "resolved_date_range": self.date_range.resolved_date_range(),
        }

    # -- the steps viz ----------------------------------------------------------------------------

    def step_aggregates(self) -> list[str]:
        """count, avg and median conversion time per step over `path` (the engine's per-actor rows)."""
        columns = []
        for k in range(self.steps):
            reached = f"length(path) >= {k + 1}"
            columns.append(f"countIf({reached})")
            if k:
                t = conversion_time(k)
                columns.append(f"avgIf({t}, {reached} AND {t} > 0)")
                # exact and interpolating (60, 300 → 180), so equal inputs give equal answers
                columns.append(f"quantileExactInclusiveIf(0.5)({t}, {reached} AND {t} > 0)")
        return columns

    def step_items(self, row: list[Any]) -> list[dict[str, Any]]:
        """The steps response for one aggregate row (counts, then avg/median per later step)."""
        items, i = [], 0
        for k, node in enumerate(self.series):
            count = row[i]
            avg = median = None
            if k:
                avg, median = _seconds(row[i + 1]), _seconds(row[i + 2])
                i += 3
            else:
                i += 1
            items.append({**self.step_identity(k, node), "count": self.scale(count or 0), "people": []})
            items[-1].update(average_conversion_time=avg, median_conversion_time=median)
        return items

    def step_identity(self, k: int, node: dict[str, Any]) -> dict[str, Any]:
        if self.order == "unordered":  # no step is a given event: "Completed N step(s)"
            name = f"Completed {k + 1} step{'' if k == 0 else 's'}"
            return {"action_id": None, "name": name, "custom_name": None, "order": k, "type": _type(node)}
        action_id = node["id"] if is_action(node) else node.get("event")
        return {
            "action_id": action_id,
            "name": series_name(node),
            "custom_name": node.get("custom_name"),
            "order": k,
            "type": _type(node),
        }

    def run_steps(self) -> list[Any]:
        rows = self.execute(f"SELECT {', '.join(self.step_aggregates())} FROM ({actor_rows(self.spec())})")
        if not rows or not rows[0][0]:
            return []
        return self.step_items(rows[0])


def _type(node: dict[str, Any]) -> str:
    return "actions" if is_action(node) else "events"


def _seconds(value: Any) -> float | None:
    """A conversion time as PostHog answers it: a float, null when no actor has one (NaN in ClickHouse)."""
    if value is None or isinstance(value, str):
        return None
    value = float(value)
    return None if value != value else value  # NaN: no durations


def run_funnels_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    from query.kinds.funnels_breakdown import run_breakdown_steps
    from query.kinds.funnels_viz import run_time_to_convert, run_trends

    context = FunnelContext(team, query, limit_context)
    if context.viz == "time_to_convert":
        return context.envelope(run_time_to_convert(context))
    if context.viz == "trends":
        return context.envelope(run_trends(context))
    if parse_breakdown(query.get("breakdownFilter")) is not None:
        return context.envelope(run_breakdown_steps(context))
    return context.envelope(context.run_steps())


def funnels_overrides(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    from query.kinds.trends import trends_overrides

    return trends_overrides(query, body)
