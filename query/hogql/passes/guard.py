"""The team guard: every real table, at every depth, is filtered by `team_id = <project>`.

Into WHERE for FROM, INNER, CROSS and comma joins; into ON for LEFT joins (keeps outer-join rows
correct). Lazy-table subqueries read real tables too, so they are guarded by the same walk.
"""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import and_, column, equals, mark, marked
from query.hogql.errors import HogQLQueryError, InternalHogQLError
from query.hogql.resolver import CTE_PREFIX


def _guard(table: exp.Expression, team_id: int) -> exp.Expression:
    alias = table.alias
    if not alias:
        raise InternalHogQLError("real tables must carry an alias")
    mark(table, guarded=True)
    return equals(column("team_id", alias), exp.Literal.number(team_id))


def add_team_guards(root: exp.Expression, team_id: int) -> None:
    for select in list(root.find_all(exp.Select)):
        where_guards: list[exp.Expression] = []
        from_ = select.args.get("from_")
        if from_ is not None and marked(from_.this, "real_table"):
            where_guards.append(_guard(from_.this, team_id))
        for join in select.args.get("joins") or []:
            table = join.this
            if not marked(table, "real_table"):
                continue
            guard = _guard(table, team_id)
            if join.side == "LEFT":
                if join.args.get("using"):
                    raise HogQLQueryError("LEFT JOIN … USING is not supported, use LEFT JOIN … ON")
                on = join.args.get("on")
                join.set("on", and_(guard, on) if on is not None else guard)
            else:
                where_guards.append(guard)
        if where_guards:
            where = select.args.get("where")
            conditions = [*where_guards, where.this] if where is not None else where_guards
            select.set("where", exp.Where(this=and_(*conditions)))


def assert_isolated(root: exp.Expression, cte_names: set[str]) -> None:
    """Last line of defence before printing: no table reference escapes the schema or the guard."""
    for table in root.find_all(exp.Table):
        if marked(table, "real_table"):
            if not marked(table, "guarded"):
                raise InternalHogQLError(f"unguarded table {table.sql()}")
            continue
        if isinstance(table.this, exp.Anonymous) and table.this.name == "numbers":
            continue
        if not table.args.get("db") and table.name.startswith(CTE_PREFIX) and table.name in cte_names:
            continue
        raise HogQLQueryError(f"Unknown table `{table.name}`.")
