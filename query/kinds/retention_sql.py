"""The HogQL of `RetentionQuery` (reference §4.2): the periods of a retention table and, per actor and cohort,
the offsets of the periods the actor came back in. The runner (`query.kinds.retention`) counts them; the
actors hook (`query.kinds.retention_actors`) lists the actors of one cohort row with them.

Periods: the upper bound D (exclusive) is the start of the period after the one holding `date_to` (resolved
as §1.5: end of day for Day/Week/Month); the first cohort starts at the period holding `date_from` if one is
given, else `totalIntervals` periods before D. Periods are team-local (team timezone, team week start).

One scan of `events` (target or returning events; target events of all time for first-time retention), three
nested SELECTs:
1. per actor and period: target events, returning events, the first target event's moment and breakdown value;
2. per actor: the entries (period index, breakdown value) — every period with a target event (recurring), or the
   period of the first-ever target event if inside the range (first-time) — and the periods with at least
   `minimumOccurrences` returning events;
3. per actor and cohort (ARRAY JOIN): `appearances` = 0 and the offsets (unsorted; the actors hook sorts) of
   the return periods after the cohort, fewer than `totalIntervals` on; `counted` = the offsets the actor
   counts in (cumulative: 0 … the furthest).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.dates import QueryDateRange, moment_expr, shift
from query.hogql.ast import call, const
from query.hogql.parser import parse_select
from query.kinds.breakdown import BREAKDOWN_NULL, Breakdown
from query.kinds.series import earliest_event, event_condition, series_filters
from query.selectors import property_types_for_team

PERIODS = {"Hour": "hour", "Day": "day", "Week": "week", "Month": "month"}
DEFAULT_PERIOD = "Day"
DEFAULT_TOTAL_INTERVALS = 8  # the newer schema's default (older schema 11, older runner 7): reference §4.1/§13
RECURRING, FIRST_TIME = "retention_recurring", "retention_first_time"
_STEP_BACK = {"hour": (1, "h"), "day": (1, "d"), "week": (7, "d"), "month": (1, "m")}

# Placeholders: __actor__, __period__ (the period start of `timestamp`), __aggregates__ (`_aggregates`),
# __where__, __index(p) (the period's index in the table, -1 outside it), __entries__ (the per-actor cohort
# array), __min__, __total__, __counted__ (the offsets counted, from `appearances`).
_PER_PERIOD = """
SELECT __actor__ AS actor_id, __period__ AS period, __aggregates__
FROM events
WHERE __where__
GROUP BY actor_id, period
"""
_PER_ACTOR = """
SELECT actor_id, __entries__ AS entries,
    groupArrayIf(__index(period), return_events >= __min__) AS returns
