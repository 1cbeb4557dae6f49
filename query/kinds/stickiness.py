"""`StickinessQuery`: PostHog's stickiness insight — how many actors were active in exactly 1, 2, … N
intervals of the date range (or in at least that many, `computedAs: "cumulative"`).

Per series (an EventsNode, `query.kinds.series`) one HogQL query over `events` runs through `hogql_execute`:
events of the range (from the start of the interval holding `date_from` to `date_to`, team timezone) grouped
by actor and interval — the interval start (`QueryDateRange.bucket_expr`, team week start), or with
`intervalCount` k the number of whole k-interval periods back from `date_to` (`age`) —, kept when the
interval's event count satisfies `stickinessCriteria` (any event without one), then counted per actor, then
actors per count. `data[j]` = actors active in exactly j+1 intervals of the N the range holds (N = the grid's
buckets, or ceil(buckets / k)); cumulative data are suffix sums; `count` stays the number of distinct actors.

Actors are persons (`person_id`), or with `math: "unique_group"` the groups of `math_group_type_index`
(`$group_N`, empty skipped); `hogql` math is refused, and PostHog's stickiness ignores every other math.
`compareFilter` adds the previous period; as PostHog's runner does, each series' current item is followed by
its previous one. The `actors` hook (`stickiness_actors`)
returns who was counted in one point (`day` intervals active, `operator`, `series`, `compare`).
"""

from __future__ import annotations

import math
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
from query.kinds.base import CachedResponseSerializer, QueryKind, StrictSerializer
from query.kinds.series import (
    InsightQuerySerializer,
    SeriesField,
    earliest_event,
    series_entity,
    series_name,
    series_where,
)
from query.kinds.trends import TIME_SERIES_DISPLAYS, TOTAL_VALUE_DISPLAYS, trends_overrides
from query.runner import hogql_execute
from query.selectors import property_types_for_team

OPERATORS = ("gte", "lte", "exact")
"""`StickinessOperator`: how an interval's event count (criteria) or an actor's interval count (actors) is
compared with the value."""
CUMULATIVE, NON_CUMULATIVE = "cumulative", "non_cumulative"
COMPARE_LABELS = ("current", "previous")
MAX_ROWS = LIMIT_CONTEXTS["query"].maximum
_COMPARISONS = {"gte": exp.GTE, "lte": exp.LTE, "exact": exp.EQ}


# ---------------------------------------------------------------------------------------------------
# request and response


class StickinessCriteriaSerializer(StrictSerializer):
    operator = serializers.ChoiceField(choices=OPERATORS, help_text="gte, lte or exact.")
    value = serializers.IntegerField(help_text="Events an interval needs (compared by operator) to count.")


class StickinessFilterSerializer(StrictSerializer):
    """`stickinessFilter`: the two keys that change the numbers, and the display keys (accepted, ignored)."""

    computedAs = serializers.ChoiceField(  # noqa: N815
        choices=[NON_CUMULATIVE, CUMULATIVE],
        required=False,
        allow_null=True,
        help_text="non_cumulative (default): actors active in exactly n intervals; cumulative: in n or more.",
    )
    stickinessCriteria = StickinessCriteriaSerializer(  # noqa: N815
        required=False,
        allow_null=True,
        help_text='{"operator": "gte"|"lte"|"exact", "value": n}: an interval counts when its event count '
        "satisfies it (default: any event).",
    )
    display = serializers.CharField(required=False, allow_null=True, help_text="ChartDisplayType (display only).")
    hiddenLegendIndexes = serializers.ListField(  # noqa: N815
        child=serializers.FloatField(), required=False, allow_null=True, help_text="Display only."
    )
    hidden_legend_indexes = serializers.ListField(
        child=serializers.FloatField(), required=False, allow_null=True, help_text="Display only (older name)."
    )
    resultCustomizationBy = serializers.ChoiceField(  # noqa: N815
        choices=["value", "position"], required=False, allow_null=True, help_text="Display only."
    )
    resultCustomizations = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    showLegend = serializers.BooleanField(required=False, allow_null=True, help_text="Display only.")  # noqa: N815
    showMultipleYAxes = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    showValuesOnSeries = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    compare = serializers.BooleanField(required=False, allow_null=True, help_text="Older schema; use compareFilter.")

    def validate_display(self, value: str | None) -> str | None:
        if value is not None and value not in TOTAL_VALUE_DISPLAYS | TIME_SERIES_DISPLAYS:
            raise serializers.ValidationError(f"Value '{value}' is not an instance of ChartDisplayType")
        return value


