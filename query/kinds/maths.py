"""The `math` of a series (reference §1.3): which maths exist and what each needs (`check_math`, a 400 naming
the field), and the HogQL SELECT computing one series' value per [bucket] x [breakdown value] (`series_select`).

Shapes of that SELECT (columns `bucket_start`?, the breakdown aliases, `total`):
- plain aggregate over `events` (`total`, `dau`, `unique_session`, `unique_group`, property maths, `hogql`);
- first bucket only (cumulative `dau`/`unique_group`): each actor in its first bucket, counted outside;
- per actor (`*_count_per_actor`): events per person and bucket inside, aggregated outside;
- per session (`math_property: "$session_duration"`): one duration per session and bucket, aggregated outside;
- first time (`first_time_for_user`, `first_matching_event_for_user`): per person, all time up to `date_to`, the
  first event of the series' event (or the first one matching its filters) must match the filters and fall in
  the range; counted in the bucket of that event, with that event's breakdown value.
With a `Ranking` (a breakdown's limit), each shape ranks its values and merges those past the limit into the
other marker itself (`query.kinds.ranking`), where `rankable`.
`samplingFactor` f reads `events SAMPLE f`; `scale_sampled` scales counts and `sum` by 1/f as PostHog does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from query.hogql.ast import call
from query.kinds.hogql_expr import ExpressionError, parse_expression
from query.kinds.ranking import ACTOR, Ranking, first_buckets, merge_states, per_group, state_form

ACTIVE_WINDOW_DAYS = {"weekly_active": 7, "monthly_active": 30}
"""Trailing window of `weekly_active`/`monthly_active`, in days, ending with the bucket."""
FIRST_TIME_MATHS = ("first_time_for_user", "first_matching_event_for_user")
COUNT_MATHS = ("total", "dau", "weekly_active", "monthly_active", "unique_session", "unique_group", *FIRST_TIME_MATHS)
PROPERTY_MATHS = ("sum", "avg", "min", "max", "median", "p75", "p90", "p95", "p99")
COUNT_PER_ACTOR_MATHS = tuple(
    f"{m}_count_per_actor" for m in ("avg", "min", "max", "median", "p75", "p90", "p95", "p99")
)
MATHS = (*COUNT_MATHS, *PROPERTY_MATHS, *COUNT_PER_ACTOR_MATHS, "hogql")
MATH_PROPERTY_TYPES = ("event_properties", "person_properties", "session_properties")
SESSION_DURATION = "$session_duration"
UNSCALED_MATHS = frozenset({*PROPERTY_MATHS, *COUNT_PER_ACTOR_MATHS} - {"sum"})
"""Maths whose values stay as computed on a sample (averages, extremes, quantiles); the others are × 1/f."""
_COARSE = {"weekly_active": {"week", "month"}, "monthly_active": {"month"}}
_QUANTILES = {"median": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99}


class MathError(ValueError):
    def __init__(self, attr: str, message: str):
        super().__init__(message)
        self.attr = attr


def check_math(node: Mapping[str, Any]) -> None:
    """Raise MathError(field, message) when an EventsNode's math fields do not make a math."""
    math = node.get("math") or "total"
    if math not in MATHS:
        raise MathError("math", f"Math '{math}' is not supported; use one of {', '.join(MATHS)}")
    kind = node.get("math_property_type")
    if kind is not None and kind not in MATH_PROPERTY_TYPES:
        raise MathError("math_property_type", f"math_property_type '{kind}' is not supported; use one of "
                        f"{', '.join(MATH_PROPERTY_TYPES)}")  # fmt: skip
    if math in PROPERTY_MATHS:
        if not node.get("math_property"):
            raise MathError("math_property", f"Math '{math}' needs a math_property")
        if kind == "session_properties" and node["math_property"] != SESSION_DURATION:
            raise MathError("math_property", f"The only session math_property is {SESSION_DURATION}")
    if math == "unique_group":
        index = node.get("math_group_type_index")
        if index is None or not 0 <= index <= 4:
            raise MathError("math_group_type_index", "Math 'unique_group' needs a math_group_type_index of 0 to 4")
    if math == "hogql":
        try:
            parse_expression(node.get("math_hogql"), aggregate=True)
        except ExpressionError as error:
            raise MathError("math_hogql", f"math_hogql {error}") from None


def series_math(series: Mapping[str, Any], interval: str) -> str:
    """The math a series runs with: `weekly_active` from a week interval on (and `monthly_active` from a month
    interval on) is plain `dau`, as PostHog."""
    math = series.get("math") or "total"
    return "dau" if interval in _COARSE.get(math, set()) else math


def _math_property(series: Mapping[str, Any]) -> exp.Expression:
    table = "person" if series.get("math_property_type") == "person_properties" else None
    return exp.Bracket(
        this=exp.column("properties", table=table), expressions=[exp.Literal.string(series["math_property"])]
    )


