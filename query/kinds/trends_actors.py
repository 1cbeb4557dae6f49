"""The people behind one TrendsQuery data point (the `actors` hook `InsightActorsQuery` runs for a Trends source)
and the data points a client may ask about (the `actors_options` hook of `InsightActorsQueryOptions`).

Parameters of the drill-down:
- `series`: the series index (default 0).
- `day`: the bucket (`2024-01-07`, `2024-01-07 10:00:00`, any moment inside it), a bucket of the grid or a 400.
  Absent, or a total-value display (`BoldNumber`, …): the whole range, as the total value counts it.
- `compare`: `current` (default) or `previous` (the previous period of `compareFilter`; its grid for `day`).
- `breakdown`: the value (a one-item list too); the null marker matches NULL and `""`, the other marker filters
  nothing (every actor of the series returns). A cohort breakdown's value is a cohort id (its persons) or `"all"`.

Who counts, per math: every math lists the persons with at least one matching event in the bucket (for `dau`
and `total` alike); `weekly_active`/`monthly_active` read the trailing 7/30-day window that ends with the bucket,
as the trend counts them (by week or month: the window ending a day after the bucket start); cumulative displays
read from the first bucket through the asked one. The series' properties, the global properties,
`filterTestAccounts` and the team timezone apply as in the trend.

Extra columns: `event_count` (the actor's matching events in the data point), `event_distinct_ids` (their
distinct ids, sorted) and `matching_events` (up to 100 `[timestamp, uuid, session_id, window_id]`, by time).

The registered `TrendsQuery` kind (`TRENDS_QUERY`) carries both hooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.dates import DateRangeError, QueryDateRange, moment_expr
from query.hogql.ast import call, in_cohort
from query.hogql.errors import HogQLQueryError
from query.kinds.breakdown import ALL_USERS, parse_breakdown, resolve_cohorts
from query.kinds.series import ACTIVE_WINDOW_DAYS, earliest_event, series_math, series_name, series_where
from query.kinds.trends import BREAKDOWN_NULL, BREAKDOWN_OTHER, TOTAL_VALUE_DISPLAYS, run_trends_query
from query.kinds.trends import TRENDS_QUERY as TRENDS_WITHOUT_ACTORS
from query.selectors import property_types_for_team

MATCHING_EVENTS_LIMIT = 100
NULL_LABEL = "None (i.e. no value)"
OTHER_LABEL = "Other (i.e. all remaining values)"


def _date_range(team: Team, query: dict[str, Any], now: dt.datetime, limit_context: str) -> QueryDateRange:
    """The trend's range: total-value displays bucket by day, as the trend does."""
    total_value = _total_value(query)
    return QueryDateRange(
        query.get("dateRange"),
        interval="day" if total_value else query.get("interval"),
        timezone=team.timezone or "UTC",
        week_start_day=team.week_start_day,
        now=now,
        earliest_event=lambda: earliest_event(team, limit_context),
    )


def _total_value(query: dict[str, Any]) -> bool:
    return (query.get("trendsFilter") or {}).get("display") in TOTAL_VALUE_DISPLAYS


def _period(date_range: QueryDateRange, query: dict[str, Any], compare: str | None) -> QueryDateRange:
    if compare in (None, "current"):
        return date_range
    compare_filter = query.get("compareFilter") or {}
    if not compare_filter.get("compare"):
        raise HogQLQueryError("compare 'previous' needs a source with compareFilter.compare: true")
    return date_range.previous_period(compare_filter.get("compare_to"))


def _series(query: dict[str, Any], index: Any) -> dict[str, Any]:
    index = 0 if index is None else index
    count = len(query["series"])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise HogQLQueryError(f"series index {index} is out of range: the source has {count} series (0–{count - 1})")
    return query["series"][index]


def _bounds(query: dict[str, Any], date_range: QueryDateRange, math: str, day: Any) -> list[exp.Expression]:
    """The timestamp conditions of the data point (see the module docstring)."""
    timestamp = exp.column("timestamp")
    if _total_value(query) or day is None:
        return [date_range.range_condition(from_bucket_start=not _total_value(query))]
    try:
        index = date_range.bucket_index(str(day))
    except ValueError:
        index = None
    if index is None:
        days = ", ".join(date_range.days)
        raise DateRangeError(f"day '{day}' is not a bucket of this trend (days {days})", "day")
    bucket = date_range.buckets[index]
    lower, upper = bucket.start, bucket.end
    if math in ACTIVE_WINDOW_DAYS:
        # the trailing window ends with the bucket (minute/hour/day, as the trend shifts events), or a day after
        # the start of a week/month bucket (monthly_active by week), as PostHog's (d − 29 days, d + 1 day]
        if date_range.interval in {"week", "month"}:
            upper = bucket.start + dt.timedelta(days=1)
        lower = upper - dt.timedelta(days=ACTIVE_WINDOW_DAYS[math])
    elif (query.get("trendsFilter") or {}).get("display") == "ActionsLineGraphCumulative":
        lower = date_range.first_bucket_start
    return [
        exp.GTE(this=timestamp, expression=moment_expr(lower)),
        exp.LT(this=timestamp.copy(), expression=moment_expr(upper)),
        exp.LTE(this=timestamp.copy(), expression=moment_expr(date_range.date_to)),
    ]


