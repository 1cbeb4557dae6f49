"""Replace `{name}` placeholders with constants from `values` and `{filters}` with the expression
`ctx.filters_builder` makes of `ctx.filters` (the runner's: `query.hogql_filters`).

A value always becomes a constant node (a bound parameter when printed), never SQL text.
"""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import HogQLContext, const
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import PLACEHOLDER_FUNCTION


def _placeholder_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous) and node.name == PLACEHOLDER_FUNCTION and node.expressions:
        arg = node.expressions[0]
        if isinstance(arg, exp.Literal) and arg.is_string:
            return arg.this
    return None


_FILTERS_TABLES = {"events": "timestamp", "sessions": "$start_timestamp", "groups": "created_at"}


def _filters_table(node: exp.Expression) -> str:
    """The table the SELECT around `{filters}` reads; only events, sessions and groups take filters."""
    select = node.find_ancestor(exp.Select)
    from_ = select.args.get("from_") if select is not None else None
    table = from_.this if from_ is not None else None
    name = table.name if isinstance(table, exp.Table) and not table.args.get("db") else ""
    if name not in _FILTERS_TABLES:
        raise HogQLQueryError(
            "Cannot use 'filters' placeholder in a SELECT clause that does not select from the events, "
            "sessions, logs, traces or groups table."
        )
    return name


def replace_placeholders(root: exp.Expression, ctx: HogQLContext) -> exp.Expression:
    def visit(node: exp.Expression) -> exp.Expression:
        name = _placeholder_name(node)
        if name is None:
            return node
        if name == "filters":
            table = _filters_table(node)
            if ctx.filters_builder is None:
                raise HogQLQueryError("The {filters} placeholder is not available in this context")
            return ctx.filters_builder(ctx.filters, ctx, table)
        if name.startswith("variables.") and name.count(".") == 1:
            code_name = name.split(".", 1)[1]
            if code_name in ctx.variables:
                return const(ctx.variables[code_name])
            raise HogQLQueryError(f"Variable {code_name} is missing from the query's variables")
        if name in ctx.values:
            return const(ctx.values[name])
        if ctx.values:
            available = ", ".join(sorted(ctx.values))
            raise HogQLQueryError(
                f"Placeholder {{{name}}} is not available in this context. You can use the following: {available}"
            )
        raise HogQLQueryError(f"Unresolved placeholder: {{{name}}}")

    return root.transform(visit, copy=False)