def _of_number(math: str, value: exp.Expression) -> exp.Expression:
    """`math` (sum, avg, …, p99; or the same prefix of a count-per-actor math) over `toFloat(value)`."""
    name = math.removesuffix("_count_per_actor")
    number = call("toFloat", value)
    if name in _QUANTILES:
        return exp.ParameterizedAgg(
            this="quantile", expressions=[exp.Literal.number(_QUANTILES[name])], params=[number]
        )
    return call(name, number)


def aggregation(series: Mapping[str, Any], math: str) -> exp.Expression:
    """The HogQL aggregate of one bucket for a math of the plain shape (weekly/monthly active count persons:
    `dau`'s aggregate, over their shifted buckets)."""
    if math == "total":
        return call("count")
    if math in {"dau", "weekly_active", "monthly_active"}:
        return exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")]))
    if math == "unique_session":
        return exp.Count(this=exp.Distinct(expressions=[exp.column("$session_id")]))
    if math == "unique_group":
        return exp.Count(this=exp.Distinct(expressions=[_group_column(series)]))
    if math == "hogql":
        return parse_expression(series.get("math_hogql"), aggregate=True)
    if math in PROPERTY_MATHS:
        return _of_number(math, _math_property(series))
    raise ValueError(f"math {math!r} has no plain aggregate")


def _group_column(series: Mapping[str, Any]) -> exp.Expression:
    return exp.column(f"$group_{int(series['math_group_type_index'])}")


def math_conditions(series: Mapping[str, Any], math: str) -> list[exp.Expression]:
    """Events a math skips: those without the counted group, or (session duration) without a session."""
    empty = exp.Literal.string("")
    if math == "unique_group":
        return [exp.NEQ(this=_group_column(series), expression=empty)]
    if _session_duration(series, math):
        return [exp.NEQ(this=exp.column("$session_id"), expression=empty)]
    return []


def scale_sampled(value: float, factor: float | None, math: str) -> float:
    """A value computed on `SAMPLE factor`, as PostHog answers it: counts and sums × 1/factor, rounded."""
    if not factor or factor == 1 or math in UNSCALED_MATHS:
        return value
    return round(value / factor)


# ---------------------------------------------------------------------------------------------------
# the SELECT of one series


@dataclass(frozen=True)
class SeriesSelect:
    """One series query: `event` (the event-name condition, or None), `filters` (its other conditions),
    `since`/`until` (the time bounds), `bucket` (a timestamp → its bucket start; None for one total),
    `breakdown` (value expressions, named by `aliases`)."""

    series: Mapping[str, Any]
    math: str
    event: exp.Expression | None
    filters: Sequence[exp.Expression]
    since: exp.Expression
    until: exp.Expression
    bucket: Callable[[exp.Expression], exp.Expression] | None
    breakdown: Sequence[exp.Expression] = ()
    aliases: Sequence[str] = ()
    sample: float | None = None
    first_bucket_only: bool = False
    ranking: Ranking | None = None

    def conditions(self) -> list[exp.Expression]:
        return [c.copy() for c in (self.event, *self.filters, self.since, self.until) if c is not None]

    def keys(self, bucket: exp.Expression | None, values: Sequence[exp.Expression]) -> list[tuple[str, exp.Expression]]:
        """(alias, expression) of the grouping columns: the bucket start, then the breakdown values."""
        keys = [("bucket_start", bucket)] if bucket is not None else []
        return keys + [(alias, value.copy()) for alias, value in zip(self.aliases, values, strict=True)]

    def events(self, conditions: list[exp.Expression]) -> exp.Select:
        """SELECT … FROM events [SAMPLE f] WHERE conditions."""
        select = exp.select().from_("events")
        if self.sample and self.sample != 1:
            select.args["from_"].this.set("sample", exp.TableSample(size=exp.Literal.number(self.sample)))
        if conditions:
            select = select.where(exp.and_(*conditions, copy=False), copy=False)
        return select


def series_select(spec: SeriesSelect) -> exp.Select:
    """The series' SELECT; with `spec.ranking`, its values past the limit merged into the other marker
    (`query.kinds.ranking`; only where `rankable`)."""
    math = spec.math
    if math in FIRST_TIME_MATHS:
        return _first_time(spec)
    if math in COUNT_PER_ACTOR_MATHS:
        return _per_group(spec, exp.column("person_id"), call("count"), "sum")
    if _session_duration(spec.series, math):
        duration = call("any", exp.column(SESSION_DURATION, table="session"))
        return _per_group(spec, exp.column("$session_id"), duration, "any")
    if spec.first_bucket_only and spec.bucket is not None:
        return _first_bucket(spec)
    bucket = spec.bucket(exp.column("timestamp")) if spec.bucket else None
    keys = spec.keys(bucket, spec.breakdown)
    return _aggregated(spec, keys, aggregation(spec.series, math), spec.events(spec.conditions()))


def rankable(spec: SeriesSelect) -> bool:
    """Whether `series_select` can rank the series' values itself: every math but a `math_hogql` aggregating
    DISTINCT values with something other than count (no partial state here to merge)."""
    return spec.math != "hogql" or state_form(aggregation(spec.series, spec.math))


