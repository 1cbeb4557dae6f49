"""Behavioral cohort filters → a HogQL SELECT of the person ids (`person_id`) that satisfy one filter, over the
`events` table grouped by person.

Windows (newer PostHog, whose cohort queries are insight queries: `-<N><unit>` date ranges in the project
timezone): a bound "N units ago" is the start of the day, in the team's timezone, of now minus N units (months
and years on the calendar); a window runs from such a bound to the end of today. `explicit_datetime` (and
`explicit_datetime_to`) give the window instead, as an insight `dateRange` does (absolute dates whole days).
Writing B(N) for "N `time_interval`s ago" and B'(N) for "N `seq_time_interval`s ago", with E the end of today,
a person is a member when:

- `performed_event`: at least one matching event in [B(time_value), E];
- `performed_event_multiple`: the count there compares true with `operator_value` (`gte`, `lte`, `gt`, `lt`,
  `eq`/`exact`/none = equal); a person without any matching event there is never a member;
- `performed_event_first_time`: the person's first matching event ever (by the event or action alone) also
  matches `event_filters` and lies in [B(time_value), E];
- `performed_event_regularly`: of the `total_periods` periods [B((k+1)·time_value), B(k·time_value)), k = 0, 1, …
  (B(0) is the start of today, so the periods are whole and today does not count, as PostHog's range ending
  yesterday), at least `min_periods` have a count comparing true with `operator_value`;
- `stopped_performing_event`: did it in [B(time_value), B'(seq_time_value)) and not in [B'(seq_time_value), E];
- `restarted_performing_event`: did it before B(time_value), not in [B(time_value), B'(seq_time_value)), and
  again in [B'(seq_time_value), E];
- `performed_event_sequence`: did `key` in [B(time_value), E] and then `seq_event` strictly later, at most
  `seq_time_value` `seq_time_interval`s later (a month is 30 days, a year 365, as PostHog's funnel window),
  and by E.

`event_filters` narrow the `key` events of every kind (not the `seq_event` ones). `event_type: "actions"`
matches the events of the project's action with that id (`query.references.find_action`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from cohorts.filters.grammar import INTERVAL_SECONDS, invalid
from query.actions_expr import action_to_expr
from query.dates import DateRangeError, QueryDateRange, moment_expr
from query.hogql.ast import call, const
from query.hogql.errors import HogQLQueryError
from query.properties import PropertyFilterError, property_filters_to_expr
from query.references import find_action

_UNIT = {"day": "d", "week": "w", "month": "m", "year": "y"}
_COMPARE: dict[Any, type[exp.Binary]] = {
    "gte": exp.GTE,
    "lte": exp.LTE,
    "gt": exp.GT,
    "lt": exp.LT,
    "eq": exp.EQ,
    "exact": exp.EQ,
    None: exp.EQ,
}


@dataclass
class Context:
    """What compiling needs: the team (timezone, week start), the moment windows count back from, the
    project's property types, and the actions looked up so far."""

    team: Any
    now: dt.datetime
    property_types: dict[tuple[int, str], str]
    actions: dict[int, exp.Expression] = field(default_factory=dict)

    @property
    def timezone(self) -> str:
        return self.team.timezone or "UTC"

    def range(self, date_from: str, date_to: str | None = None) -> QueryDateRange:
        try:
            return QueryDateRange.for_team(
                self.team, {"date_from": date_from, "date_to": date_to}, interval="day", now=self.now
            )
        except DateRangeError as error:
            raise invalid(error.message) from None

    def ago(self, value: int, interval: str) -> dt.datetime:
        """B(N): the start of the team-local day of now minus `value` `interval`s."""
        return self.range(f"-{value}{_UNIT[interval]}").date_from

    @property
    def end(self) -> dt.datetime:
        """E: the end of today in the team's timezone."""
        return self.range("-0d").date_to

    def entity(self, key: Any, event_type: str) -> exp.Expression:
        """`event = key`, or the condition of the action with id `key`."""
        if event_type == "events":
            return exp.EQ(this=exp.column("event"), expression=exp.Literal.string(str(key)))
        action_id = int(key)
        if action_id not in self.actions:
            self.actions[action_id] = self._action(action_id)
        return self.actions[action_id].copy()

    def _action(self, action_id: int) -> exp.Expression:
        try:
            action = find_action(self.team.pk, action_id)
            return action_to_expr(
                action["steps"], property_types=self.property_types, timezone=self.timezone, now=self.now
            )
        except PropertyFilterError as error:
            raise invalid(f"Action {action_id} cannot be matched: {error.message}") from None
        except HogQLQueryError:
            raise invalid(f"Action {action_id} does not exist") from None

    def event_filters(self, node: dict[str, Any]) -> exp.Expression | None:
        filters = node.get("event_filters")
        if not filters:
            return None
        try:
            return property_filters_to_expr(
                filters, scope="event", property_types=self.property_types, timezone=self.timezone, now=self.now
            )
        except PropertyFilterError as error:
            raise invalid(f"event_filters: {error.message}") from None


