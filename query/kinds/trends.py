"""`TrendsQuery`: PostHog's trends insight (line graphs, bold numbers, pies, tables of series over time).

Each series (an EventsNode, `query.kinds.series`) becomes HogQL over `events` grouped by the interval start
(`QueryDateRange.bucket_expr`, team timezone) and run by `hogql_execute`; the rows are laid on the zero-filled
grid of `QueryDateRange` (`days`, `labels`). `weekly_active`/`monthly_active` read from 7/30 days before the first
bucket and count each event for every bucket whose trailing 7/30-day window holds it (`arrayJoin(range(n))`
interval shifts), so the distinct persons per bucket are counted by ClickHouse.

- Total-value displays (`BoldNumber`, `ActionsPie`, `ActionsTable`, `ActionsBarValue`, `WorldMap`,
  `CalendarHeatmap`): one aggregate over the whole range → `aggregated_value`, `data: []`, `count: 0`.
- `compareFilter`: the items of the previous period follow the current ones, `compare_label` current/previous.
- `breakdownFilter` (one `event` or `person` property): `toString(value)`, NULL and `""` → the null marker,
  values ranked (real by total desc then value, null last), past `breakdown_limit` merged into the other marker
  in the same query (`query.kinds.ranking`: merged aggregate states, so distinct counts stay distinct),
  `hasMore` when an other bucket exists.
- Formulas (`query.kinds.formula`): one item per formula in place of the series' items, per breakdown value
  (re-sorted by total) and per compare period.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.dates import DateRangeError, QueryDateRange, validate_interval
from query.hogql.ast import call
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.hogql.passes.limits import LIMIT_CONTEXTS
from query.kinds.base import CachedResponseSerializer, QueryKind, StrictSerializer
from query.kinds.formula import FormulaError, evaluate, formula_nodes, parse_formula
from query.kinds.ranking import ranked, ranked_first_buckets
from query.kinds.series import (
    ACTIVE_WINDOW_DAYS,
    SeriesField,
    aggregation,
    earliest_event,
    series_math,
    series_name,
    series_where,
)
from query.property_serializers import PropertyFiltersField
from query.runner import hogql_execute
from query.selectors import property_types_for_team

TOTAL_VALUE_DISPLAYS = {"BoldNumber", "ActionsPie", "ActionsTable", "ActionsBarValue", "WorldMap", "CalendarHeatmap"}
TIME_SERIES_DISPLAYS = {
    "ActionsLineGraph", "ActionsBar", "ActionsUnstackedBar", "ActionsStackedBar", "ActionsAreaGraph",
    "ActionsLineGraphCumulative",
}  # fmt: skip
BREAKDOWN_NULL = "$$_posthog_breakdown_null_$$"
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
BREAKDOWN_LIMIT = 25
WORLD_MAP_BREAKDOWN_LIMIT = 300
BREAKDOWN_TYPES = ("event", "person")
MAX_ROWS = LIMIT_CONTEXTS["query"].maximum


def _date_range(team_tz: str, week_start_day: int | None, query: dict[str, Any], **kwargs: Any) -> QueryDateRange:
    display = (query.get("trendsFilter") or {}).get("display")
    interval = "day" if display in TOTAL_VALUE_DISPLAYS else query.get("interval")
    return QueryDateRange(
        query.get("dateRange"), interval=interval, timezone=team_tz, week_start_day=week_start_day, **kwargs
    )


class TrendsQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["TrendsQuery"], help_text='Query kind: "TrendsQuery".')
    series = SeriesField(min_length=1)
    interval = serializers.CharField(
        required=False, allow_null=True, help_text="minute, hour, day (default), week or month."
    )
    dateRange = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"date_from", "date_to", "explicitDate"}; default the last 7 days.'
    )
    properties = PropertyFiltersField(required=False, allow_null=True)
    filterTestAccounts = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="AND the project's test_account_filters onto every series."
    )
    breakdownFilter = serializers.DictField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text='{"breakdown": <property>, "breakdown_type": "event"|"person", "breakdown_limit": 25, '
        '"breakdown_hide_other_aggregation": false}.',
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
        required=False, allow_null=True, help_text="Accepted; events are not sampled."
    )
    conversionGoal = serializers.JSONField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted, ignored."
    )
    aggregation_group_type_index = serializers.IntegerField(
        required=False, allow_null=True, help_text="Accepted, ignored (trends use the series' math)."
    )
    dataColorTheme = serializers.FloatField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted, ignored."
    )
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; echoed.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_interval(self, value: str | None) -> str | None:
        try:
            validate_interval(value)
        except DateRangeError as error:
            raise serializers.ValidationError(error.message) from None
        return value

    def validate_breakdownFilter(self, value: dict[str, Any] | None) -> dict[str, Any] | None:  # noqa: N802
        if not value or value.get("breakdown") in (None, ""):
            return value
        if value.get("breakdowns"):
            raise serializers.ValidationError("Multiple breakdowns are not supported yet")
        kind = value.get("breakdown_type") or "event"
        if kind not in BREAKDOWN_TYPES:
            raise serializers.ValidationError(f"breakdown_type '{kind}' is not supported; use event or person")
        if not isinstance(value["breakdown"], str):
            raise serializers.ValidationError("breakdown must be a property name")
        limit = value.get("breakdown_limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise serializers.ValidationError("breakdown_limit must be a positive integer")
        return value

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
        self.now = dt.datetime.now(dt.UTC)
        self.property_types = property_types_for_team(team=team)
        self.display = (query.get("trendsFilter") or {}).get("display") or "ActionsLineGraph"
        self.total_value = self.display in TOTAL_VALUE_DISPLAYS
        self.cumulative = self.display == "ActionsLineGraphCumulative"
        smoothing = (query.get("trendsFilter") or {}).get("smoothingIntervals")
        self.smoothing = smoothing if isinstance(smoothing, int) and not isinstance(smoothing, bool) else 1
        self.breakdown = query.get("breakdownFilter") or {}
        if self.breakdown.get("breakdown") in (None, ""):
            self.breakdown = {}
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

    def _execute(self, select: exp.Select) -> Any:
        text = to_hogql(select)
        result = hogql_execute(team=self.team, query=text, limit_context=self.limit_context, limit=MAX_ROWS)
        if result.hasMore:  # never answer with numbers from a cut result
            raise HogQLQueryError(
                f"The trend has more than {MAX_ROWS} points (buckets x breakdown values): narrow the date range, "
                "use a longer interval or a breakdown with fewer values"
            )
        self.hogql.append(result.hogql)
        self.timings.extend(result.timings)
        return result

    # -- one series

    def _breakdown_expr(self) -> exp.Expression:
        key = self.breakdown["breakdown"]
        table = "person" if (self.breakdown.get("breakdown_type") or "event") == "person" else None
        value = exp.Bracket(this=exp.column("properties", table=table), expressions=[exp.Literal.string(key)])
        return call("ifNull", call("nullIf", call("toString", value), exp.Literal.string("")), _str(BREAKDOWN_NULL))

    def _first_bucket_only(self, math: str) -> bool:
        """Cumulative `dau` counts each person in its first active bucket only."""
        return self.cumulative and math == "dau"

    def _select(self, series: dict[str, Any], math: str, date_range: QueryDateRange) -> exp.Select:
        """Columns: [bucket start], [breakdown value], the aggregate; grouped by the others."""
        conditions = series_where(
            series,
            self.query,
            property_types=self.property_types,
            timezone=self.timezone,
            now=self.now,
            test_account_filters=self.team.test_account_filters,
        )
        value = self._breakdown_expr() if self.breakdown else None
        if self.total_value:
            conditions.append(date_range.range_condition(from_bucket_start=False))
            return _grouped(None, value, aggregation(series, math), conditions)
        if math in ACTIVE_WINDOW_DAYS:
            # an event counts for every bucket whose trailing window holds it: its own and the next ones
            window = dt.timedelta(days=ACTIVE_WINDOW_DAYS[math])
            steps = int(window / _INTERVAL_LENGTH[date_range.interval])
            shift = call(f"toInterval{date_range.interval.capitalize()}", call("arrayJoin", call("range", _int(steps))))
            bucket = exp.Add(this=date_range.bucket_expr(), expression=shift)
            lower = date_range.first_bucket_start - window
            conditions.append(exp.GTE(this=exp.column("timestamp"), expression=_moment(lower)))
            conditions.append(exp.LTE(this=exp.column("timestamp"), expression=_moment(date_range.date_to)))
            return _grouped(bucket, value, aggregation(series, math), conditions)
        conditions.append(date_range.range_condition())
        if self._first_bucket_only(math):
            first = exp.alias_(call("min", date_range.bucket_expr()), "bucket")
            columns = [exp.alias_(exp.column("person_id"), "actor"), first]
            groups = [exp.column("actor")]
            if value is not None:
                columns.append(exp.alias_(value, "breakdown_value"))
                groups.append(exp.column("breakdown_value"))
            inner = exp.select(*columns).from_("events").where(exp.and_(*conditions, copy=False), copy=False)
            inner = inner.group_by(*groups, copy=False)
            outer_value = exp.column("breakdown_value") if value is not None else None
            return _grouped(exp.column("bucket"), outer_value, exp.Anonymous(this="count", expressions=[]), [], inner)
        return _grouped(date_range.bucket_expr(), value, aggregation(series, math), conditions)

    def _ranked(self, select: exp.Select, math: str, date_range: QueryDateRange) -> exp.Select:
        """`select` keeping the top `breakdown_limit` values and merging the rest into the other marker."""
        default = WORLD_MAP_BREAKDOWN_LIMIT if self.display == "WorldMap" else BREAKDOWN_LIMIT
        limit = self.breakdown.get("breakdown_limit") or default
        if self._first_bucket_only(math):
            return ranked_first_buckets(select, limit=limit, null_value=BREAKDOWN_NULL, other_value=BREAKDOWN_OTHER)
        windowed = math in ACTIVE_WINDOW_DAYS and not self.total_value  # buckets past the grid: not ranked
        grid = date_range.range_condition(exp.column("bucket_start")) if windowed else None
        return ranked(select, limit=limit, null_value=BREAKDOWN_NULL, other_value=BREAKDOWN_OTHER, grid=grid)

    def _values(self, series: dict[str, Any], math: str, date_range: QueryDateRange) -> dict[str, list[float]]:
        """breakdown value ("" without a breakdown; the top `breakdown_limit` ones and the other marker with
        one) → value per bucket ([total] for total value)."""
        select = self._select(series, math, date_range)
        rows = self._execute(self._ranked(select, math, date_range) if self.breakdown else select).results
        width = 1 if self.total_value else len(date_range.buckets)
        out: dict[str, list[float]] = {}
        if not self.breakdown and not rows:
            out[""] = [0] * width
        for row in rows:
            row = list(row)
            index = 0
            if not self.total_value:
                index = date_range.bucket_index(row.pop(0))
                if index is None:  # an active-users window reaching past the grid
                    continue
            key = row.pop(0) if self.breakdown else ""
            data = out.setdefault(key, [0] * width)
            data[index] = _number(row[0])
        return out

    def _shape_data(self, data: list[float]) -> list[float]:
        """`smoothingIntervals` N > 1: the floor of the mean of the last N points; cumulative: running sums."""
        if self.smoothing > 1:
            windows = [data[max(0, i - self.smoothing + 1) : i + 1] for i in range(len(data))]
            data = [sum(window) // len(window) for window in windows]
        if self.cumulative:
            data = list(itertools.accumulate(data))
        return data

    def _series_values(self, series: dict[str, Any], math: str, date_range: QueryDateRange) -> dict[str, list[float]]:
        values = self._values(series, math, date_range)
        if not self.breakdown:
            return values
        other = values.pop(BREAKDOWN_OTHER, None)
        result = {v: values[v] for v in sorted(values, key=lambda v: (v == BREAKDOWN_NULL, -sum(values[v]), v))}
        if other is not None:
            self.has_more = True
            if not self.breakdown.get("breakdown_hide_other_aggregation"):
                result[BREAKDOWN_OTHER] = other
        return result

    # -- items

    def _item(
        self,
        series: dict[str, Any],
        order: int,
        math: str,
        date_range: QueryDateRange,
        data: list[float],
        breakdown_value: str | None,
        compare_label: str | None,
    ) -> dict[str, Any]:
        name = series_name(series)
        label = name  # custom_name stays in action.custom_name (the UI shows it)
        if self.breakdown:
            label = breakdown_value if len(self.query["series"]) == 1 else f"{label} - {breakdown_value}"
        item: dict[str, Any] = {
            "days": date_range.days,
            "label": label,
            "action": {
                "days": [b.start.isoformat() for b in date_range.buckets],
                "id": series.get("event"),
                "type": "events",
                "order": order,
                "name": name,
                "custom_name": series.get("custom_name"),
                "math": math,
                "math_property": series.get("math_property"),
                "math_hogql": None,
                "math_group_type_index": None,
                "properties": series.get("properties") or {},
            },
            "filter": self._filter(date_range),
        }
        if self.total_value:
            item.update(data=[], count=0, aggregated_value=data[0] if data else 0)
        else:
            data = self._shape_data(data)
            count = float(data[-1] if self.cumulative and data else sum(data))
            item.update(data=data, labels=date_range.labels, count=count)
        if self.breakdown:
            item["breakdown_value"] = breakdown_value
        if compare_label is not None:
            item.update(compare=True, compare_label=compare_label)
        return item

    def _filter(self, date_range: QueryDateRange) -> dict[str, Any]:
        legacy = {
            "insight": "TRENDS",
            "date_from": date_range.date_from.isoformat(),
            "date_to": date_range.date_to.isoformat(),
            "interval": date_range.interval,
            "entity_type": "events",
            "display": self.display,
            "breakdown": self.breakdown.get("breakdown"),
            "breakdown_type": (self.breakdown.get("breakdown_type") or "event") if self.breakdown else None,
            "breakdown_limit": self.breakdown.get("breakdown_limit"),
            "compare": (self.query.get("compareFilter") or {}).get("compare"),
            "filter_test_accounts": self.query.get("filterTestAccounts"),
        }
        return {key: value for key, value in legacy.items() if value is not None}

    def _period(self, date_range: QueryDateRange, compare_label: str | None) -> list[dict[str, Any]]:
        items = []
        for order, series in enumerate(self.query["series"]):
            math = series_math(series, date_range.interval)
            for value, data in self._series_values(series, math, date_range).items():
                items.append(self._item(series, order, math, date_range, data, value or None, compare_label))
        return items

    def _formulas(self, items: list[dict[str, Any]], date_range: QueryDateRange) -> list[dict[str, Any]]:
        """One item per formula (and breakdown value), in place of the series' items; missing values are zeros."""
        count = len(self.query["series"])
        key = "aggregated_value" if self.total_value else "data"
        width = 1 if self.total_value else len(date_range.buckets)
        by_value: dict[Any, list[list[float]]] = {}
        for item in items:
            value = item.get("breakdown_value")
            series = by_value.setdefault(value, [[0] * width for _ in range(count)])
            series[item["action"]["order"]] = [item[key]] if self.total_value else item[key]
        if not by_value:
            by_value[None] = [[0] * width for _ in range(count)]
        template = (
            items[0] if items else self._item(self.query["series"][0], 0, "total", date_range, [0] * width, None, None)
        )
        out = []
        for node in formula_nodes(self.query.get("trendsFilter")):
            tree = parse_formula(node["formula"], count)
            computed = []
            for value, series in by_value.items():
                data = evaluate(tree, series)
                label = node.get("custom_name") or f"Formula ({node['formula']})"
                item = {k: v for k, v in template.items() if k not in {"breakdown_value"}}
                item.update(label=label, action=None)
                if self.total_value:
                    item.update(aggregated_value=data[0] if data else 0)
                else:
                    item.update(data=data, count=float(sum(data)))
                if value is not None:
                    item.update(breakdown_value=value, label=value)
                computed.append(item)
            computed.sort(key=lambda i: -(i.get("aggregated_value") if self.total_value else i["count"]))
            out.extend(computed)
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