class StickinessQuerySerializer(InsightQuerySerializer):
    kind = serializers.ChoiceField(choices=["StickinessQuery"], help_text='Query kind: "StickinessQuery".')
    series = SeriesField(min_length=1)
    interval = serializers.CharField(
        required=False, allow_null=True, help_text="minute, hour, day (default), week or month."
    )
    intervalCount = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        min_value=1,
        help_text="k: one stickiness period is k intervals, counted back from date_to.",
    )
    dateRange = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"date_from", "date_to", "explicitDate"}; default the last 7 days.'
    )
    compareFilter = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"compare": true, "compare_to": "-1w"}: add the previous period.'
    )
    stickinessFilter = StickinessFilterSerializer(  # noqa: N815
        required=False, allow_null=True, help_text="computedAs, stickinessCriteria and display keys."
    )
    samplingFactor = serializers.FloatField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted; events are not sampled."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for i, node in enumerate(attrs.get("series") or []):
            if node.get("math") == "hogql":  # the expression would be the actor, not an aggregate
                raise serializers.ValidationError(
                    {"series": {i: {"math": ["Math 'hogql' is not supported in stickiness"]}}}
                )
        try:  # every date error is a 400 naming the field, before anything runs
            date_range = QueryDateRange(attrs.get("dateRange"), interval=attrs.get("interval"), earliest_event=_none)
            compare = attrs.get("compareFilter") or {}
            if compare.get("compare"):
                date_range.previous_period(compare.get("compare_to"))
        except DateRangeError as error:
            raise serializers.ValidationError({error.attr or "dateRange": [error.message]}) from None
        return attrs


def _none() -> None:
    return None


class StickinessQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="One item per series (and period): data (data[j] = actors active in exactly j+1 intervals, "
        "or in j+1 or more when cumulative), days [1..N], labels ('1 day', '2 days', … or '1 day or more', …), "
        "count (distinct actors), label, action {order, type, name, id, custom_name}; compare, compare_label "
        "with compareFilter.",
    )
    hogql = serializers.CharField(help_text="The HogQL of the first series query.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    error = serializers.CharField(allow_blank=True, help_text='Always "".')
    resolved_date_range = serializers.DictField(help_text='{"date_from", "date_to"} (ISO, team timezone).')
    resolved_compare_date_range = serializers.DictField(
        allow_null=True, help_text="The previous period's range with compareFilter, else null."
    )
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


# ---------------------------------------------------------------------------------------------------
# building the HogQL


class _Builder:
    """The HogQL of one query node: per series and period, the intervals each actor was active in."""

    def __init__(self, team: Team, query: dict[str, Any], limit_context: str):
        self.team = team
        self.query = query
        self.timezone = team.timezone or "UTC"
        self.now = clock.now()
        self.property_types = property_types_for_team(team=team)
        stickiness = query.get("stickinessFilter") or {}
        self.cumulative = stickiness.get("computedAs") == CUMULATIVE
        self.criteria = stickiness.get("stickinessCriteria")
        self.interval_count = query.get("intervalCount")  # None and 1 differ: calendar intervals vs age
        self.compare = query.get("compareFilter") or {}
        self.date_range = QueryDateRange(
            query.get("dateRange"),
            interval=query.get("interval"),
            timezone=self.timezone,
            week_start_day=team.week_start_day,
            now=self.now,
            earliest_event=lambda: earliest_event(team, limit_context),
        )

    def previous(self) -> QueryDateRange:
        return self.date_range.previous_period(self.compare.get("compare_to"))

    def periods(self) -> list[tuple[QueryDateRange, str | None]]:
        if not self.compare.get("compare"):
            return [(self.date_range, None)]
        return [(self.date_range, "current"), (self.previous(), "previous")]

    def interval_total(self, date_range: QueryDateRange) -> int:
        """N: the intervals of the range (grid buckets), or periods of `intervalCount` of them."""
        return math.ceil(len(date_range.buckets) / (self.interval_count or 1))

    def _interval_key(self, date_range: QueryDateRange) -> exp.Expression:
        """Which interval an event falls in: its interval start, or with `intervalCount` k the whole k-interval
        periods between it and `date_to` (PostHog's `age`; its runner measures from the current range's end
        even for the previous period, which we do not copy)."""
        if self.interval_count is None:
            return date_range.bucket_expr()
        end = call("toTimeZone", moment_expr(date_range.date_to), exp.Literal.string(self.timezone))
        age = call("age", exp.Literal.string(date_range.interval), exp.column("timestamp"), end)
        return age if self.interval_count == 1 else call("intDiv", age, exp.Literal.number(self.interval_count))

    @staticmethod
    def _range_condition(date_range: QueryDateRange) -> exp.Expression:
        """From the start of the interval holding `date_from` to `date_to`, except that week intervals read
        from the day of `date_from` (as PostHog: a week started before the range is not read whole)."""
        if date_range.interval != "week":
            return date_range.range_condition()
        day_start = date_range.date_from.replace(hour=0, minute=0, second=0, microsecond=0)
        return exp.and_(
            exp.GTE(this=exp.column("timestamp"), expression=moment_expr(day_start)),
            exp.LTE(this=exp.column("timestamp"), expression=moment_expr(date_range.date_to)),
        )

    def per_actor(self, series: dict[str, Any], date_range: QueryDateRange) -> exp.Select:
        """SELECT actor, num_intervals: each actor with the number of intervals it was active in."""
        conditions = series_where(
            series,
            self.query,
            property_types=self.property_types,
            timezone=self.timezone,
            now=self.now,
            test_account_filters=self.team.test_account_filters,
        )
        conditions.append(self._range_condition(date_range))
        actor: exp.Expression = exp.column("person_id")
        if series.get("math") == "unique_group":  # groups of that type are the actors; events without one skip
            actor = exp.column(f"$group_{int(series['math_group_type_index'])}")
            conditions.append(exp.NEQ(this=actor.copy(), expression=exp.Literal.string("")))
        active = (
            exp.select(
                exp.alias_(actor, "actor"),
                exp.alias_(self._interval_key(date_range), "active_interval"),
            )
            .from_("events")
            .where(exp.and_(*conditions, copy=False), copy=False)
            .group_by(exp.column("actor"), exp.column("active_interval"), copy=False)
        )
        if self.criteria:
            comparison = _COMPARISONS[self.criteria["operator"]]
            count = exp.Anonymous(this="count", expressions=[])
            active = active.having(comparison(this=count, expression=exp.Literal.number(self.criteria["value"])))
        return (
            exp.select(exp.column("actor"), exp.alias_(exp.Anonymous(this="count", expressions=[]), "num_intervals"))
            .from_(active.subquery())
            .group_by(exp.column("actor"), copy=False)
        )

    def histogram(self, series: dict[str, Any], date_range: QueryDateRange) -> exp.Select:
        """SELECT num_intervals, num_actors: how many actors were active in each number of intervals."""
        return (
            exp.select(
                exp.column("num_intervals"),
                exp.alias_(exp.Anonymous(this="count", expressions=[]), "num_actors"),
            )
            .from_(self.per_actor(series, date_range).subquery())
            .group_by(exp.column("num_intervals"), copy=False)
            .order_by(exp.column("num_intervals"), copy=False)
        )


# ---------------------------------------------------------------------------------------------------
# running it


class _Runner(_Builder):
    def __init__(self, team: Team, query: dict[str, Any], limit_context: str):
        super().__init__(team, query, limit_context)
        self.limit_context = limit_context
        self.hogql: list[str] = []
        self.timings: list[dict[str, Any]] = []

    def _data(self, series: dict[str, Any], date_range: QueryDateRange) -> list[int]:
        """Actors active in exactly 1, 2, … N intervals."""
        select = self.histogram(series, date_range)
        result = hogql_execute(team=self.team, query=to_hogql(select), limit_context=self.limit_context, limit=MAX_ROWS)
        self.hogql.append(result.hogql)
        self.timings.extend(result.timings)
        data = [0] * self.interval_total(date_range)
        for num_intervals, num_actors in result.results:
            if 1 <= int(num_intervals) <= len(data):  # more is impossible: intervals are inside the range
                data[int(num_intervals) - 1] = int(num_actors)
        return data

    def _item(
        self, series: dict[str, Any], order: int, date_range: QueryDateRange, compare_label: str | None
    ) -> dict[str, Any]:
        data = self._data(series, date_range)
        count = sum(data)
        if self.cumulative:  # actors active in n or more intervals
            data = [sum(data[i:]) for i in range(len(data))]
        days = list(range(1, len(data) + 1))
        interval = date_range.interval
        suffix = " or more" if self.cumulative else ""
        name = series_name(series)
        item: dict[str, Any] = {
            "count": count,
            "data": data,
            "days": days,
            "label": name,
            "labels": [f"{n} {interval}{'' if n == 1 else 's'}{suffix}" for n in days],
            "action": {
                "order": order,
                **series_entity(series),
                "name": name,
                "custom_name": series.get("custom_name"),
            },
        }
        if compare_label is not None:
            item.update(compare=True, compare_label=compare_label)
        return item

    def run(self) -> dict[str, Any]:
        periods = self.periods()
        results = [
            self._item(series, order, date_range, label)
            for order, series in enumerate(self.query["series"])
            for date_range, label in periods
        ]
        total = sum(t.get("t", 0) for t in self.timings if t.get("k") == ".")
        return {
            "results": results,
            "hogql": self.hogql[0] if self.hogql else "",
            "timings": [{"k": ".", "t": total}],
            "error": "",
            "resolved_date_range": self.date_range.resolved_date_range(),
            "resolved_compare_date_range": periods[1][0].resolved_date_range() if len(periods) > 1 else None,
        }


def run_stickiness_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    return _Runner(team, query, limit_context).run()


# ---------------------------------------------------------------------------------------------------
# the actors behind one point


def stickiness_actors(team: Team, query: dict[str, Any], params: dict[str, Any], limit_context: str) -> exp.Select:
    """SELECT actor_id: the persons of series `series` (default 0) in the `compare` period (`current` default,
    `previous`) active in `day` intervals — exactly (`operator` exact, the default), at least (gte, and always
    for a cumulative insight) or at most (lte). Without `day`: everyone the series counted."""
    builder = _Builder(team, query, limit_context)
    index = _series_index(params.get("series"), len(query["series"]))
    compare = params.get("compare")
    if compare not in (None, *COMPARE_LABELS):
        raise HogQLQueryError(f"compare must be current or previous, not {compare!r}")
    date_range = builder.previous() if compare == "previous" else builder.date_range
    per_actor = builder.per_actor(query["series"][index], date_range)
    select = exp.select(exp.alias_(exp.column("actor"), "actor_id")).from_(per_actor.subquery())
    day = params.get("day")
    if day is None:
        return select
    operator = "gte" if builder.cumulative else (params.get("operator") or "exact")
    if operator not in _COMPARISONS:
        raise HogQLQueryError(f"operator must be one of {', '.join(OPERATORS)}, not {operator!r}")
    comparison = _COMPARISONS[operator](this=exp.column("num_intervals"), expression=exp.Literal.number(_day(day)))
    return select.where(comparison, copy=False)


def _series_index(value: Any, count: int) -> int:
    index = 0 if value is None else value
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise HogQLQueryError(f"series must be the index of one of the {count} series, not {value!r}")
    return index


def _day(value: Any) -> int:
    """`day` of a stickiness point: intervals active, an int (PostHog also takes its text)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HogQLQueryError(f"day must be the number of intervals an actor was active in (1 or more), not {value!r}")
    return value


STICKINESS_QUERY = QueryKind(
    name="StickinessQuery",
    request=StickinessQuerySerializer,
    response=StickinessQueryResponseSerializer,
    run=run_stickiness_query,
    apply_overrides=trends_overrides,
    actors=stickiness_actors,
)