def behavioral_select(node: dict[str, Any], ctx: Context) -> exp.Select:
    """SELECT person_id FROM events … for one (grammar-checked) behavioral filter."""
    return _KINDS[node["value"]](node, ctx)


# ---------------------------------------------------------------------------------------------------
# helpers


def _ts() -> exp.Expression:
    return exp.column("timestamp")


def _since(moment: dt.datetime) -> exp.Expression:
    return exp.GTE(this=_ts(), expression=moment_expr(moment))


def _before(moment: dt.datetime) -> exp.Expression:
    return exp.LT(this=_ts(), expression=moment_expr(moment))


def _until(moment: dt.datetime) -> exp.Expression:
    return exp.LTE(this=_ts(), expression=moment_expr(moment))


def _and(*parts: exp.Expression | None) -> exp.Expression:
    present = [p for p in parts if p is not None]
    return present[0] if len(present) == 1 else exp.and_(*present, copy=False)


def _window(node: dict[str, Any], ctx: Context) -> tuple[dt.datetime, dt.datetime]:
    """[start, end] of a kind that takes `time_value` + `time_interval` or `explicit_datetime`."""
    if node.get("explicit_datetime") is not None:
        date_range = ctx.range(node["explicit_datetime"], node.get("explicit_datetime_to"))
        return date_range.date_from, date_range.date_to
    return ctx.ago(node["time_value"], node["time_interval"]), ctx.end


def _matching(node: dict[str, Any], ctx: Context) -> exp.Expression:
    """The filter's `key` events, narrowed by its event_filters."""
    return _and(ctx.entity(node["key"], node["event_type"]), ctx.event_filters(node))


def _per_person(where: exp.Expression, having: exp.Expression | None = None) -> exp.Select:
    select = exp.select("person_id").from_("events").where(where, copy=False).group_by("person_id", copy=False)
    return select.having(having, copy=False) if having is not None else select


def _count(condition: exp.Expression | None = None) -> exp.Expression:
    return call("countIf", condition) if condition is not None else call("count")


def _compare(node: dict[str, Any], count: exp.Expression) -> exp.Expression:
    return _COMPARE[node.get("operator")](this=count, expression=const(node["operator_value"]))


# ---------------------------------------------------------------------------------------------------
# the kinds


def _performed(node: dict[str, Any], ctx: Context) -> exp.Select:
    start, end = _window(node, ctx)
    return _per_person(_and(_matching(node, ctx), _since(start), _until(end)))


def _multiple(node: dict[str, Any], ctx: Context) -> exp.Select:
    start, end = _window(node, ctx)
    return _per_person(_and(_matching(node, ctx), _since(start), _until(end)), _compare(node, _count()))


