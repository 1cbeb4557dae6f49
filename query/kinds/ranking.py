"""Top-N breakdown values and the other bucket in one read of the events.

An insight's grouped select (`[bucket_start,] breakdown_value, <aggregate> AS total`) becomes: the same select
keeping `<aggregate>State` per row, the values ranked over the whole range (real values by their total
descending then by value, the null marker last; as `sum` of the finalized states per value), and the states
of the values past the limit merged (`<aggregate>Merge`) under the other marker, so persons, sessions and
quantiles of the other bucket are counted once — what a second query restricted to the top values gave,
without reading the events twice. The cumulative-persons form (each person counted in its first bucket) ranks
its (person, value) rows instead and takes each person's first bucket again across the merged values.

All of it is HogQL (sqlglot trees of the HogQL dialect); the rows keep the columns of the grouped select.
"""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import call

_TOTAL, _STATE, _VALUE, _BUCKET = "total", "state", "breakdown_value", "bucket_start"


def _combinator(aggregate: exp.Expression, suffix: str, args: list[exp.Expression]) -> exp.Expression:
    """`aggregate` as its -State (over its own arguments) or -Merge (over `args`), parameters kept."""
    if isinstance(aggregate, exp.Count):
        inner = aggregate.this
        if isinstance(inner, exp.Distinct):  # count(DISTINCT x) is ClickHouse's uniqExact(x)
            return exp.AnonymousAggFunc(this=f"uniqExact{suffix}", expressions=args or _copies(inner.expressions))
        return exp.AnonymousAggFunc(this=f"count{suffix}", expressions=args or ([inner.copy()] if inner else []))
    if isinstance(aggregate, exp.ParameterizedAgg):  # quantile(0.5)(x): `expressions` are the parameters
        own = _copies(aggregate.args.get("params") or [])
        return exp.ParameterizedAgg(
            this=f"{aggregate.name}{suffix}", expressions=_copies(aggregate.expressions), params=args or own
        )
    if isinstance(aggregate, (exp.Anonymous, exp.AnonymousAggFunc)):
        return exp.AnonymousAggFunc(
            this=f"{aggregate.name}{suffix}", expressions=args or _copies(aggregate.expressions)
        )
    raise ValueError(f"no -State form for {aggregate.sql()}")


def _window(
    function: exp.Expression, *, partition: str | None = None, order: list[exp.Ordered] | None = None
) -> exp.Window:
    return exp.Window(
        this=function,
        partition_by=[exp.column(partition)] if partition else None,
        order=exp.Order(expressions=order) if order else None,
    )


def ranked(
    select: exp.Select,
    *,
    limit: int,
    null_value: str,
    other_value: str,
    grid: exp.Expression | None = None,
) -> exp.Select:
    """`select` with its values past `limit` (by rank) merged into `other_value`. `grid` (a condition on
    `bucket_start`) keeps only the buckets shown, so buckets outside it neither rank nor come back."""
    select = select.copy()
    bucketed = any(item.alias == _BUCKET for item in select.expressions)
    total = next(item for item in select.expressions if item.alias == _TOTAL)
    aggregate = total.this
    total.replace(exp.alias_(_combinator(aggregate, "State", []), _STATE))

    keys = [exp.column(_BUCKET)] if bucketed else []
    number = call("ifNotFinite", call("ifNull", call("finalizeAggregation", exp.column(_STATE)), _int(0)), _int(0))
    totals = exp.select(
        *keys,
        exp.column(_VALUE),
        exp.column(_STATE),
        exp.alias_(_window(call("sum", number), partition=_VALUE), "value_total"),
    ).from_(select.subquery())
    if grid is not None:
        totals = totals.where(grid, copy=False)
    places = _places(totals, [k.copy() for k in keys], null_value)
    value = _ranked_value(limit, other_value)
    merged = exp.alias_(_combinator(aggregate, "Merge", [exp.column(_STATE)]), _TOTAL)
    outer = exp.select(*[k.copy() for k in keys], value, merged).from_(places.subquery())
    return outer.group_by(*[k.copy() for k in keys], exp.column("ranked_value"), copy=False)


def ranked_first_buckets(select: exp.Select, *, limit: int, null_value: str, other_value: str) -> exp.Select:
    """The cumulative-persons form — `SELECT bucket AS bucket_start, breakdown_value, count() AS total FROM
    (SELECT actor, min(…) AS bucket, breakdown_value … GROUP BY actor, breakdown_value) GROUP BY …` — with the
    values past `limit` merged: ranked by their number of persons, then each person's first bucket taken again
    across the merged values, so a person is new once in the other bucket."""
    rows = select.find(exp.From).this.this.copy()  # (actor, bucket, breakdown_value) rows
    columns = [exp.column("actor"), exp.column("bucket")]
    totals = exp.select(
        *columns,
        exp.column(_VALUE),
        exp.alias_(_window(exp.Anonymous(this="count", expressions=[]), partition=_VALUE), "value_total"),
    ).from_(rows.subquery())
    places = _places(totals, [c.copy() for c in columns], null_value)
    value = _ranked_value(limit, other_value)
    merged = exp.select(exp.column("actor"), value, exp.alias_(call("min", exp.column("bucket")), _BUCKET)).from_(
        places.subquery()
    )
    merged = merged.group_by(exp.column("actor"), exp.column("ranked_value"), copy=False)
    outer = exp.select(
        exp.column(_BUCKET), exp.column("ranked_value"), exp.alias_(exp.Anonymous(this="count", expressions=[]), _TOTAL)
    )
    return outer.from_(merged.subquery()).group_by(exp.column(_BUCKET), exp.column("ranked_value"), copy=False)


def _places(totals: exp.Select, keys: list[exp.Expression], null_value: str) -> exp.Select:
    """`keys`, breakdown_value and `state` (when there) of `totals`, with `place`: the value's rank."""
    order = [
        exp.Ordered(this=exp.EQ(this=exp.column(_VALUE), expression=exp.Literal.string(null_value))),
        exp.Ordered(this=exp.column("value_total"), desc=True),
        exp.Ordered(this=exp.column(_VALUE)),
    ]
    kept = [*keys, exp.column(_VALUE)]
    if any(item.alias_or_name == _STATE for item in totals.expressions):
        kept.append(exp.column(_STATE))
    place = exp.alias_(_window(exp.Anonymous(this="dense_rank", expressions=[]), order=order), "place")
    return exp.select(*kept, place).from_(totals.subquery())


def _ranked_value(limit: int, other_value: str) -> exp.Expression:
    top = exp.LTE(this=exp.column("place"), expression=_int(limit))
    return exp.alias_(call("if", top, exp.column(_VALUE), exp.Literal.string(other_value)), "ranked_value")


def _copies(nodes: list[exp.Expression]) -> list[exp.Expression]:
    return [node.copy() for node in nodes]


def _int(value: int) -> exp.Expression:
    return exp.Literal.number(value)
