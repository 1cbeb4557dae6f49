"""The HogQL pipeline: parse → placeholders → validate → resolve → passes → print."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from query.hogql.ast import ALIASABLE, HogQLContext, ident, mark, marked
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import parse_select, to_hogql
from query.hogql.passes.compare import rewrite_comparisons
from query.hogql.passes.functions import map_functions
from query.hogql.passes.guard import add_team_guards, assert_isolated
from query.hogql.passes.limits import LimitContext, apply_limits
from query.hogql.passes.placeholders import replace_placeholders
from query.hogql.passes.references import replace_references
from query.hogql.passes.validate import validate
from query.hogql.printer import print_clickhouse
from query.hogql.resolver import resolve_query


@dataclass
class CompiledQuery:
    hogql: str
    clickhouse: str
    params: dict[str, Any]
    columns: list[str]
    paginated: bool
    timings: list[dict[str, Any]] = field(default_factory=list)


class _Timer:
    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.timings: list[dict[str, Any]] = []

    def lap(self, key: str) -> None:
        now = time.perf_counter()
        self.timings.append({"k": key, "t": round(now - self.last, 6)})
        self.last = now


def _top_selects(root: exp.Expression) -> list[exp.Select]:
    if isinstance(root, exp.SetOperation):
        return [*_top_selects(root.this), *_top_selects(root.expression)]
    return [root] if isinstance(root, exp.Select) else []


def _name_projections(root: exp.Expression) -> None:
    """Alias unaliased top-level projections with their HogQL text, so `columns` and `types` agree."""
    for select in _top_selects(root):
        items = []
        for item in select.expressions:
            if isinstance(item, (exp.Alias, exp.Star)) or (
                isinstance(item, exp.Column) and isinstance(item.this, exp.Star)
            ):
                items.append(item)
            else:
                items.append(mark(exp.Alias(this=item, alias=ident(to_hogql(item))), synthetic=True))
        select.set("expressions", items)


def _drop_unsafe_aliases(root: exp.Expression) -> None:
    """HogQL text holding quotes stays out of ClickHouse identifiers; `types` take the `columns` names."""
    for select in _top_selects(root):
        select.set(
            "expressions",
            [
                item.this if marked(item, "synthetic") and not ALIASABLE.match(item.alias) else item
                for item in select.expressions
            ],
        )


def _cte_names(root: exp.Expression) -> set[str]:
    return {cte.alias for cte in root.find_all(exp.CTE)}


def compile_hogql(
    text: str,
    ctx: HogQLContext,
    *,
    limit_context: LimitContext,
    paginate: tuple[int, int] | None,
    settings: dict[str, Any],
) -> CompiledQuery:
    try:
        return _compile(text, ctx, limit_context=limit_context, paginate=paginate, settings=settings)
    except SqlglotError as error:  # sqlglot refusing an odd tree is the user's query, not a crash
        raise HogQLQueryError(f"Unsupported query: {error}") from None
    except RecursionError:
        raise HogQLQueryError("Query is nested too deeply") from None


def _compile(
    text: str,
    ctx: HogQLContext,
    *,
    limit_context: LimitContext,
    paginate: tuple[int, int] | None,
    settings: dict[str, Any],
) -> CompiledQuery:
    timer = _Timer()
    root = parse_select(text)
    timer.lap("./parse")
    root = replace_placeholders(root, ctx)
    root = replace_references(root, ctx)
    validate(root)
    timer.lap("./validate")
    plain_select = isinstance(root, exp.Select) and root.args.get("limit") is None and root.args.get("offset") is None
    paginate = paginate if plain_select else None
    apply_limits(root, context=limit_context, paginate=paginate)
    hogql = to_hogql(root)
    _name_projections(root)
    resolve_query(root, ctx, {})
    columns = [
        item.alias_or_name if isinstance(item, exp.Alias) else marked(item, "output") or to_hogql(item)
        for item in _top_selects(root)[0].expressions
    ]
    timer.lap("./resolve")
    root = map_functions(root, ctx)
    root = rewrite_comparisons(root)
    add_team_guards(root, ctx.team_id)
    assert_isolated(root, _cte_names(root))
    _drop_unsafe_aliases(root)
    timer.lap("./passes")
    sql, params = print_clickhouse(root, settings)
    timer.lap("./print")
    return CompiledQuery(
        hogql=hogql,
        clickhouse=sql,
        params=params,
        columns=columns,
        paginated=paginate is not None,
        timings=timer.timings,
    )