def _breakdown_value_expr(breakdown: dict[str, Any]) -> exp.Expression:
    """The trend's breakdown value of an event: `toString(property)`, NULL and `""` as the null marker."""
    table = "person" if (breakdown.get("breakdown_type") or "event") == "person" else None
    value = exp.Bracket(
        this=exp.column("properties", table=table), expressions=[exp.Literal.string(breakdown["breakdown"])]
    )
    text = call("nullIf", call("toString", value), exp.Literal.string(""))
    return call("ifNull", text, exp.Literal.string(BREAKDOWN_NULL))


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _breakdown_condition(query: dict[str, Any], value: Any) -> exp.Expression | None:
    breakdown = query.get("breakdownFilter") or {}
    if breakdown.get("breakdown") in (None, ""):
        if value is None:
            return None
        raise HogQLQueryError("breakdown was given but the source has no breakdownFilter")
    if isinstance(value, list):
        if len(value) != 1:
            raise HogQLQueryError("breakdown must hold one value: the source has a single breakdown")
        value = value[0]
    if breakdown.get("breakdown_type") == "cohort":
        return _cohort_condition(value)
    if value is None or _value_text(value) == BREAKDOWN_OTHER:
        return None  # the other bucket: every actor of the series
    return exp.EQ(this=_breakdown_value_expr(breakdown), expression=exp.Literal.string(_value_text(value)))


def _cohort_condition(value: Any) -> exp.Expression | None:
    """A cohort breakdown's value: its persons; `"all"` (PostHog's cohort 0) or none: every actor."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if value is None or value == ALL_USERS or (type(value) is int and value == 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise HogQLQueryError('breakdown must be a cohort ID or "all": the source breaks down by cohort')
    return in_cohort(exp.column("person_id"), value)


def _columns() -> list[exp.Expression]:
    event = call(
        "tuple",
        exp.column("timestamp"),
        call("toString", exp.column("uuid")),
        exp.column("$session_id"),
        exp.column("$window_id"),
    )
    # groupUniqArray(100)(event): at most 100 per actor (sqlglot keeps the (100) under `expressions`)
    limited = exp.ParameterizedAgg(
        this="groupUniqArray", expressions=[exp.Literal.number(MATCHING_EVENTS_LIMIT)], params=[event]
    )
    return [
        exp.alias_(exp.column("person_id"), "actor_id"),
        exp.alias_(exp.Anonymous(this="count", expressions=[]), "event_count"),
        exp.alias_(call("arraySort", call("groupUniqArray", exp.column("distinct_id"))), "event_distinct_ids"),
        exp.alias_(call("arraySort", limited), "matching_events"),
    ]


def trends_actors(team: Team, query: dict[str, Any], params: dict[str, Any], limit_context: str) -> exp.Select:
    """SELECT actor_id, event_count, event_distinct_ids, matching_events: the persons behind one data point."""
    now = clock.now()
    series = _series(query, params.get("series"))
    date_range = _period(_date_range(team, query, now, limit_context), query, params.get("compare"))
    math = series_math(series, date_range.interval)
    conditions = series_where(
        series,
        query,
        property_types=property_types_for_team(team=team),
        timezone=team.timezone or "UTC",
        now=now,
        test_account_filters=team.test_account_filters,
    )
    conditions.extend(_bounds(query, date_range, math, params.get("day")))
    breakdown = _breakdown_condition(query, params.get("breakdown"))
    if breakdown is not None:
        conditions.append(breakdown)
    select = exp.select(*_columns()).from_("events").where(exp.and_(*conditions, copy=False), copy=False)
    return select.group_by(exp.column("actor_id"), copy=False)


# ---------------------------------------------------------------------------------------------------
# InsightActorsQueryOptions


def _option(label: Any, value: Any) -> dict[str, Any]:
    return {"label": label, "value": value}


def _breakdown_label(value: Any) -> Any:
    return {BREAKDOWN_NULL: NULL_LABEL, BREAKDOWN_OTHER: OTHER_LABEL}.get(value, value)


def trends_actors_options(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    """The trend's buckets (`day`), series, breakdown values (as the trend ranks them) and periods: runs it."""
    items = run_trends_query(team, query, limit_context)["results"]
    current = [item for item in items if item.get("compare_label") in (None, "current")]
    day = None
    if not _total_value(query) and current:
        day = [_option(label, value) for label, value in zip(current[0]["labels"], current[0]["days"], strict=True)]
    breakdown = None
    if (query.get("breakdownFilter") or {}).get("breakdown") not in (None, ""):
        values = list(dict.fromkeys(item.get("breakdown_value") for item in items))
        cohorts = resolve_cohorts(parse_breakdown(query.get("breakdownFilter")), team.pk)
        label = cohorts.label if cohorts is not None and cohorts.cohorts else _breakdown_label
        breakdown = [_option(label(value), value) for value in values]
    compare = None
    if (query.get("compareFilter") or {}).get("compare"):
        compare = [_option("Current", "current"), _option("Previous", "previous")]
    return {
        "day": day,
        "status": None,
        "interval": None,
        "series": [
            _option(node.get("custom_name") or series_name(node), index) for index, node in enumerate(query["series"])
        ],
        "breakdown": breakdown,
        "breakdowns": None,
        "compare": compare,
    }


TRENDS_QUERY = dataclasses.replace(TRENDS_WITHOUT_ACTORS, actors=trends_actors, actors_options=trends_actors_options)
