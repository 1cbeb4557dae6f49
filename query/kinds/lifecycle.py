"""`LifecycleQuery`: PostHog's lifecycle insight (new, returning, resurrecting and dormant users per interval).

One HogQL query over `events` (`hogql_execute`), built from a template whose placeholder columns are replaced by
trees (`query.kinds.series.series_where`, `QueryDateRange.bucket_expr`):

- per person, `periods` = the sorted distinct interval starts (team timezone, team week start) with a matching
  event, read from one interval before the first bucket through `date_to`, and `created_period` = the interval
  of `person.created_at`;
- each active period P is `new` if it is the first one read and equals `created_period`, `returning` if P − 1
  interval is active too, `resurrecting` otherwise (so the first period read of a person created earlier);
  an active P whose next interval is inactive makes the person `dormant` in P + 1;
- the (period, status) pairs are counted per bucket; only the grid's buckets are answered and dormant counts
  are negative.

The `actors` hook (what `InsightActorsQuery` asks: `day`, `status`) lists the persons of one such pair.
Persons only: a non-null `aggregation_group_type_index` (groups) is a 400. `samplingFactor` is accepted and
ignored (events are not sampled), as in `TrendsQuery`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.dates import DateRangeError, QueryDateRange, moment_expr
from query.hogql.ast import call
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import parse_select, to_hogql
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
from query.kinds.trends import trends_overrides
from query.runner import hogql_execute
from query.selectors import property_types_for_team

STATUSES = ("new", "returning", "resurrecting", "dormant")
MAX_ROWS = LIMIT_CONTEXTS["query"].maximum
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Placeholders: __where__ (the events read), __period__ / __created__ (interval start of the event / of the
# person's creation), __next(p) / __previous(p) (the interval after / before p). Lambdas read `periods` through a
# nested SELECT so every name they use is a column of their FROM.
_PAIRS = """
SELECT actor_id, tupleElement(pair, 1) AS period, tupleElement(pair, 2) AS status
FROM (
    SELECT actor_id, arrayConcat(
        arrayMap((p, i) -> tuple(p, if(i = 1, if(p = created_period, 'new', 'resurrecting'),
            if(__previous(p) = arrayElement(periods, i - 1), 'returning', 'resurrecting'))),
            periods, arrayEnumerate(periods)),
        arrayMap(p -> tuple(__next(p), 'dormant'),
            arrayFilter((p, i) -> i = length(periods) OR __next(p) != arrayElement(periods, i + 1),
                periods, arrayEnumerate(periods)))
    ) AS pairs
    FROM (
        SELECT person_id AS actor_id, arraySort(groupUniqArray(__period__)) AS periods,
            min(__created__) AS created_period
        FROM events
        WHERE __where__
        GROUP BY actor_id
    )
)
ARRAY JOIN pairs AS pair
"""


class LifecycleFilterSerializer(StrictSerializer):
    toggledLifecycles = serializers.ListField(  # noqa: N815
        child=serializers.ChoiceField(choices=STATUSES),
        required=False,
        allow_null=True,
        help_text="Statuses the chart shows (display only; all four are always computed).",
    )
    showValuesOnSeries = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    showLegend = serializers.BooleanField(required=False, allow_null=True, help_text="Display only.")  # noqa: N815
    stacked = serializers.BooleanField(required=False, allow_null=True, help_text="Display only (default true).")


class LifecycleQuerySerializer(InsightQuerySerializer):
    kind = serializers.ChoiceField(choices=["LifecycleQuery"], help_text='Query kind: "LifecycleQuery".')
    series = SeriesField(help_text="Exactly one EventsNode or ActionsNode.")
    interval = serializers.CharField(
        required=False, allow_null=True, help_text="minute, hour, day (default), week or month."
    )
    dateRange = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"date_from", "date_to", "explicitDate"}; default the last 7 days.'
    )
    samplingFactor = serializers.FloatField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted; events are not sampled."
    )
    aggregation_group_type_index = serializers.IntegerField(
        required=False, allow_null=True, help_text="Must be null: lifecycle by groups is not supported yet."
    )
    lifecycleFilter = LifecycleFilterSerializer(  # noqa: N815
        required=False, allow_null=True, help_text="Display settings (accepted, not used)."
    )

    def validate_series(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(value) != 1:
            raise serializers.ValidationError(f"Lifecycle takes exactly one series, not {len(value)}")
        return value

    def validate_aggregation_group_type_index(self, value: int | None) -> int | None:
        if value is not None:
            raise serializers.ValidationError("Lifecycle by groups is not supported yet; leave it null")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:  # every date error is a 400 naming the field, before anything runs
            QueryDateRange(attrs.get("dateRange"), interval=attrs.get("interval"), earliest_event=lambda: None)
        except DateRangeError as error:
            raise serializers.ValidationError({error.attr or "dateRange": [error.message]}) from None
        return attrs


class LifecycleQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text="Four items, in order new, returning, resurrecting, dormant: data (floats, one per bucket; dormant "
        "≤ 0), count (sum of data), labels, days, label (`<event> - <status>`), status, action {id, name, type, "
        "order, math, …}.",
    )
    hogql = serializers.CharField(help_text="The HogQL that computed the counts.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    resolved_date_range = serializers.DictField(help_text='{"date_from", "date_to"} (ISO, team timezone).')
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


# ---------------------------------------------------------------------------------------------------
# building and running the HogQL


def _date_range(team: Team, query: dict[str, Any], now: dt.datetime, limit_context: str) -> QueryDateRange:
    return QueryDateRange.for_team(
        team,
        query.get("dateRange"),
        interval=query.get("interval"),
        now=now,
        earliest_event=lambda: earliest_event(team, limit_context),
    )


def _read_from(date_range: QueryDateRange) -> dt.datetime:
    """The start of the interval before the first bucket (one interval of lookback, in team-local terms)."""
    just_before = (date_range.first_bucket_start.astimezone(dt.UTC) - dt.timedelta(microseconds=1)).astimezone(
        date_range.zone
    )
    return date_range.interval_start(just_before.replace(tzinfo=None))


def _shift(date_range: QueryDateRange, period: exp.Expression, forward: bool) -> exp.Expression:
    """The interval after (before) a period. An array of DateTimes loses the team timezone, which a day step
    needs (a DST day is 23 or 25 hours): put it back first. Week and month periods are Dates."""
    if date_range.interval not in {"week", "month"}:
        period = call("toTimeZone", period, exp.Literal.string(date_range.timezone))
    step = date_range.interval_expr()
    return exp.Add(this=period, expression=step) if forward else exp.Sub(this=period, expression=step)


def _pairs_select(team: Team, query: dict[str, Any], date_range: QueryDateRange, now: dt.datetime) -> exp.Select:
    """SELECT actor_id, period, status: one row per person and (active or dormant) period, lookback included."""
    conditions = series_where(
        query["series"][0],
        query,
        property_types=property_types_for_team(team=team),
        timezone=team.timezone or "UTC",
        now=now,
        test_account_filters=team.test_account_filters,
    )
    conditions.append(exp.GTE(this=exp.column("timestamp"), expression=moment_expr(_read_from(date_range))))
    conditions.append(exp.LTE(this=exp.column("timestamp"), expression=moment_expr(date_range.date_to)))
    replacements = {
        "__where__": lambda: exp.and_(*[c.copy() for c in conditions], copy=False),
        "__period__": date_range.bucket_expr,
        "__created__": lambda: date_range.bucket_expr(exp.column("created_at", table="person")),
    }
    select = parse_select(_PAIRS)
    for column in list(select.find_all(exp.Column)):
        make = replacements.get(column.name) if not column.table else None
        if make is not None:
            column.replace(make())
    for node in list(select.find_all(exp.Anonymous)):
        if node.name in {"__next", "__previous"}:
            node.replace(_shift(date_range, node.expressions[0], node.name == "__next"))
    return select


def _execute(team: Team, select: exp.Select, limit_context: str) -> Any:
    result = hogql_execute(team=team, query=to_hogql(select), limit_context=limit_context, limit=MAX_ROWS)
    if result.hasMore:  # never answer with numbers from a cut result
        raise HogQLQueryError(f"The lifecycle has more than {MAX_ROWS} points: narrow the date range")
    return result


def _label(bucket_start: dt.datetime, interval: str) -> str:
    label = f"{bucket_start.day}-{_MONTHS[bucket_start.month - 1]}-{bucket_start.year}"
    return f"{label} {bucket_start:%H:%M}" if interval in {"hour", "minute"} else label


def _item(series: dict[str, Any], status: str, data: list[float], date_range: QueryDateRange) -> dict[str, Any]:
    name = series_name(series)
    entity = series_entity(series)
    if entity["type"] == "actions":
        entity["id"] = str(entity["id"])  # lifecycle echoes the action id as text
    return {
        "action": {
            **entity,
            "name": name,
            "custom_name": series.get("custom_name"),
            "order": 0,
            "math": "total",
            "properties": series.get("properties") or {},
        },
        "data": data,
        "count": float(sum(data)),
        "labels": [_label(b.start, date_range.interval) for b in date_range.buckets],
        "days": date_range.days,
        "label": f"{name} - {status}",
        "status": status,
    }


def run_lifecycle_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    now = clock.now()
    date_range = _date_range(team, query, now, limit_context)
    pairs = _pairs_select(team, query, date_range, now)
    counts = exp.select(exp.column("period"), exp.column("status"), exp.alias_(call("count"), "total"))
    counts = counts.from_(pairs.subquery()).group_by(exp.column("period"), exp.column("status"))
    result = _execute(team, counts, limit_context)
    data = {status: [0.0] * len(date_range.buckets) for status in STATUSES}
    for period, status, total in result.results:
        index = date_range.bucket_index(period)
        if index is not None:  # the lookback interval and the dormant interval after the last bucket
            data[status][index] = float(-total if status == "dormant" else total)
    series = query["series"][0]
    return {
        "results": [_item(series, status, data[status], date_range) for status in STATUSES],
        "hogql": result.hogql,
        "timings": [{"k": ".", "t": sum(t.get("t", 0) for t in result.timings if t.get("k") == ".")}],
        "resolved_date_range": date_range.resolved_date_range(),
    }


# ---------------------------------------------------------------------------------------------------
# the actors behind one data point


def _period_constant(date_range: QueryDateRange, day: Any) -> exp.Expression:
    """The bucket `day` (`2020-01-12`, `2020-01-12 10:00:00`, ISO) names, typed as the period column: a Date for
    week/month, else the bucket start moment. Not a bucket of the grid → 400."""
    try:
        index = date_range.bucket_index(str(day)) if day is not None else None
    except ValueError:
        index = None
    if index is None:
        raise HogQLQueryError(f"day '{day}' is not a bucket of this lifecycle (days {', '.join(date_range.days)})")
    start = date_range.buckets[index].start
    if date_range.interval in {"week", "month"}:
        return call("toDate", exp.Literal.string(start.strftime("%Y-%m-%d")))
    return moment_expr(start)


def lifecycle_actors(team: Team, query: dict[str, Any], params: dict[str, Any], limit_context: str) -> exp.Select:
    """SELECT actor_id: the persons counted as `status` in the bucket `day`."""
    status = params.get("status")
    if status not in STATUSES:
        raise HogQLQueryError(f"status must be one of {', '.join(STATUSES)}, not '{status}'")
    now = clock.now()
    date_range = _date_range(team, query, now, limit_context)
    period = _period_constant(date_range, params.get("day"))
    pairs = _pairs_select(team, query, date_range, now)
    where = exp.and_(
        exp.EQ(this=exp.column("period"), expression=period),
        exp.EQ(this=exp.column("status"), expression=exp.Literal.string(status)),
    )
    return exp.select(exp.column("actor_id")).from_(pairs.subquery()).where(where)


LIFECYCLE_QUERY = QueryKind(
    name="LifecycleQuery",
    request=LifecycleQuerySerializer,
    response=LifecycleQueryResponseSerializer,
    run=run_lifecycle_query,
    apply_overrides=trends_overrides,
    actors=lifecycle_actors,
)