def _first_time(node: dict[str, Any], ctx: Context) -> exp.Select:
    start, end = _window(node, ctx)
    first = exp.GTE(this=call("min", _ts()), expression=moment_expr(start))
    filters = ctx.event_filters(node)
    if filters is not None:  # the first event of the entity must itself match the filters
        first = _and(first, call("argMin", call("ifNull", filters, const(0)), _ts()))
    return _per_person(_and(ctx.entity(node["key"], node["event_type"]), _until(end)), first)


def _regularly(node: dict[str, Any], ctx: Context) -> exp.Select:
    value, interval = node["time_value"], node["time_interval"]
    bounds = [ctx.ago(value * k, interval) for k in range(node["total_periods"] + 1)]  # today 00:00 first
    satisfied: exp.Expression | None = None
    for k in range(node["total_periods"]):
        period = _and(_since(bounds[k + 1]), _before(bounds[k]))
        hit = call("if", _compare(node, _count(period)), const(1), const(0))
        satisfied = hit if satisfied is None else exp.Add(this=satisfied, expression=hit)
    assert satisfied is not None  # total_periods >= 1 (grammar)
    where = _and(_matching(node, ctx), _since(bounds[-1]), _before(bounds[0]))
    return _per_person(where, exp.GTE(this=satisfied, expression=const(node["min_periods"])))


def _stopped(node: dict[str, Any], ctx: Context) -> exp.Select:
    far = ctx.ago(node["time_value"], node["time_interval"])
    recent = ctx.ago(node["seq_time_value"], node["seq_time_interval"])
    since_recent = exp.EQ(this=_count(_since(recent)), expression=const(0))
    return _per_person(_and(_matching(node, ctx), _since(far), _until(ctx.end)), since_recent)


def _restarted(node: dict[str, Any], ctx: Context) -> exp.Select:
    far = ctx.ago(node["time_value"], node["time_interval"])
    recent = ctx.ago(node["seq_time_value"], node["seq_time_interval"])
    having = _and(
        exp.GT(this=_count(_before(far)), expression=const(0)),
        exp.EQ(this=_count(_and(_since(far), _before(recent))), expression=const(0)),
        exp.GT(this=_count(_since(recent)), expression=const(0)),
    )
    return _per_person(_and(_matching(node, ctx), _until(ctx.end)), having)


def _sequence(node: dict[str, Any], ctx: Context) -> exp.Select:
    start, end = _window(node, ctx)
    first = _and(_matching(node, ctx), _since(start))
    then = ctx.entity(node["seq_event"], node["seq_event_type"])
    span = node["seq_time_value"] * INTERVAL_SECONDS[node["seq_time_interval"]]
    inner = exp.select(
        "person_id",
        exp.alias_(call("groupArrayIf", _ts(), first), "firsts"),
        exp.alias_(call("groupArrayIf", _ts(), then), "thens"),
    )
    inner = inner.from_("events").where(_and(exp.or_(first.copy(), then.copy()), _since(start), _until(end)))
    x, y = exp.column("x"), exp.column("y")
    deadline = exp.Add(this=x.copy(), expression=call("toIntervalSecond", const(span)))
    within = _and(exp.GT(this=y, expression=x), exp.LTE(this=y.copy(), expression=deadline))
    later = call("arrayExists", exp.Lambda(this=within, expressions=[exp.to_identifier("y")]), exp.column("thens"))
    followed = call("arrayExists", exp.Lambda(this=later, expressions=[exp.to_identifier("x")]), exp.column("firsts"))
    return exp.select("person_id").from_(inner.group_by("person_id").subquery()).where(followed)


_KINDS: dict[str, Callable[[dict[str, Any], Context], exp.Select]] = {
    "performed_event": _performed,
    "performed_event_multiple": _multiple,
    "performed_event_first_time": _first_time,
    "performed_event_regularly": _regularly,
    "stopped_performing_event": _stopped,
    "restarted_performing_event": _restarted,
    "performed_event_sequence": _sequence,
}
