"""A breakdown's top values and its other bucket in one read of the events (reference §1.7).

The values are ranked over the whole range (values holding the other marker last, then those holding the null
marker, each by their total — the sum of their points — descending, then by value, part by part) and those past
the limit are merged into the other marker (in every part), so that persons, sessions and quantiles of the
other bucket are counted over its events together, as a second query restricted to the top values would count
them, without reading the events twice. Three forms, by the shape of the series' SELECT (`query.kinds.maths`):

- `merge_states`: an aggregate over rows (events, or per-person rows of first-time maths) keeps a partial
  `<aggregate>State` per bucket and value; the values are ranked on the finalized states and the states of the
  other values merged (`<aggregate>Merge`). Any aggregate expression works whose aggregates have such forms
  (`state_form`).
- `first_buckets` (cumulative persons or groups): each actor's first bucket per value is ranked by actors per
  value, then taken again across the merged values, so an actor is new once in the other bucket.
- `per_group` (count per actor, session duration): the per-actor (per-session) rows are ranked by their per
  bucket aggregate (window functions), then combined again per actor across the merged values before the
  aggregate, so an actor's events under two merged values count as one actor's.

`Ranking.grid` (a condition on `bucket_start`) keeps the buckets shown: active-users windows reach past them.
The rows keep the columns of the series' SELECT: `[bucket_start,] <value aliases…>, total`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlglot import exp

from query.hogql import functions
from query.hogql.ast import call
from query.kinds.breakdown import BREAKDOWN_NULL, BREAKDOWN_OTHER

BUCKET = "bucket_start"
ACTOR = "actor"
_CALLS = (exp.Anonymous, exp.AnonymousAggFunc, exp.CombinedAggFunc, exp.ParameterizedAgg, exp.CombinedParameterizedAgg)


@dataclass(frozen=True)
class Ranking:
    aliases: tuple[str, ...]  # the breakdown value columns
    limit: int
    grid: exp.Expression | None = None

    def ranked(self, alias: str) -> str:
        return f"ranked_{alias}"


# ---------------------------------------------------------------------------------------------------
# aggregates as partial states


def _is_aggregate(node: exp.Expression) -> bool:
    if isinstance(node, exp.Count):
        return True
    found = functions.lookup(node.name) if isinstance(node, _CALLS) else None
    return bool(found and found[1].aggregate)


def _aggregates(expression: exp.Expression) -> list[exp.Expression]:
    """The outermost aggregate calls of an expression (HogQL allows none nested)."""
    return [n for n in expression.walk() if _is_aggregate(n) and not _under_aggregate(n, expression)]


def _under_aggregate(node: exp.Expression, root: exp.Expression) -> bool:
    parent = node.parent
    while node is not root and parent is not None:
        if _is_aggregate(parent):
            return True
        node, parent = parent, parent.parent
    return False


def _combined(aggregate: exp.Expression, suffix: str, args: list[exp.Expression] | None) -> exp.Expression | None:
    """`aggregate` as its -State (over its own arguments) or -Merge (over `args`), parameters kept; None when it
    has no such form here (an aggregate over DISTINCT values other than count's)."""
    name = aggregate.name
    own = list(aggregate.expressions)
    if isinstance(aggregate, exp.ParameterizedAgg):  # quantile(0.5)(x): `expressions` are the parameters
        params = [p.copy() for p in aggregate.expressions]
        values = args or [p.copy() for p in aggregate.args.get("params") or []]
        return exp.ParameterizedAgg(this=f"{name}{suffix}", expressions=params, params=values)
    if isinstance(aggregate, exp.Count):
        own, name = [aggregate.this] if aggregate.this else [], "count"
    if own and isinstance(own[0], exp.Distinct):  # count(DISTINCT x) is ClickHouse's uniqExact(x)
        if name.lower() != "count":
            return None
        own, name = list(own[0].expressions), "uniqExact"
    if name == "countDistinctIf":
        name = "uniqExactIf"
    own = [a for a in own if not isinstance(a, exp.Star)]  # count(*)
    if name.lower() in functions.CASE_INSENSITIVE:
        name = functions.CASE_INSENSITIVE[name.lower()]
    return exp.AnonymousAggFunc(this=f"{name}{suffix}", expressions=args or [a.copy() for a in own])


def state_form(aggregate: exp.Expression) -> bool:
    """Whether `merge_states` can rank an aggregate expression."""
    found = _aggregates(aggregate)
    return bool(found) and all(_combined(a, "State", None) is not None for a in found)


def _rewrite(expression: exp.Expression, replace: Callable[[int, exp.Expression], exp.Expression]) -> exp.Expression:
    """A copy of `expression` with its i-th outermost aggregate replaced by `replace(i, aggregate)`."""
    copy = expression.copy()
    found = _aggregates(copy)
    for i, node in enumerate(found):
        new = replace(i, node)
        if node is copy:
            return new
        node.replace(new)
    return copy


# ---------------------------------------------------------------------------------------------------
# the forms


def merge_states(
    keys: Sequence[tuple[str, exp.Expression]], aggregate: exp.Expression, source: exp.Select, ranking: Ranking
) -> exp.Select:
    """`SELECT <keys>, <aggregate> AS total FROM source GROUP BY <keys>` (keys: [bucket_start,] the values) with
    the values past the limit merged into the other marker."""
    states = [f"state_{i}" for i in range(len(_aggregates(aggregate)))]
    columns = [_as(value, alias) for alias, value in keys]
    columns += [_as(_combined(a, "State", None), s) for a, s in zip(_aggregates(aggregate), states, strict=True)]
    per_value = source.select(*columns, copy=False).group_by(*(exp.column(a) for a, _ in keys), copy=False)
    finalized = _rewrite(aggregate, lambda i, _: call("finalizeAggregation", exp.column(states[i])))
    bucketed = [BUCKET] if any(alias == BUCKET for alias, _ in keys) else []
    kept = [*bucketed, *ranking.aliases, *states]
    totals = _with_totals(per_value, kept, call("sum", _number(finalized)), ranking)
    merged = _rewrite(aggregate, lambda i, a: _combined(a, "Merge", [exp.column(states[i])]))
    return _regroup(_places(totals, kept, ranking), bucketed, [], ranking, merged)


def first_buckets(rows: exp.Select, ranking: Ranking) -> exp.Select:
    """rows: `actor, first_bucket, <values>` (each actor's first bucket per value) → `bucket_start, <values>,
    total` (new actors per bucket), the values past the limit merged, each actor in its first bucket of them."""
    kept = [ACTOR, "first_bucket", *ranking.aliases]
    totals = _with_totals(rows, kept, exp.Anonymous(this="count", expressions=[]), ranking)
    first = call("min", exp.column("first_bucket"))
    merged = _regroup(_places(totals, kept, ranking), [ACTOR], [], ranking, first, BUCKET)
    count = _as(exp.Anonymous(this="count", expressions=[]), "total")
    outer = exp.select(exp.column(BUCKET), *_ranked_columns(ranking), count)
    return outer.from_(merged.subquery(copy=False), copy=False).group_by(
        exp.column(BUCKET), *_ranked_columns(ranking), copy=False
    )


def per_group(
    rows: exp.Select,
    ranking: Ranking,
    *,
    bucketed: bool,
    aggregate: Callable[[exp.Expression], exp.Expression],
    combine: str,
) -> exp.Select:
    """rows: `[bucket_start,] <values>, actor, inner_value` (one per actor, bucket and value) → `[bucket_start,]
    <values>, total` with total = aggregate(inner_value) and the values past the limit merged: an actor's
    inner values under merged values are combined (`combine`: sum of counts, any of one session's duration)."""
    cell_keys = [BUCKET] if bucketed else []
    cell_keys += list(ranking.aliases)
    kept = [*cell_keys, ACTOR, "inner_value"]
    cells = exp.select(
        *(exp.column(c) for c in kept),
        _as(_window(aggregate(exp.column("inner_value")), cell_keys), "cell"),
        _as(_window(exp.Anonymous(this="row_number", expressions=[]), cell_keys), "cell_row"),
    ).from_(rows.subquery(copy=False), copy=False)
    first_row = exp.EQ(this=exp.column("cell_row"), expression=exp.Literal.number(1))
    once = call("if", first_row, _number(exp.column("cell")), exp.Literal.number(0))  # each cell counted once
    totals = _with_totals(cells, kept, call("sum", once), ranking)
    combined = call(combine, exp.column("inner_value"))
    outer_keys = [BUCKET] if bucketed else []
    actors = _regroup(_places(totals, kept, ranking), outer_keys, [ACTOR], ranking, combined, "actor_value")
    total = call("ifNull", aggregate(exp.column("actor_value")), exp.Literal.number(0))
    outer = exp.select(*(exp.column(k) for k in outer_keys), *_ranked_columns(ranking), _as(total, "total"))
    return outer.from_(actors.subquery(copy=False), copy=False).group_by(
        *(exp.column(k) for k in outer_keys), *_ranked_columns(ranking), copy=False
    )


# ---------------------------------------------------------------------------------------------------
# shared steps


def _with_totals(rows: exp.Select, kept: list[str], total: exp.Expression, ranking: Ranking) -> exp.Select:
    """`kept` columns of rows with `value_total`: `total` (a window aggregate) over each value's rows."""
    select = exp.select(
        *(exp.column(c) for c in kept),
        _as(_window(total, list(ranking.aliases)), "value_total"),
    ).from_(rows.subquery(copy=False), copy=False)
    return select.where(ranking.grid.copy(), copy=False) if ranking.grid is not None else select


def _places(totals: exp.Select, kept: list[str], ranking: Ranking) -> exp.Select:
    """`kept` columns with `place`, the value's rank."""
    values = [exp.column(a) for a in ranking.aliases]
    order = [
        exp.Ordered(this=_class(values)),
        exp.Ordered(this=exp.column("value_total"), desc=True),
        *(exp.Ordered(this=v.copy()) for v in values),
    ]
    place = exp.Window(this=exp.Anonymous(this="dense_rank", expressions=[]), order=exp.Order(expressions=order))
    return exp.select(*(exp.column(c) for c in kept), _as(place, "place")).from_(
        totals.subquery(copy=False), copy=False
    )


def _regroup(
    places: exp.Select,
    before: list[str],
    after: list[str],
    ranking: Ranking,
    total: exp.Expression,
    name: str = "total",
) -> exp.Select:
    """SELECT <before>, the ranked values, <after>, total AS <name> FROM places GROUP BY all but total."""
    top = exp.LTE(this=exp.column("place"), expression=exp.Literal.number(ranking.limit))
    ranked = [
        _as(call("if", top.copy(), exp.column(a), exp.Literal.string(BREAKDOWN_OTHER)), ranking.ranked(a))
        for a in ranking.aliases
    ]
    select = exp.select(*(exp.column(c) for c in before), *ranked, *(exp.column(c) for c in after), _as(total, name))
    groups = [*(exp.column(c) for c in before), *_ranked_columns(ranking), *(exp.column(c) for c in after)]
    return select.from_(places.subquery(copy=False), copy=False).group_by(*groups, copy=False)


def _ranked_columns(ranking: Ranking) -> list[exp.Expression]:
    return [exp.column(ranking.ranked(a)) for a in ranking.aliases]


def _class(values: list[exp.Expression]) -> exp.Expression:
    """0 real, 1 holding the null marker, 2 holding the other marker (as `Breakdown.rank`)."""

    def holds(marker: str) -> exp.Expression:
        return exp.or_(*(exp.EQ(this=v.copy(), expression=exp.Literal.string(marker)) for v in values))

    zero, one, two = (exp.Literal.number(n) for n in (0, 1, 2))
    return call("multiIf", holds(BREAKDOWN_OTHER), two, holds(BREAKDOWN_NULL), one, zero)


def _as(node: exp.Expression, name: str) -> exp.Expression:
    return exp.alias_(node, name, copy=False)  # every node here is fresh: no copies of the big trees


def _window(function: exp.Expression, partition: list[str]) -> exp.Window:
    return exp.Window(this=function, partition_by=[exp.column(c) for c in partition] or None)


def _number(value: exp.Expression) -> exp.Expression:
    """A point as the runner reads it: NULL, NaN and infinities are 0."""
    zero = exp.Literal.number(0)
    return call("ifNotFinite", call("ifNull", value, zero), zero.copy())
