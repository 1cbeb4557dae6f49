"""`TrendsQuery`: PostHog's trends insight (line graphs, bold numbers, pies, tables of series over time).

Each series (an EventsNode, `query.kinds.series`) becomes HogQL over `events` grouped by the interval start
(`QueryDateRange.bucket_expr`, team timezone) and the breakdown values, in the shape its math needs
(`query.kinds.maths.series_select`), run by `hogql_execute`; the rows are laid on the zero-filled grid of
`QueryDateRange` (`days`, `labels`). `weekly_active`/`monthly_active` read from 7/30 days before the first
bucket and count each event for every bucket whose trailing 7/30-day window holds it (`arrayJoin(range(n))`
interval shifts), so the distinct persons per bucket are counted by ClickHouse.

- Total-value displays (`BoldNumber`, `ActionsPie`, `ActionsTable`, `ActionsBarValue`, `WorldMap`,
  `CalendarHeatmap`): one aggregate over the whole range → `aggregated_value`, `data: []`, `count: 0`.
- `compareFilter`: the items of the previous period follow the current ones, `compare_label` current/previous.
- `breakdownFilter` (`query.kinds.breakdown`: event, person, session, hogql; up to 3 `breakdowns`): values
  ranked (real by total desc then value, null last), past `breakdown_limit` merged into the other marker in the
  same query (`query.kinds.ranking`, so distinct counts stay distinct; a `math_hogql` aggregating DISTINCT
  values other than by count takes a second query), `hasMore` when an other bucket exists; histogram parts
  first read the series' min and max. Cohort breakdowns: one query per cohort id or "all", in the order
  asked, no ranking and no other bucket.
- `samplingFactor` f: `events SAMPLE f`; counts and sums are answered × 1/f (`maths.scale_sampled`).
- Formulas (`query.kinds.formula`): one item per formula in place of the series' items, per breakdown value
  (re-sorted by total) and per compare period.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.dates import DateRangeError, QueryDateRange, moment_expr
from query.hogql.ast import call
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.hogql.passes.limits import LIMIT_CONTEXTS
from query.kinds.base import CachedResponseSerializer, QueryKind
from query.kinds.breakdown import (
    BREAKDOWN_LIMIT,
    BREAKDOWN_NULL,
    BREAKDOWN_OTHER,
    WORLD_MAP_BREAKDOWN_LIMIT,
    Key,
    histogram_bins,
    parse_breakdown,
    resolve_cohorts,
    restrict,
)
from query.kinds.formula import FormulaError, evaluate, formula_nodes, parse_formula
from query.kinds.maths import SeriesSelect, math_conditions, rankable, scale_sampled, series_select
from query.kinds.ranking import Ranking
from query.kinds.series import (
    ACTIVE_WINDOW_DAYS,
    InsightQuerySerializer,
    SeriesField,
    checked_sampling_factor,
    earliest_event,
    event_condition,
    series_entity,
    series_filters,
    series_math,
    series_name,
)
from query.runner import hogql_execute
from query.selectors import property_types_for_team

TOTAL_VALUE_DISPLAYS = {"BoldNumber", "ActionsPie", "ActionsTable", "ActionsBarValue", "WorldMap", "CalendarHeatmap"}
TIME_SERIES_DISPLAYS = {
    "ActionsLineGraph", "ActionsBar", "ActionsUnstackedBar", "ActionsStackedBar", "ActionsAreaGraph",
    "ActionsLineGraphCumulative",
}  # fmt: skip
MAX_ROWS = LIMIT_CONTEXTS["query"].maximum


def _date_range(team_tz: str, week_start_day: int | None, query: dict[str, Any], **kwargs: Any) -> QueryDateRange:
    display = (query.get("trendsFilter") or {}).get("display")
    interval = "day" if display in TOTAL_VALUE_DISPLAYS else query.get("interval")
    return QueryDateRange(
        query.get("dateRange"), interval=interval, timezone=team_tz, week_start_day=week_start_day, **kwargs
    )


class TrendsQuerySerializer(InsightQuerySerializer):
    kind = serializers.ChoiceField(choices=["TrendsQuery"], help_text='Query kind: "TrendsQuery".')
    series = SeriesField(min_length=1)
    interval = serializers.CharField(
        required=False, allow_null=True, help_text="minute, hour, day (default), week or month."
    )
    dateRange = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"date_from", "date_to", "explicitDate"}; default the last 7 days.'
    )
    breakdownFilter = serializers.DictField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text='{"breakdown": <property or HogQL>, "breakdown_type": "event"|"person"|"session"|"hogql", '
        '"breakdown_limit": 25, "breakdown_hide_other_aggregation": false, "breakdown_normalize_url": false, '
        '"breakdown_histogram_bin_count": n} or up to 3 "breakdowns": [{"type", "property", "normalize_url", '
        '"histogram_bin_count"}]; "breakdown_type": "cohort" with "breakdown": [cohort ids or "all"]: one series per '
        "cohort. group breakdowns are not supported yet.",
    )
    compareFilter = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"compare": true, "compare_to": "-1w"}: add the previous period.'
    )
    trendsFilter = serializers.DictField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text='{"display": "ActionsLineGraph"|"BoldNumber"|…, "formulaNodes": [{"formula": "A/B"}], display keys}.',
    )
    samplingFactor = serializers.FloatField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="Read `events SAMPLE f` (0 < f <= 1, by distinct_id); counts and sums are scaled by 1/f.",
    )
    conversionGoal = serializers.JSONField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted, ignored."
    )
    aggregation_group_type_index = serializers.IntegerField(
        required=False, allow_null=True, help_text="Accepted, ignored (trends use the series' math)."
    )

    def validate_samplingFactor(self, value: float | None) -> float | None:  # noqa: N802
        return checked_sampling_factor(value)

    def validate_trendsFilter(self, value: dict[str, Any] | None) -> dict[str, Any] | None:  # noqa: N802
        display = (value or {}).get("display")
        if display is not None and display not in TOTAL_VALUE_DISPLAYS | TIME_SERIES_DISPLAYS:
            raise serializers.ValidationError(f"Value '{display}' is not an instance of ChartDisplayType")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:  # every date error is a 400 naming the field, before anything runs
            date_range = _date_range("UTC", None, attrs, earliest_event=lambda: None)
            compare = attrs.get("compareFilter") or {}
            if compare.get("compare"):
                date_range.previous_period(compare.get("compare_to"))
        except DateRangeError as error:
            raise serializers.ValidationError({error.attr or "dateRange": [error.message]}) from None
        try:
            for node in formula_nodes(attrs.get("trendsFilter")):
                parse_formula(node.get("formula"), len(attrs["series"]))
        except FormulaError as error:
            raise serializers.ValidationError({"trendsFilter": [str(error)]}) from None
        return attrs


class TrendsQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="One item per series (x breakdown value x period): data, labels, days (one per bucket), count "
        "(sum of data), label, action {days, id, type, order, name, custom_name, math, math_property, math_hogql, "
        "math_group_type_index, properties}, filter (legacy echo); total-value displays: data [], count 0, "
        "aggregated_value, no labels; breakdown_value with a breakdown; compare, compare_label with compareFilter.",
    )
    hasMore = serializers.BooleanField(help_text="A breakdown was cut at breakdown_limit.")  # noqa: N815
    hogql = serializers.CharField(help_text="The HogQL of the first series query.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    error = serializers.CharField(allow_blank=True, help_text='Always "".')
    resolved_date_range = serializers.DictField(help_text='{"date_from", "date_to"} (ISO, team timezone).')
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


# ---------------------------------------------------------------------------------------------------
# building and running the HogQL


class _Runner:
    def __init__(self, team: Team, query: dict[str, Any], limit_context: str):
        self.team = team
        self.query = query
        self.limit_context = limit_context
        self.timezone = team.timezone or "UTC"
        self.now = clock.now()
        self.property_types = property_types_for_team(team=team)
        self.display = (query.get("trendsFilter") or {}).get("display") or "ActionsLineGraph"
        self.total_value = self.display in TOTAL_VALUE_DISPLAYS
        self.cumulative = self.display == "ActionsLineGraphCumulative"
        smoothing = (query.get("trendsFilter") or {}).get("smoothingIntervals")
        self.smoothing = smoothing if isinstance(smoothing, int) and not isinstance(smoothing, bool) else 1
        self.breakdown = resolve_cohorts(parse_breakdown(query.get("breakdownFilter")), team.pk)  # parsed: valid
        factor = query.get("samplingFactor")
        self.sampling = factor if factor and factor != 1 else None
        self.hogql: list[str] = []
        self.timings: list[dict[str, Any]] = []
        self.has_more = False
        self.date_range = _date_range(
            self.timezone,
            team.week_start_day,
            query,
            now=self.now,
            earliest_event=lambda: earliest_event(team, limit_context),
        )

    def _execute(self, select: exp.Select, *, series_query: bool = True) -> Any:
        """Run one query; a series query's HogQL is what the response's `hogql` shows (the first one)."""
        text = to_hogql(select)
        result = hogql_execute(team=self.team, query=text, limit_context=self.limit_context, limit=MAX_ROWS)
        if result.hasMore:  # never answer with numbers from a cut result
            raise HogQLQueryError(
                f"The trend has more than {MAX_ROWS} points (buckets x breakdown values): narrow the date range, "
                "use a longer interval or a breakdown with fewer values"
            )
        if series_query:
            self.hogql.append(result.hogql)
        self.timings.extend(result.timings)
        return result

    # -- one series

    def _spec(self, series: dict[str, Any], math: str, date_range: QueryDateRange) -> SeriesSelect:
        """What the series' query reads: its events, their time bounds and buckets (no breakdown values yet)."""
        filters = series_filters(
            series,
            self.query,
            property_types=self.property_types,
            timezone=self.timezone,
            now=self.now,
            test_account_filters=self.team.test_account_filters,
        )
        timestamp = exp.column("timestamp")
        lower, bucket = date_range.first_bucket_start, date_range.bucket_expr
        if self.total_value:
            lower, bucket = date_range.date_from, None
        elif math in ACTIVE_WINDOW_DAYS:
            # an event counts for every bucket whose trailing window holds it: its own and the next ones
            window = dt.timedelta(days=ACTIVE_WINDOW_DAYS[math])
            lower = date_range.first_bucket_start - window
            if date_range.interval == "week":  # monthly_active by week: the weeks starting in the 30 days on
                bucket = _week_starts_within(date_range, ACTIVE_WINDOW_DAYS[math])
            else:
                bucket = _shifted(date_range, int(window / _INTERVAL_LENGTH[date_range.interval]))
        return SeriesSelect(
            series=series,
            math=math,
            event=event_condition(series, property_types=self.property_types, timezone=self.timezone, now=self.now),
            filters=filters + math_conditions(series, math),
            since=exp.GTE(this=timestamp, expression=moment_expr(lower)),
            until=exp.LTE(this=timestamp.copy(), expression=moment_expr(date_range.date_to)),
            bucket=bucket,
            aliases=self.breakdown.aliases if self.breakdown else (),
            sample=self.sampling,
            first_bucket_only=self.cumulative and math in FIRST_BUCKET_MATHS,
        )

    def _values(self, spec: SeriesSelect, date_range: QueryDateRange) -> dict[Key, list[float]]:
        """breakdown value ("" without a breakdown) → value per bucket ([total] for total value)."""
        rows = self._execute(series_select(spec)).results
        width = 1 if self.total_value else len(date_range.buckets)
        parts = len(spec.aliases)
        out: dict[Key, list[float]] = {}
        if not parts and not rows:
            out[""] = [0] * width
        for row in rows:
            index = 0
            if not self.total_value:
                index, row = date_range.bucket_index(row[0]), row[1:]
                if index is None:  # an active-users window reaching past the grid
                    continue
            key = self.breakdown.key(row[:parts]) if self.breakdown and parts else ""
            out.setdefault(key, [0] * width)[index] = _number(row[parts])
        return out

    def _cohort_values(self, spec: SeriesSelect, date_range: QueryDateRange) -> dict[Key, list[float]]:
        """A cohort breakdown: one query per cohort (in the order asked) over its persons' events; no ranking,
        no other bucket."""
        assert self.breakdown is not None
        width = 1 if self.total_value else len(date_range.buckets)
        out: dict[Key, list[float]] = {}
        for key, where in self.breakdown.cohort_filters():
            filters = [*spec.filters, where] if where is not None else spec.filters
            out[key] = self._values(replace(spec, filters=filters, aliases=()), date_range).get("", [0] * width)
        return out

    def _bins(self, spec: SeriesSelect) -> dict[int, list[tuple[float, float]]]:
        """Histogram parts: their bins over the min and max of the series' numbers."""
        assert self.breakdown is not None
        numbers = self.breakdown.numbers()
        if not numbers:
            return {}
        columns = [call(f, n.copy()) for n in numbers.values() for f in ("min", "max")]
        [row] = self._execute(spec.events(spec.conditions()).select(*columns, copy=False), series_query=False).results
        bounds = iter(row)
        return {
            i: histogram_bins(next(bounds), next(bounds), self.breakdown.parts[i].histogram_bin_count or 1)
            for i in numbers
        }

    def _series_values(self, series: dict[str, Any], math: str, date_range: QueryDateRange) -> dict[Key, list[float]]:
        spec = self._spec(series, math, date_range)
        if not self.breakdown:
            return self._values(spec, date_range)
        if self.breakdown.cohorts:
            return self._cohort_values(spec, date_range)
        spec = replace(spec, breakdown=self.breakdown.exprs(self._bins(spec)))
        default = WORLD_MAP_BREAKDOWN_LIMIT if self.display == "WorldMap" else BREAKDOWN_LIMIT
        limit = self.breakdown.limit or default
        if rankable(spec):  # the top values and the other bucket in one query
            grid = _grid(date_range) if math in ACTIVE_WINDOW_DAYS and not self.total_value else None
            values = self._values(replace(spec, ranking=Ranking(tuple(spec.aliases), limit, grid)), date_range)
            other = values.pop(self.breakdown.other, None)
        else:
            values, other = self._merged_apart(spec, date_range, limit)
        result = {key: values[key] for key in self.breakdown.rank({key: sum(data) for key, data in values.items()})}
        if other is not None:
            self.has_more = True
            if not self.breakdown.hide_other:
                result[self.breakdown.other] = other
        return result

    def _merged_apart(
        self, spec: SeriesSelect, date_range: QueryDateRange, limit: int
    ) -> tuple[dict[Key, list[float]], list[float] | None]:
        """(top values, other bucket) by two queries, for maths `series_select` cannot rank: the values, then
        the series again with the values past the limit as the other marker (distinct counts stay distinct)."""
        assert self.breakdown is not None
        values = self._values(spec, date_range)
        ranked = self.breakdown.rank({key: sum(data) for key, data in values.items()})
        if len(ranked) <= limit:
            return values, None
        top = ranked[:limit]
        restricted = restrict(spec.breakdown, top, self.breakdown.multiple)
        merged = self._values(replace(spec, breakdown=restricted), date_range)
        width = 1 if self.total_value else len(date_range.buckets)
        return {key: merged.get(key, values[key]) for key in top}, merged.get(self.breakdown.other, [0] * width)

    # -- items

    def _item(
        self,
        series: dict[str, Any],
        order: int,
        math: str,
        date_range: QueryDateRange,
        data: list[float],
        key: Key | None,
        compare_label: str | None,
    ) -> dict[str, Any]:
        name = series_name(series)
        label = name  # custom_name stays in action.custom_name (the UI shows it)
        if self.breakdown and key is not None:
            value = self.breakdown.label(key)
            label = value if len(self.query["series"]) == 1 else f"{label} - {value}"
        item: dict[str, Any] = {
            "days": date_range.days,
            "label": label,
            "action": _action(series, order, math, date_range),
            "filter": self._filter(date_range),
        }
        scale = functools.partial(scale_sampled, factor=self.sampling, math=math)
        if self.total_value:
            item.update(data=[], count=0, aggregated_value=scale(data[0] if data else 0))
        else:
            shaped = self._shape_data(data)
            count = float(shaped[-1] if self.cumulative and shaped else sum(shaped))
            item.update(data=[scale(v) for v in shaped], labels=date_range.labels, count=float(scale(count)))
        if self.breakdown and key is not None:
            item["breakdown_value"] = self.breakdown.value(key)
        if compare_label is not None:
            item.update(compare=True, compare_label=compare_label)
        return item

    def _shape_data(self, data: list[float]) -> list[float]:
        """`smoothingIntervals` N > 1: the floor of the mean of the last N points; cumulative: running sums."""
        if self.smoothing > 1:
            windows = [data[max(0, i - self.smoothing + 1) : i + 1] for i in range(len(data))]
            data = [sum(window) // len(window) for window in windows]
        if self.cumulative:
            data = list(itertools.accumulate(data))
        return data

    def _filter(self, date_range: QueryDateRange) -> dict[str, Any]:
        breakdown = (self.query.get("breakdownFilter") or {}) if self.breakdown else {}
        legacy = {
            "insight": "TRENDS",
            "date_from": date_range.date_from.isoformat(),
            "date_to": date_range.date_to.isoformat(),
            "interval": date_range.interval,
            "entity_type": "events",
            "display": self.display,
            "breakdown": breakdown.get("breakdown") if self.breakdown and not self.breakdown.multiple else None,
            "breakdown_type": self.breakdown.parts[0].type if self.breakdown and not self.breakdown.multiple else None,
            "breakdowns": breakdown.get("breakdowns") if self.breakdown and self.breakdown.multiple else None,
            "breakdown_limit": breakdown.get("breakdown_limit"),
            "breakdown_normalize_url": breakdown.get("breakdown_normalize_url"),
            "breakdown_histogram_bin_count": breakdown.get("breakdown_histogram_bin_count"),
            "compare": (self.query.get("compareFilter") or {}).get("compare"),
            "filter_test_accounts": self.query.get("filterTestAccounts"),
            "sampling_factor": self.query.get("samplingFactor"),
        }
        return {key: value for key, value in legacy.items() if value is not None}

    def _period(self, date_range: QueryDateRange, compare_label: str | None) -> list[dict[str, Any]]:
        items = []
        for order, series in enumerate(self.query["series"]):
            math = series_math(series, date_range.interval)
            for key, data in self._series_values(series, math, date_range).items():
                items.append(self._item(series, order, math, date_range, data, key or None, compare_label))
        return items

    def _formulas(self, items: list[dict[str, Any]], date_range: QueryDateRange) -> list[dict[str, Any]]:
        """One item per formula (and breakdown value), in place of the series' items; missing values are zeros.
        The label stays the formula's (`breakdown_value` tells the values apart), as PostHog."""
        count = len(self.query["series"])
        field = "aggregated_value" if self.total_value else "data"
        width = 1 if self.total_value else len(date_range.buckets)
        by_key: dict[Key | None, list[list[float]]] = {}
        for item in items:
            value = item.get("breakdown_value")
            key = tuple(value) if isinstance(value, list) else value
            series = by_key.setdefault(key, [[0] * width for _ in range(count)])
            series[item["action"]["order"]] = [item[field]] if self.total_value else item[field]
        if not by_key:
            by_key[None] = [[0] * width for _ in range(count)]
        template = (
            items[0] if items else self._item(self.query["series"][0], 0, "total", date_range, [0] * width, None, None)
        )
        out = []
        for node in formula_nodes(self.query.get("trendsFilter")):
            tree = parse_formula(node["formula"], count)
            label = node.get("custom_name") or f"Formula ({node['formula']})"
            computed = []
            for key, series in by_key.items():
                data = evaluate(tree, series)
                item = {k: v for k, v in template.items() if k != "breakdown_value"}
                item.update(label=label, action=None)
                if self.total_value:
                    item.update(aggregated_value=data[0] if data else 0)
                else:
                    item.update(data=data, count=float(sum(data)))
                if key is not None and self.breakdown:
                    item.update(breakdown_value=self.breakdown.value(key))
                computed.append((key, item))
            computed.sort(key=lambda pair: _formula_order(*pair, total_value=self.total_value), reverse=True)
            out.extend(item for _, item in computed)
        return out

    def _results(self, date_range: QueryDateRange, compare_label: str | None) -> list[dict[str, Any]]:
        items = self._period(date_range, compare_label)
        return self._formulas(items, date_range) if formula_nodes(self.query.get("trendsFilter")) else items

    def run(self) -> dict[str, Any]:
        compare = self.query.get("compareFilter") or {}
        if compare.get("compare"):
            previous = self.date_range.previous_period(compare.get("compare_to"))
            results = self._results(self.date_range, "current") + self._results(previous, "previous")
        else:
            results = self._results(self.date_range, None)
        total = sum(t.get("t", 0) for t in self.timings if t.get("k") == ".")
        return {
            "results": results,
            "hasMore": self.has_more,
            "hogql": self.hogql[0] if self.hogql else "",
            "timings": [{"k": ".", "t": total}],
            "error": "",
            "resolved_date_range": self.date_range.resolved_date_range(),
        }


_INTERVAL_LENGTH = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1)}
FIRST_BUCKET_MATHS = ("dau", "unique_group")
"""Maths a cumulative graph counts each actor (person, group) for in its first active bucket only."""


