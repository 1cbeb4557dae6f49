"""Inline the named definitions a query references: `matchesAction(<id or 'name'>)` becomes the action's
condition. The compiler only finds the references; `ctx.expand_reference(kind, ref)` (the runner's:
`query.references`) turns one into HogQL, so the compiler depends on no app."""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import HogQLContext
from query.hogql.errors import HogQLQueryError

FUNCTIONS = {"matchesAction": "action"}


def _constant(node: exp.Expression) -> int | str | None:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        return int(text) if text.isdigit() else None
    return None


def replace_references(root: exp.Expression, ctx: HogQLContext) -> exp.Expression:
    def visit(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous) or node.name not in FUNCTIONS:
            return node
        kind = FUNCTIONS[node.name]
        if len(node.expressions) != 1:
            raise HogQLQueryError(f"{kind}() takes exactly one string or integer argument")
        ref = _constant(node.expressions[0])
        if ref is None:
            raise HogQLQueryError(f"{kind}() takes only constant arguments")
        if ctx.expand_reference is None:
            raise HogQLQueryError(f"{node.name}() is not available in this context")
        return exp.paren(ctx.expand_reference(kind, ref, ctx))

    return root.transform(visit, copy=False)