FROM per_period
GROUP BY actor_id
"""
# (index, breakdown value) per cohort; those outside the table (index -1) are dropped after the ARRAY JOIN
_RECURRING_COHORTS = "groupArrayIf(tuple(__index(period), breakdown), target_events > 0)"
_FIRST_TIME_COHORTS = "[argMinIf(tuple(__index(period), breakdown), first_target, target_events > 0)]"
_PER_COHORT = """
SELECT actor_id, row_index, breakdown_value, appearances, __counted__ AS counted
FROM (
    SELECT actor_id, row_index, breakdown_value, arrayConcat([0], arrayMap(r -> r - row_index,
        arrayFilter(r -> r > row_index AND r < row_index + __total__, returns))) AS appearances
    FROM (
        SELECT actor_id, tupleElement(entry, 1) AS row_index, tupleElement(entry, 2) AS breakdown_value, returns
        FROM per_actor
        ARRAY JOIN entries AS entry
        WHERE tupleElement(entry, 1) >= 0
    )
)
"""


@dataclass
class Periods:
    """The periods of a retention table: `starts` (aware, team tz), `end` = D (exclusive), `total` columns."""

    interval: str
    date_range: QueryDateRange
    starts: list[dt.datetime]
    end: dt.datetime
    total: int
    labels: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return self.interval.capitalize()


def periods_for(team: Team, query: dict[str, Any], limit_context: str, now: dt.datetime | None = None) -> Periods:
    """The cohort periods of a validated RetentionQuery node (see the module docstring)."""
    retention = query.get("retentionFilter") or {}
    interval = PERIODS[retention.get("period") or DEFAULT_PERIOD]
    total = retention.get("totalIntervals") or DEFAULT_TOTAL_INTERVALS
    date_range = QueryDateRange.for_team(
        team,
        query.get("dateRange"),
        interval=interval,
        now=now,
        earliest_event=lambda: earliest_event(team, limit_context),
    )
    last = date_range.interval_start(date_range.date_to.replace(tzinfo=None))
    end = date_range._next(last)  # noqa: SLF001 (the period after: calendar-aware stepping, DST included)
    if (query.get("dateRange") or {}).get("date_from") is not None:
        first = date_range.first_bucket_start
    else:
        amount, unit = _STEP_BACK[interval]
        local_end = end.replace(tzinfo=None)
        if interval == "hour":  # real hours back, as the grid steps
            first = (end.astimezone(dt.UTC) - dt.timedelta(hours=total)).astimezone(date_range.zone)
        else:
            first = date_range.interval_start(shift(local_end, amount * total, unit))
    starts: list[dt.datetime] = []
    start = first
    while start.astimezone(dt.UTC) < end.astimezone(dt.UTC):
        starts.append(start)
        start = date_range._next(start)  # noqa: SLF001
    return Periods(interval, date_range, starts, end, total)


class RetentionSql:
    """Builds the per-cohort SELECT of one validated RetentionQuery node for one team."""

    def __init__(self, team: Team, query: dict[str, Any], periods: Periods, breakdown: Breakdown | None):
        self.team, self.query, self.periods, self.breakdown = team, query, periods, breakdown
        retention = query.get("retentionFilter") or {}
        self.first_time = retention.get("retentionType") == FIRST_TIME
        self.cumulative = bool(retention.get("cumulative"))
        self.minimum = max(int(retention.get("minimumOccurrences") or 1), 1)
        self.target = retention.get("targetEntity") or {"kind": "EventsNode", "event": "$pageview"}
        self.returning = retention.get("returningEntity") or {"kind": "EventsNode", "event": "$pageview"}
        self.timezone = team.timezone or "UTC"
        self.now = clock.now()
        self.property_types = property_types_for_team(team=team)
        group = query.get("aggregation_group_type_index")
        self.actor: exp.Expression = (
            exp.column(f"$group_{int(group)}") if group is not None else exp.column("person_id")
        )
        self.grouped = group is not None

    # -- pieces

    def _entity(self, entity: dict[str, Any]) -> exp.Expression:
        context = {"property_types": self.property_types, "timezone": self.timezone, "now": self.now}
        conditions = [c for c in [event_condition(entity, **context)] if c is not None]
        conditions += series_filters(entity, {}, **context)  # the entity's own properties
        return exp.and_(*conditions, copy=False) if conditions else exp.true()

    def _global(self) -> list[exp.Expression]:
        """The query's properties and test-account filters: they apply to target and returning events."""
        return series_filters(
            {},
            self.query,
            property_types=self.property_types,
            timezone=self.timezone,
            now=self.now,
            test_account_filters=self.team.test_account_filters,
        )

    def _starts(self) -> exp.Expression:
        """The period starts, typed as the period column: Dates for week/month, DateTimes in the team timezone
        otherwise. Never Nullable (a `toDate('…')` literal would be `toDateOrNull`): indexOf over Nullable
        constants costs a third of the query."""
        zone = exp.Literal.string(self.timezone)
        convert = "toDate" if self.periods.interval in {"week", "month"} else "toDateTime"
        return exp.Array(expressions=[call(convert, moment_expr(s), zone.copy()) for s in self.periods.starts])

    def _index(self, period: exp.Expression) -> exp.Expression:
        return exp.Sub(this=call("indexOf", self._starts(), period), expression=const(1))

    def _breakdown_expr(self) -> exp.Expression:
        """The breakdown value, "" for none (retention's rule, not Trends' null marker)."""
        if self.breakdown is None:
            return exp.Literal.string("")
        value = self.breakdown.exprs()[0]
        marker = exp.Literal.string(BREAKDOWN_NULL)
        return exp.If(this=exp.EQ(this=value, expression=marker), true=exp.Literal.string(""), false=value.copy())

    def _where(self, target: exp.Expression, returning: exp.Expression, same: bool) -> exp.Expression:
        """Range conditions first (they prune parts); target events of all time (up to D) for first-time."""
        ts = exp.column("timestamp")
        from_start = exp.GTE(this=ts.copy(), expression=moment_expr(self.periods.starts[0]))
        conditions: list[exp.Expression] = [exp.LT(this=ts.copy(), expression=moment_expr(self.periods.end))]
        if same:
            conditions += [target.copy()] if self.first_time else [from_start, target.copy()]
        elif self.first_time:
            either = exp.or_(target.copy(), exp.and_(returning.copy(), from_start), copy=False)
            conditions.append(exp.Paren(this=either))
        else:
            conditions += [from_start, exp.Paren(this=exp.or_(target.copy(), returning.copy(), copy=False))]
        conditions += self._global()
        if self.grouped:
            conditions.append(exp.NEQ(this=self.actor.copy(), expression=exp.Literal.string("")))
        return exp.and_(*conditions, copy=False)

    def _aggregates(self, target: exp.Expression, returning: exp.Expression, same: bool) -> list[exp.Expression]:
        """Per actor and period: target and returning events (one count when they are the same events), the
        first target event's moment (first-time only) and its breakdown value."""
        ts = exp.column("timestamp")
        if same:
            counts = [exp.alias_(call("count"), "target_events"), exp.alias_(call("count"), "return_events")]
        else:
            counts = [
                exp.alias_(call("countIf", target.copy()), "target_events"),
                exp.alias_(call("countIf", returning.copy()), "return_events"),
            ]
        first = [exp.alias_(call("minIf", ts.copy(), target.copy()), "first_target")] if self.first_time else []
        if self.breakdown is None:
            breakdown: exp.Expression = exp.Literal.string("")
        else:
            breakdown = call("argMinIf", self._breakdown_expr(), ts.copy(), target.copy())
        return [*counts, *first, exp.alias_(breakdown, "breakdown")]

    def _counted(self) -> exp.Expression:
        appearances = exp.column("appearances")
        if not self.cumulative:
            return appearances
        plus_one = exp.Add(this=call("arrayMax", appearances), expression=const(1))
        return call("range", plus_one)

    # -- the SELECT

    def per_cohort(self) -> exp.Select:
        """SELECT actor_id, row_index, breakdown_value, appearances, counted: one row per actor and cohort."""
        target, returning = self._entity(self.target), self._entity(self.returning)
        same = target == returning
        per_period = _fill(
            template(_PER_PERIOD),
            {
                "__actor__": self.actor,
                "__period__": self.periods.date_range.bucket_expr(),
                "__where__": self._where(target, returning, same),
            },
        )
        # the template's last column is the __aggregates__ placeholder
        per_period.set("expressions", [*per_period.expressions[:-1], *self._aggregates(target, returning, same)])
        entries = template(f"SELECT {_FIRST_TIME_COHORTS if self.first_time else _RECURRING_COHORTS}")
        per_actor = _fill(
            template(_PER_ACTOR),
            {"__entries__": entries.expressions[0], "__min__": const(self.minimum)},
            index=self._index,
        )
        put(per_actor, "per_period", per_period)
        per_cohort = _fill(
            template(_PER_COHORT), {"__total__": const(self.periods.total), "__counted__": self._counted()}
        )
        return put(per_cohort, "per_actor", per_actor)


@lru_cache(maxsize=16)
def _parsed(template: str) -> exp.Select:
    return parse_select(template)


def template(text: str) -> exp.Select:
    """A parsed template, parsed once (a copy each time: the caller fills it in)."""
    return _parsed(text).copy()


def put(select: exp.Select, name: str, inner: exp.Select) -> exp.Select:
    """The template's table `name` replaced by the subquery `inner` (aliased `name`)."""
    table = next(t for t in select.find_all(exp.Table) if t.name == name)
    table.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(name))))
    return select


def _fill(select: exp.Select, values: dict[str, exp.Expression], index: Any = None) -> exp.Select:
    """Replace the placeholder columns (and `__index(x)` calls) of a template by copies of the trees given."""
    for node in list(select.find_all(exp.Column)):
        if not node.table and node.name in values:
            node.replace(values[node.name].copy())
    if index is not None:
        for node in list(select.find_all(exp.Anonymous)):
            if node.name == "__index":
                node.replace(index(node.expressions[0]))
    return select