def _shifted(date_range: QueryDateRange, steps: int) -> Callable[[exp.Expression], exp.Expression]:
    """A timestamp → the starts of its bucket and the `steps - 1` next ones (one row each, by arrayJoin)."""
    unit = f"toInterval{date_range.interval.capitalize()}"
    return lambda field: exp.Add(
        this=date_range.bucket_expr(field),
        expression=call(unit, call("arrayJoin", call("range", exp.Literal.number(steps)))),
    )


def _grid(date_range: QueryDateRange) -> exp.Expression:
    """`bucket_start` is a bucket of the grid (shifted active-users buckets reach past it both ways): between
    the first and the last start, as instants, or as Dates for week and month buckets."""
    first, last = date_range.buckets[0], date_range.buckets[-1]
    if date_range.interval in {"week", "month"}:
        low, high = (call("toDate", exp.Literal.string(b.day)) for b in (first, last))
    else:
        low, high = moment_expr(first.start), moment_expr(last.start)
    column = exp.column("bucket_start")
    return exp.and_(exp.GTE(this=column, expression=low), exp.LTE(this=column.copy(), expression=high))


def _week_starts_within(date_range: QueryDateRange, days: int) -> Callable[[exp.Expression], exp.Expression]:
    """A timestamp → the week starts d with day(t) <= d <= day(t) + days - 1 (one row each, by arrayJoin): the
    weekly buckets whose window (d - days + 1 day, d + 1 day] holds it."""

    def buckets(field: exp.Expression) -> exp.Expression:
        day = call("toStartOfDay", field)
        last = date_range.bucket_expr(exp.Add(this=day, expression=call("toIntervalDay", exp.Literal.number(days - 1))))
        k, start = exp.to_identifier("k"), exp.to_identifier("start")
        candidates = call(
            "arrayMap",
            exp.Lambda(this=exp.Sub(this=last, expression=call("toIntervalWeek", exp.column(k))), expressions=[k]),
            call("range", exp.Literal.number(days // 7 + 1)),
        )
        kept = call(
            "arrayFilter",
            exp.Lambda(this=exp.GTE(this=exp.column(start), expression=day.copy()), expressions=[start]),
            candidates,
        )
        return call("arrayJoin", kept)

    return buckets


def _action(series: dict[str, Any], order: int, math: str, date_range: QueryDateRange) -> dict[str, Any]:
    """`action` of a response item: the series as PostHog's legacy entity."""
    return {
        "days": [b.start.isoformat() for b in date_range.buckets],
        **series_entity(series),
        "order": order,
        "name": series_name(series),
        "custom_name": series.get("custom_name"),
        "math": math,
        "math_property": series.get("math_property"),
        "math_hogql": series.get("math_hogql"),
        "math_group_type_index": series.get("math_group_type_index"),
        "properties": series.get("properties") or {},
    }


def _formula_order(key: Key | None, item: dict[str, Any], *, total_value: bool) -> tuple[Any, ...]:
    """Descending: real values, then those holding the null marker, then other; by total, points, value."""
    parts = key if isinstance(key, tuple) else (key,)
    kind = -2 if BREAKDOWN_OTHER in parts else -1 if BREAKDOWN_NULL in parts else 0
    total = (item.get("aggregated_value") or 0) if total_value else item["count"]
    return kind, total, item.get("data") or [], repr(key)


def _number(value: Any) -> float | int:
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    number = float(value)
    return number if number == number and number not in (float("inf"), float("-inf")) else 0


def run_trends_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    return _Runner(team, query, limit_context).run()


def trends_overrides(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A dashboard's dates replace the dateRange (when either is set, both bounds are the dashboard's: a
    missing `date_to` is now; `explicitDate` follows the dashboard when given); its property filters are ANDed."""
    override = body.get("filters_override") or {}
    if not override:
        return query
    query = dict(query)
    if override.get("date_from") or override.get("date_to"):
        date_range = dict(query.get("dateRange") or {})
        date_range.update(date_from=override.get("date_from"), date_to=override.get("date_to"))
        if override.get("explicitDate") is not None:
            date_range["explicitDate"] = override["explicitDate"]
        query["dateRange"] = date_range
    if override.get("properties"):
        query["properties"] = [f for f in (query.get("properties"), override["properties"]) if f]
    return query


TRENDS_QUERY = QueryKind(
    name="TrendsQuery",
    request=TrendsQuerySerializer,
    response=TrendsQueryResponseSerializer,
    run=run_trends_query,
    apply_overrides=trends_overrides,
)