def _session_duration(series: Mapping[str, Any], math: str) -> bool:
    return math in PROPERTY_MATHS and series.get("math_property") == SESSION_DURATION


def _grouped(
    keys: list[tuple[str, exp.Expression]], total: exp.Expression | None, source: exp.Select, *extra: exp.Expression
) -> exp.Select:
    """SELECT <keys>, [total] FROM source … GROUP BY <keys> (and `extra`)."""
    source.select(*(exp.alias_(value, alias, copy=False) for alias, value in keys), copy=False)
    if total is not None:
        source.select(exp.alias_(total, "total", copy=False), copy=False)
    groups = [exp.column(alias) for alias, _ in keys] + list(extra)
    return source.group_by(*groups, copy=False) if groups else source


def _outer(spec: SeriesSelect, inner: exp.Select, total: exp.Expression, bucket: exp.Expression | None) -> exp.Select:
    """Aggregate an inner SELECT's rows by bucket and breakdown value (ranked: merged states, which suits rows
    that each belong to one actor)."""
    keys = spec.keys(bucket, [exp.column(alias) for alias in spec.aliases])
    return _aggregated(spec, keys, total, exp.select().from_(inner.subquery(copy=False), copy=False))


def _aggregated(
    spec: SeriesSelect, keys: list[tuple[str, exp.Expression]], total: exp.Expression, source: exp.Select
) -> exp.Select:
    if spec.ranking is not None:
        return merge_states(keys, total, source, spec.ranking)
    return _grouped(keys, total, source)


def _per_group(spec: SeriesSelect, group: exp.Expression, inner_value: exp.Expression, combine: str) -> exp.Select:
    """One `inner_value` per group (person, session), bucket and breakdown value; then the math over them.
    Ranked, a group's inner values under merged breakdown values are combined by `combine` first."""
    bucket = spec.bucket(exp.column("timestamp")) if spec.bucket else None
    source = spec.events(spec.conditions())
    source.select(exp.alias_(group.copy(), ACTOR), exp.alias_(inner_value, "inner_value"), copy=False)
    inner = _grouped(spec.keys(bucket, spec.breakdown), None, source, group)
    of = functools.partial(_of_number, spec.math)
    if spec.ranking is not None:
        return per_group(inner, spec.ranking, bucketed=bucket is not None, aggregate=of, combine=combine)
    total = call("ifNull", of(exp.column("inner_value")), exp.Literal.number(0))
    return _outer(spec, inner, total, exp.column("bucket_start") if bucket is not None else None)


def _first_bucket(spec: SeriesSelect) -> exp.Select:
    """Cumulative unique actors: each actor in the first bucket it was active in (per breakdown value; ranked,
    taken again across the merged values)."""
    assert spec.bucket is not None
    actor = _group_column(spec.series) if spec.math == "unique_group" else exp.column("person_id")
    first = call("min", spec.bucket(exp.column("timestamp")))
    source = spec.events(spec.conditions())
    source.select(exp.alias_(actor.copy(), ACTOR), exp.alias_(first, "first_bucket"), copy=False)
    inner = _grouped(spec.keys(None, spec.breakdown), None, source, actor)
    if spec.ranking is not None:
        return first_buckets(inner, spec.ranking)
    return _outer(spec, inner, call("count"), exp.column("first_bucket"))


def _first_time(spec: SeriesSelect) -> exp.Select:
    """Persons whose first event (of the series' event; or first matching one) falls in the range and matches."""
    timestamp = exp.column("timestamp")
    matching = exp.and_(*(f.copy() for f in spec.filters)) if spec.filters else exp.true()
    in_range = exp.and_(spec.since.copy(), matching.copy())
    if spec.math == "first_matching_event_for_user":
        first = call("minIf", timestamp.copy(), matching.copy())
    else:
        first = call("min", timestamp.copy())
    source = spec.events([c.copy() for c in (spec.event, spec.until) if c is not None])
    source.select(exp.alias_(first, "first_time"), copy=False)
    source.select(exp.alias_(call("minIf", timestamp.copy(), in_range.copy()), "first_in_range"), copy=False)
    for alias, value in zip(spec.aliases, spec.breakdown, strict=True):
        at_first = call("argMinIf", value.copy(), timestamp.copy(), matching.copy())
        source.select(exp.alias_(at_first, alias), copy=False)
    # minIf over no rows is the epoch, which two empty minIfs share: the person needs an event in the range
    some = exp.GT(this=call("countIf", in_range), expression=exp.Literal.number(0))
    same = exp.EQ(this=exp.column("first_time"), expression=exp.column("first_in_range"))
    inner = source.group_by(exp.column("person_id"), copy=False).having(exp.and_(same, some), copy=False)
    bucket = spec.bucket(exp.column("first_time")) if spec.bucket else None
    return _outer(spec, inner, call("count"), bucket)
