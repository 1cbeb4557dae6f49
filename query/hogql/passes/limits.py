"""PostHog's limits on top-level SELECTs: a default when absent, a paginator (limit+1) for plain
SELECTs without LIMIT, and a cap (constants above the max are lowered, expressions get `min2`); and the
positional ORDER BY that makes pages of an unordered SELECT stable."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from query.hogql.ast import call

DEFAULT_RETURNED_ROWS = 100
MAX_SELECT_RETURNED_ROWS = 50_000
CSV_EXPORT_LIMIT = 300_000


@dataclass(frozen=True)
class LimitContext:
    default: int
    maximum: int


LIMIT_CONTEXTS = {
    "query": LimitContext(DEFAULT_RETURNED_ROWS, MAX_SELECT_RETURNED_ROWS),
    "query_async": LimitContext(DEFAULT_RETURNED_ROWS, MAX_SELECT_RETURNED_ROWS),
    "export": LimitContext(CSV_EXPORT_LIMIT, CSV_EXPORT_LIMIT),
}


def _top_level_selects(root: exp.Expression) -> list[exp.Select]:
    if isinstance(root, exp.SetOperation):
        return [*_top_level_selects(root.this), *_top_level_selects(root.expression)]
    if isinstance(root, exp.Subquery):
        return _top_level_selects(root.this)
    return [root] if isinstance(root, exp.Select) else []


def _cap(value: exp.Expression, maximum: int) -> exp.Expression:
    if isinstance(value, exp.Literal) and not value.is_string:
        try:
            return exp.Literal.number(min(int(float(value.this)), maximum))
        except ValueError:
            pass
    return call("min2", exp.Literal.number(maximum), value)


def apply_limits(root: exp.Expression, *, context: LimitContext, paginate: tuple[int, int] | None) -> None:
    """`paginate=(limit, offset)` when the root is a plain SELECT without LIMIT (has-more paginator)."""
    for select in _top_level_selects(root):
        limit = select.args.get("limit")
        if limit is None:
            if paginate is not None and select is root:
                count, offset = paginate
                select.set("limit", exp.Limit(expression=exp.Literal.number(count + 1)))
                select.set("offset", exp.Offset(expression=exp.Literal.number(offset)))
                continue
            limit = exp.Limit(expression=exp.Literal.number(context.default))
            select.set("limit", limit)
        limit.set("expression", _cap(limit.expression, context.maximum))


def order_by_every_column(root: exp.Expression) -> bool:
    """Give a top-level SELECT without ORDER BY an `ORDER BY 1, 2, …` over its columns (a `*` counts as one),
    so LIMIT/OFFSET pages of it are stable. False, and `root` untouched, when it is not such a SELECT."""
    if not isinstance(root, exp.Select) or root.args.get("order") is not None:
        return False
    count = 1 if any(isinstance(e, exp.Star) for e in root.expressions) else len(root.expressions)
    positions = [exp.Ordered(this=exp.Literal.number(i)) for i in range(1, count + 1)]
    root.set("order", exp.Order(expressions=positions))
    return True
