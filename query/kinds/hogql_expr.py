"""One user-written HogQL expression inside an insight node: a `hogql` breakdown (a value per event) or a
series' `math_hogql` (an aggregate per bucket). Parsed and checked like a HogQL query's SELECT item (function
allowlist, arity, nested aggregations), so a bad expression is a 400 naming it before anything runs; field names
are resolved later, with the insight's query, by the compiler (an unknown field is a 400 there)."""

from __future__ import annotations

from sqlglot import exp

from query.hogql import functions
from query.hogql.errors import HogQLQueryError, HogQLSyntaxError
from query.hogql.parser import PLACEHOLDER_FUNCTION, parse_select, to_hogql
from query.hogql.passes.validate import validate

_CALLS = (exp.Anonymous, exp.AnonymousAggFunc, exp.CombinedAggFunc, exp.ParameterizedAgg, exp.CombinedParameterizedAgg)


class ExpressionError(ValueError):
    """The expression cannot be used; the message says why."""


def _aggregate_name(node: exp.Expression) -> str | None:
    if not isinstance(node, _CALLS):
        return None
    found = functions.lookup(node.name)
    return found[0] if found and found[1].aggregate else None


def _under_aggregate(node: exp.Expression, root: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None and node is not root:
        if _aggregate_name(parent):
            return True
        node, parent = parent, parent.parent
    return False


def parse_expression(text: object, *, aggregate: bool) -> exp.Expression:
    """The expression's tree. `aggregate`: it must aggregate (every field inside an aggregation, as
    `avg(toFloat(properties.price))`); otherwise it must not aggregate at all."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("must be a non-empty HogQL expression")
    try:
        select = parse_select(f"SELECT {text}")
    except HogQLSyntaxError as error:
        raise ExpressionError(f"is not valid HogQL: {error}") from None
    others = [key for key, value in select.args.items() if key != "expressions" and value]
    if not isinstance(select, exp.Select) or others or len(select.expressions) != 1:
        raise ExpressionError("must be exactly one HogQL expression")
    node = select.expressions[0]
    if isinstance(node, exp.Alias):
        raise ExpressionError("must be exactly one HogQL expression, without an alias")
    try:
        validate(select)
    except HogQLQueryError as error:
        raise ExpressionError(str(error)) from None
    for inner in node.walk():
        if isinstance(inner, exp.Anonymous) and inner.name == PLACEHOLDER_FUNCTION:
            raise ExpressionError("must not hold {placeholders}")
        if isinstance(inner, exp.Query):
            raise ExpressionError("must not hold a subquery")
        if isinstance(inner, exp.Window):
            raise ExpressionError("must not hold a window function")
    aggregations = [name for name in map(_aggregate_name, node.walk()) if name]
    if aggregate:
        if not aggregations:
            raise ExpressionError("must be an aggregation, such as avg(toFloat(properties.price))")
        loose = [c for c in node.find_all(exp.Column) if not _under_aggregate(c, node)]
        if loose:
            raise ExpressionError(f"uses '{to_hogql(loose[0])}' outside an aggregation")
    elif aggregations:
        raise ExpressionError(f"must not aggregate (it calls {aggregations[0]}())")
    node.pop()
    return node
