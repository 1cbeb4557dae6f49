"""Comparisons the PostHog way: `x = NULL` → isNull(x), null-safe equality on nullable values (JSON
properties), constant folding (`1 = 2` → 0) and boolean simplification (`x AND 1` → x, `x OR 1` → 1).

A datetime column compared with a moment (`timestamp >= now() - INTERVAL 7 DAY`, `toDateTime64('…', 6, 'UTC')`)
is compared without its team-timezone `toTimeZone` wrapper: the instant is the same, and ClickHouse can then use
the `toDate(timestamp)` sorting key and the partitions. Against strings or dates, which ClickHouse reads in the
column's timezone, the wrapper stays."""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import call, marked


def _number(node: exp.Expression) -> float | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return float(node.this)
        except ValueError:
            return None
    if isinstance(node, exp.Boolean):
        return 1.0 if node.this else 0.0
    return None


def _in_join_on(node: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Query):
        if isinstance(parent, exp.Join):
            return True
        parent = parent.parent
    return False


_ORDERING = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_TYPED_MOMENTS = {"toDateTime64": 3, "toDateTime": 2, "parseDateTime64BestEffortOrNull": 3, "now64": 0, "now": 0}
"""Calls giving a DateTime whatever they are compared with: name → arguments needed (the timezone given)."""


def _tz_wrapped(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name == "toTimeZone" and marked(node, "kind") == "datetime"


def _moment(node: exp.Expression) -> bool:
    """A DateTime value of its own: a typed moment, a wrapped column, or one of them ± an interval."""
    if isinstance(node, exp.Paren):
        return _moment(node.this)
    if isinstance(node, (exp.Add, exp.Sub)):
        shift = node.expression
        is_interval = isinstance(shift, exp.Interval) or (
            isinstance(shift, exp.Anonymous) and shift.name.startswith("toInterval")
        )
        return is_interval and _moment(node.this)
    if _tz_wrapped(node):
        return True
    needed = _TYPED_MOMENTS.get(node.name) if isinstance(node, exp.Anonymous) else None
    return needed is not None and len(node.expressions) >= needed


def _unwrap_moments(node: exp.Expression) -> None:
    """`toTimeZone(col, tz) <op> moment` → `col <op> moment` (either side)."""
    left, right = node.this, node.expression
    if _tz_wrapped(left) and _moment(right):
        node.set("this", left.expressions[0])
    elif _tz_wrapped(right) and _moment(left):
        node.set("expression", right.expressions[0])


_TRUNCATIONS = {"toStartOfMinute": 1, "toStartOfHour": 1, "toStartOfDay": 1, "toStartOfWeek": 2, "toStartOfMonth": 1}
"""Truncations taking the timezone as their last argument: name → arguments before it."""


def _truncate_in_zone(node: exp.Anonymous) -> exp.Expression:
    """`toStartOfDay(toTimeZone(col, tz))` → `toStartOfDay(col, tz)`: the same value (a DateTime in tz, or a
    Date), without converting every row first — ClickHouse truncates in the zone directly, measurably faster."""
    args = node.expressions
    if len(args) != _TRUNCATIONS[node.name] or not _tz_wrapped(args[0]):
        return node
    column, zone = args[0].expressions
    return call(node.name, column, *args[1:], zone)


def _fold(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Anonymous) and node.name in _TRUNCATIONS:
        return _truncate_in_zone(node)
    if isinstance(node, _ORDERING):
        _unwrap_moments(node)
    if isinstance(node, (exp.EQ, exp.NEQ)):
        left, right = node.this, node.expression
        is_eq = isinstance(node, exp.EQ)
        if isinstance(right, exp.Null) or isinstance(left, exp.Null):
            other = left if isinstance(right, exp.Null) else right
            if isinstance(other, exp.Null):
                return exp.Literal.number(1 if is_eq else 0)
            if isinstance(other, exp.Literal):
                return exp.Literal.number(0 if is_eq else 1)
            return call("isNull" if is_eq else "isNotNull", other)
        ln, rn = _number(left), _number(right)
        if ln is not None and rn is not None:
            return exp.Literal.number(int((ln == rn) == is_eq))
        nullable = marked(left, "nullable") or marked(right, "nullable")
        if nullable and not _in_join_on(node):
            name = "equals" if is_eq else "notEquals"
            return call("ifNull", call(name, left, right), exp.Literal.number(0 if is_eq else 1))
        return node
    if isinstance(node, exp.Paren) and isinstance(node.this, exp.Literal):
        return node.this
    if isinstance(node, (exp.And, exp.Or)):
        left, right = node.this, node.expression
        ln, rn = _number(left), _number(right)
        if isinstance(node, exp.And):
            if ln == 0 or rn == 0:
                return exp.Literal.number(0)
            if ln is not None:
                return right
            if rn is not None:
                return left
        else:
            if (ln is not None and ln != 0) or (rn is not None and rn != 0):
                return exp.Literal.number(1)
            if ln == 0:
                return right
            if rn == 0:
                return left
    return node


def rewrite_comparisons(root: exp.Expression) -> exp.Expression:
    return root.transform(_fold, copy=False)