def _grouped(
    bucket: exp.Expression | None,
    value: exp.Expression | None,
    aggregate: exp.Expression,
    conditions: list[exp.Expression],
    source: exp.Select | None = None,
) -> exp.Select:
    """SELECT [bucket], [breakdown_value], aggregate FROM events (or a subquery) WHERE … GROUP BY the others."""
    columns, groups = [], []
    if bucket is not None:
        columns.append(exp.alias_(bucket, "bucket_start"))
        groups.append(exp.column("bucket_start"))
    if value is not None:
        columns.append(exp.alias_(value, "breakdown_value"))
        groups.append(exp.column("breakdown_value"))
    columns.append(exp.alias_(aggregate, "total"))
    select = exp.select(*columns).from_(source.subquery() if source is not None else "events")
    if conditions:
        select = select.where(exp.and_(*conditions, copy=False), copy=False)
    if groups:
        select = select.group_by(*groups, copy=False)
    return select


def _int(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def _str(value: str) -> exp.Expression:
    return exp.Literal.string(value)


def _moment(moment: dt.datetime) -> exp.Expression:
    text = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return call("toDateTime64", exp.Literal.string(text), exp.Literal.number(6), exp.Literal.string("UTC"))


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
    """A dashboard's `date_from`/`date_to` replace the dateRange; its property filters are ANDed on."""
    override = body.get("filters_override") or {}
    if not override:
        return query
    query = dict(query)
    if override.get("date_from") or override.get("date_to"):
        date_range = dict(query.get("dateRange") or {})
        for key in ("date_from", "date_to"):
            if override.get(key):
                date_range[key] = override[key]
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
