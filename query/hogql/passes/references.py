"""Inline the named definitions a query references: `matchesAction(<id or 'name'>)` becomes the action's
condition, `x IN COHORT <id or 'name'>` (parsed as `x IN __hogql_cohort(…)`) becomes `x IN (<the cohort's
person ids>)`. The compiler only finds the references; `ctx.expand_reference(kind, ref, ctx)` (the runner's:
`query.references`) turns one into HogQL — a condition for an action, a SELECT of person ids for a cohort —
so the compiler depends on no app. What an expansion holds is expanded too (an action step filtering on a
cohort)."""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import COHORT_FUNCTION, HogQLContext
from query.hogql.errors import HogQLQueryError

FUNCTIONS = {"matchesAction": "action"}
MAX_DEPTH = 8  # definitions inside definitions; deeper is a loop


def _constant(node: exp.Expression) -> int | str | None:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        return int(text) if text.isdigit() else None
    return None


def _argument(node: exp.Anonymous, what: str) -> int | str:
    if len(node.expressions) != 1:
        raise HogQLQueryError(f"{what} takes exactly one string or integer argument")
    ref = _constant(node.expressions[0])
    if ref is None:
        raise HogQLQueryError(f"{what} takes only constant arguments")
    return ref


def _cohort_field(node: exp.Expression) -> exp.Anonymous | None:
    field = node.args.get("field") if isinstance(node, exp.In) else None
    return field if isinstance(field, exp.Anonymous) and field.name == COHORT_FUNCTION else None


def replace_references(root: exp.Expression, ctx: HogQLContext, depth: int = 0) -> exp.Expression:
    def expand(kind: str, ref: int | str, name: str) -> exp.Expression:
        if ctx.expand_reference is None:
            raise HogQLQueryError(f"{name} is not available in this context")
        if depth >= MAX_DEPTH:
            raise HogQLQueryError("Definitions reference each other too deeply")
        return replace_references(ctx.expand_reference(kind, ref, ctx), ctx, depth + 1)

    def visit(node: exp.Expression) -> exp.Expression:
        cohort = _cohort_field(node)
        if cohort is not None:
            members = expand("cohort", _argument(cohort, "IN COHORT"), "IN COHORT")
            node.set("field", None)
            node.set("query", exp.Subquery(this=members))
            return node  # the walk goes on into `this`
        if not isinstance(node, exp.Anonymous) or node.name not in FUNCTIONS:
            return node
        kind = FUNCTIONS[node.name]
        return exp.paren(expand(kind, _argument(node, f"{kind}()"), f"{node.name}()"))

    return root.transform(visit, copy=False)
