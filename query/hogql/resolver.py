"""Names → meaning: resolve tables against the virtual schema and fields against tables.

Each SELECT is its own scope. Tables become the qualified real table (marked for the guard pass) or
a lazy dedup subquery; fields become qualified columns, DateTimes are shown in the project timezone,
JSON property chains become PostHog's extraction expression (typed from property definitions), and
lazy joins (`person`, `pdi`, `session`, `group_N`) are added to the SELECT when first referenced.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlglot import exp, parse_one

from query.hogql import schema
from query.hogql.ast import ALIASABLE, HogQLContext, call, column, equals, ident, json_extract, mark, marked, tz_wrap
from query.hogql.errors import BaseHogQLError, HogQLQueryError, ResolutionError
from query.hogql.parser import HogQLDialect, to_hogql

RESERVED_NAMES = {"team_id", "true", "false", "null"}
MATERIALIZED_EVENT_PROPERTIES = {"$session_id", "$window_id", *(f"$group_{i}" for i in range(5))}


@dataclass
class Source:
    alias: str
    table: schema.Table | None = None
    columns: dict[str, str] | None = None  # subquery / CTE / function outputs → kind; None = unknown
    lazy: bool = False
    root: str = ""  # the FROM/JOIN item a lazy join hangs off

    def __post_init__(self) -> None:
        self.root = self.root or self.alias

    def has(self, name: str) -> bool:
        if self.table is not None:
            return name in self.table.fields or name in self.table.joins or name in self.table.traversers
        return self.columns is not None and name in self.columns

    def resolve(self, rest: list[str], scope: Scope) -> exp.Expression:
        name = rest[0]
        if self.table is None:
            if self.columns is not None and name not in self.columns:
                raise ResolutionError(f"Field not found: {name}")
            kind = (self.columns or {}).get(name, "")
            node = mark(column(name, self.alias), kind=kind)
            if len(rest) > 1:
                if kind != schema.JSON:
                    raise ResolutionError(f"Field not found: {rest[1]}")
                return json_extract(node, rest[1:])
            return node
        table = self.table
        if name in table.fields:
            spec = table.fields[name]
            node = mark(column(spec.ch, self.alias), kind=spec.kind)
            if spec.kind == schema.JSON and len(rest) > 1:
                return scope.property(node, rest[1:], table.property_type)
            if len(rest) > 1:
                raise ResolutionError(f"Field not found: {rest[1]}")
            if spec.kind == schema.DATETIME:
                return tz_wrap(node, scope.ctx.timezone)
            return node
        if name in table.traversers:
            return self.resolve([*table.traversers[name], *rest[1:]], scope)
        if name in table.joins:
            if len(rest) == 1:
                raise HogQLQueryError(f"Can't select a table when a column is expected: {name}")
            return scope.lazy_join(self, name).resolve(rest[1:], scope)
        raise ResolutionError(f"Field not found: {name}")


def _located(error: BaseHogQLError, node: exp.Expression) -> BaseHogQLError:
    """`error` with the span of `node` in the query text (the parser's token offsets), unless it has one."""
    if error.start is None:
        spans = [i.meta for i in node.find_all(exp.Identifier) if "start" in i.meta and "end" in i.meta]
        if spans:
            error.start = min(m["start"] for m in spans)
            error.end = max(m["end"] for m in spans) + 1  # sqlglot's end is inclusive
    return error


@dataclass
class Scope:
    select: exp.Select
    ctx: HogQLContext
    ctes: dict[str, dict[str, str] | None]
    sources: dict[str, Source] = field(default_factory=dict)
    aliases: set[str] = field(default_factory=set)
    lazy_joins: list[tuple[str, exp.Join]] = field(default_factory=list)  # (root alias, join)
    scalars: frozenset[str] = frozenset()  # `WITH <expr> AS name` names seen here and in nested queries

    def property(self, node: exp.Expression, keys: list[str], property_type: int | None) -> exp.Expression:
        if property_type == 1 and len(keys) == 1 and keys[0] in MATERIALIZED_EVENT_PROPERTIES:
            # Dedicated materialized columns, as PostHog prints them: '' and 'null' read as NULL.
            dedicated = column(keys[0], node.args["table"].name if node.args.get("table") else None)
            inner = call("nullIf", dedicated, exp.Literal.string(""))
            return mark(call("nullIf", inner, exp.Literal.string("null")), nullable=True)
        value = json_extract(node, keys)
        kind = self.ctx.property_types.get((property_type or 0, keys[0])) if len(keys) == 1 else None
        if kind == "Numeric":
            return mark(call("accurateCastOrNull", value, exp.Literal.string("Float64")), nullable=True)
        if kind == "DateTime":
            typed = call(
                "parseDateTime64BestEffortOrNull", value, exp.Literal.number(6), exp.Literal.string(self.ctx.timezone)
            )
            return mark(typed, nullable=True, kind=schema.DATETIME)
        if kind == "Boolean":
            bools = call(
                "transform",
                call("toString", value),
                exp.Array(expressions=[exp.Literal.string("true"), exp.Literal.string("false")]),
                exp.Array(expressions=[exp.Literal.number(1), exp.Literal.number(0)]),
                exp.null(),
            )
            return mark(call("toBool", bools), nullable=True)
        return value

    def lazy_join(self, source: Source, name: str) -> Source:
        alias = f"{source.alias}__{name}"
        if alias in self.sources:
            return self.sources[alias]
        assert source.table is not None
        spec = source.table.joins[name]
        target = schema.INTERNAL_TABLES[spec.table]
        left = column(source.table.fields[spec.from_field].ch, source.alias)
        right = column(target.fields[spec.to_field].ch, alias)
        join = exp.Join(this=table_node(target, alias, self.ctx), on=equals(left, right))
        join.set("side" if spec.side == "LEFT" else "kind", spec.side)
        self.lazy_joins.append((source.root, join))
        joined = Source(alias, table=target, lazy=True, root=source.root)
        self.sources[alias] = joined
        return joined

    def resolve_chain(
        self, chain: list[str], node: exp.Expression, params: frozenset[str], own: str | None
    ) -> exp.Expression:
        try:
            resolved = self._resolve_chain(chain, node, params, own)
        except BaseHogQLError as error:
            raise _located(error, node) from None
        return mark(resolved, resolved=True) if resolved is not node else node

    def _resolve_chain(
        self, chain: list[str], node: exp.Expression, params: frozenset[str], own: str | None
    ) -> exp.Expression:
        first = chain[0]
        if first in params:
            return node
        if first in self.sources and len(chain) > 1:
            return self.sources[first].resolve(chain[1:], self)
        if first in self.aliases and first != own and len(chain) == 1:
            return node  # a SELECT alias, printed as written
        having = [source for source in self.sources.values() if not source.lazy and source.has(first)]
        if len(having) > 1:
            raise ResolutionError(f"Ambiguous query. Found multiple sources for field: {first}")
        if having:
            return having[0].resolve(chain, self)
        if first in self.sources:
            raise HogQLQueryError(f"Can't select a table when a column is expected: {first}")
        if first in self.aliases:
            return node
        raise ResolutionError(f"Unable to resolve field: {first}")


@functools.lru_cache(maxsize=64)
def _lazy_subquery(name: str, database: str) -> exp.Expression:
    """Parsed once per process; callers copy it."""
    table = schema.INTERNAL_TABLES[name]
    qualified = f"`{database}`.`{table.ch_table}`"
    return parse_one(table.lazy_sql.replace("{table}", qualified), dialect=HogQLDialect)


def table_node(table: schema.Table, alias: str, ctx: HogQLContext) -> exp.Expression:
    if table.is_real:
        node = exp.Table(this=ident(table.ch_table), db=ident(ctx.database), alias=exp.TableAlias(this=ident(alias)))
        return mark(node, real_table=True)
    sub = _lazy_subquery(table.name, ctx.database).copy()
    for inner in sub.find_all(exp.Table):
        mark(inner, real_table=True)
    return exp.Subquery(this=sub, alias=exp.TableAlias(this=ident(alias)))


def _flatten(node: exp.Expression) -> list[str] | None:
    if isinstance(node, exp.Column):
        if not isinstance(node.this, exp.Identifier):
            return None
        return [p.name for p in node.parts]
    if isinstance(node, exp.Dot):
        if not isinstance(node.expression, exp.Identifier):
            return None
        base = _flatten(node.this)
        return [*base, node.expression.name] if base else None
    if isinstance(node, exp.Bracket):
        keys = node.expressions
        if len(keys) == 1 and isinstance(keys[0], exp.Literal) and keys[0].is_string:
            base = _flatten(node.this)
            return [*base, keys[0].this] if base else None
    return None


def _is_cte_name(node: exp.Expression | None, scope: Scope) -> bool:
    if not isinstance(node, exp.Column) or node.table or not isinstance(node.this, exp.Identifier):
        return False
    name = node.name
    return name in scope.ctes and not any(source.has(name) for source in scope.sources.values())


def _rewrite(node: exp.Expression, scope: Scope, params: frozenset[str], own: str | None) -> exp.Expression:
    if marked(node, "resolved"):
        return node
    if isinstance(node, exp.Query):
        resolve_query(node, scope.ctx, scope.ctes, scope.scalars)
        return node
    if isinstance(node, exp.In) and _is_cte_name(node.args.get("field"), scope):
        # `x IN cte` reads the CTE's rows, as `x IN (SELECT * FROM cte)`
        cte = node.args["field"].name
        node.set("field", None)
        node.set("query", exp.Subquery(this=exp.select(exp.Star()).from_(exp.Table(this=ident(cte)))))
    if isinstance(node, exp.Lambda):
        names = frozenset(e.name for e in node.expressions)
        node.set("this", _rewrite(node.this, scope, params | names, own))
        return node
    if isinstance(node, (exp.Column, exp.Dot, exp.Bracket)):
        chain = _flatten(node)
        if chain is not None:
            return scope.resolve_chain(chain, node, params, own)
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Literal):  # tuple access `x.1`
        if node.this.name == "0":
            raise HogQLQueryError("SQL indexes start from one, not from zero. E.g: array.1")
        base = exp.Column(this=node.args["table"], table=node.args.get("db"), db=node.args.get("catalog"))
        return call("tupleElement", _rewrite(base, scope, params, own), exp.Literal.number(node.this.name))
    if isinstance(node, exp.Alias):
        own = node.alias
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression) and not isinstance(value, exp.Identifier):
            node.set(key, _rewrite(value, scope, params, own))
        elif isinstance(value, list):
            node.set(key, [_rewrite(v, scope, params, own) if isinstance(v, exp.Expression) else v for v in value])
    return node


def _add_source(scope: Scope, node: exp.Expression) -> exp.Expression:
    """Register one FROM/JOIN item and return its replacement node."""
    ctx = scope.ctx
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        node = exp.Table(this=node.this, db=node.args.get("table"), catalog=node.args.get("db"))  # sqlglot quirk
    alias = node.alias if isinstance(node, (exp.Table, exp.Subquery)) else ""
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
        name = node.this.name
        if name not in schema.FUNCTION_TABLES:
            raise HogQLQueryError(f"Unknown table `{name}`.")
        scope.sources[alias or name] = Source(alias or name, columns={"number": schema.INTEGER})
        node.set("alias", exp.TableAlias(this=ident(alias or name)))
        return node
    if isinstance(node, exp.Table):
        if node.args.get("db") or node.args.get("catalog"):
            raise HogQLQueryError(f"Unknown table `{'.'.join(p.name for p in node.parts)}`.")
        name = node.name
        if name in scope.ctes:
            scope.sources[alias or name] = Source(alias or name, columns=scope.ctes[name])
            return exp.Table(this=ident(CTE_PREFIX + name), alias=exp.TableAlias(this=ident(alias or name)))
        if name not in schema.TABLES:
            raise _located(HogQLQueryError(f"Unknown table `{name}`."), node)
        table = schema.TABLES[name]
        replacement = table_node(table, alias or name, ctx)
        if node.args.get("sample") is not None and isinstance(replacement, exp.Table):
            replacement.set("sample", node.args["sample"])
        scope.sources[alias or name] = Source(alias or name, table=table)
        return replacement
    if isinstance(node, exp.Subquery):
        columns = resolve_query(node.this, ctx, scope.ctes, scope.scalars)
        if not alias:
            alias = f"__subquery_{len(scope.sources)}"
            node.set("alias", exp.TableAlias(this=ident(alias)))
        scope.sources[alias] = Source(alias, columns=columns)
        return node
    raise HogQLQueryError(f"Unsupported table expression: {to_hogql(node)}")


def _output_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Alias):
        return node.alias
    if isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier):
        return node.name
    return to_hogql(node)


def _expand_star(select: exp.Select, scope: Scope) -> None:
    """`*`, `t.*` → the plain fields of each source; `* EXCEPT (a, b)` leaves names out and
    `* REPLACE (expr AS a)` puts an expression in a field's place, as ClickHouse does."""
    expanded: list[exp.Expression] = []
    for item in select.expressions:
        star_of = None
        if isinstance(item, exp.Star):
            star_of = [s for s in scope.sources.values() if not s.lazy]
            if not star_of:
                raise HogQLQueryError("Cannot use '*' without a FROM clause")
        elif isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
            if item.table not in scope.sources or item.args.get("db") is not None:
                raise ResolutionError(f"Unable to resolve field: {'.'.join(p.name for p in item.parts[:-1])}")
            star_of = [scope.sources[item.table]]
        if star_of is None:
            expanded.append(item)
            continue
        star = item if isinstance(item, exp.Star) else item.this
        if star.args.get("rename"):
            raise HogQLQueryError("* RENAME is not supported, alias the columns instead")
        left_out = {e.name for e in star.args.get("except_") or []}
        replaced = {r.alias: r.this for r in star.args.get("replace") or [] if isinstance(r, exp.Alias)}
        for source in star_of:
            if source.table is not None:
                names = [f.name for f in source.table.fields.values() if not f.hidden]
            elif source.columns is not None:
                names = list(source.columns)
            else:
                expanded.append(item)
                continue
            for name in names:
                if name in left_out:
                    continue
                if name in replaced:  # resolved with the other projections
                    expanded.append(mark(exp.Alias(this=replaced[name].copy(), alias=ident(name)), star=True))
                    continue
                resolved = mark(source.resolve([name], scope), resolved=True)
                expanded.append(mark(exp.Alias(this=resolved, alias=ident(name)), star=True))
    select.set("expressions", expanded)


CTE_PREFIX = "__hogql_cte_"


def _register_ctes(query: exp.Expression, ctx: HogQLContext, ctes: dict, aliases: set[str]) -> list[exp.CTE]:
    """Resolve the WITH clause of `query` into `ctes` (renamed, so ClickHouse can never confuse a CTE with
    a database table); returns the scalar `WITH <expr> AS name` items, whose names go into `aliases`."""
    scalar: list[exp.CTE] = []
    with_ = query.args.get("with_")
    if with_ is None:
        return scalar
    for cte in with_.expressions:
        name = cte.alias
        if name in RESERVED_NAMES:
            raise HogQLQueryError(f'"{name}" cannot be an alias or identifier, as it\'s a reserved keyword')
        if cte.args.get("scalar"):
            aliases.add(name)
            scalar.append(cte)
            continue
        if name in schema.TABLES:
            raise HogQLQueryError(f"A CTE cannot be named like the table `{name}`.")
        ctes[name] = resolve_query(cte.this, ctx, ctes, frozenset(aliases))
        cte.set("alias", exp.TableAlias(this=ident(CTE_PREFIX + name)))
    return scalar


def resolve_query(
    query: exp.Expression,
    ctx: HogQLContext,
    ctes: dict[str, dict[str, str] | None],
    aliases: frozenset[str] = frozenset(),
) -> dict[str, str] | None:
    """Resolve a SELECT or set operation in place; returns its output columns (name → kind).

    `aliases` are the `WITH <expr> AS name` names of enclosing queries: ClickHouse lets nested queries (and
    CTEs after them) read them, and reads a WITH before `… UNION ALL …` as the whole union's, so every branch
    sees them. A union's own such expressions see no table (there is none at its level)."""
    if isinstance(query, exp.SetOperation):
        ctes = dict(ctes)
        names: set[str] = set(aliases)
        scalar = _register_ctes(query, ctx, ctes, names)
        outer = Scope(select=exp.Select(), ctx=ctx, ctes=ctes, scalars=frozenset(names))
        for cte in scalar:
            cte.set("this", _rewrite(cte.this, outer, frozenset(), cte.alias))
        left = resolve_query(query.this, ctx, ctes, frozenset(names))
        resolve_query(query.expression, ctx, ctes, frozenset(names))
        return left
    if isinstance(query, exp.Subquery):
        return resolve_query(query.this, ctx, ctes, aliases)
    if not isinstance(query, exp.Select):
        raise HogQLQueryError(f"Unsupported query: {to_hogql(query)}")
    scope = Scope(select=query, ctx=ctx, ctes=dict(ctes), aliases=set(aliases))
    scalar_ctes = _register_ctes(query, ctx, scope.ctes, scope.aliases)
    scope.scalars = frozenset(scope.aliases)
    from_ = query.args.get("from_")
    if from_ is not None:
        from_.set("this", _add_source(scope, from_.this))
    array_joins: list[exp.Join] = []
    for join in list(query.args.get("joins") or []):
        if join.args.get("kind") == "ARRAY":
            array_joins.append(join)
            continue
        join.set("this", _add_source(scope, join.this))
    for item in query.expressions:
        if isinstance(item, exp.Alias) and not marked(item, "synthetic"):
            scope.aliases.add(item.alias)
    for join in array_joins:
        target = join.this
        items = target.expressions if isinstance(target, exp.Tuple) else [target]
        for arr in items:
            if not isinstance(arr, (exp.Alias, exp.Subquery)) or not arr.alias:
                raise HogQLQueryError("ARRAY JOIN arrays must have an alias")
            scope.aliases.add(arr.alias)
    for cte in scalar_ctes:
        cte.set("this", _rewrite(cte.this, scope, frozenset(), cte.alias))
    for join in list(query.args.get("joins") or []):
        for key in ("on", "this") if join.args.get("kind") == "ARRAY" else ("on",):
            if join.args.get(key) is not None:
                join.set(key, _rewrite(join.args[key], scope, frozenset(), None))
    _expand_star(query, scope)
    chains = [None if marked(item, "resolved") else _flatten(item) for item in query.expressions]
    _name_expressions(query, chains)
    for key, value in list(query.args.items()):
        if key in {"with_", "from_", "joins"} or value is None:
            continue
        if isinstance(value, exp.Expression):
            query.set(key, _rewrite(value, scope, frozenset(), None))
        elif isinstance(value, list):
            query.set(
                key, [_rewrite(v, scope, frozenset(), None) if isinstance(v, exp.Expression) else v for v in value]
            )
    for item, chain in zip(query.expressions, chains, strict=True):
        if chain and len(chain) > 1:
            mark(item, chain_name=chain[-1])  # `properties.$browser` is `$browser` to an outer query
    _place_lazy_joins(query, scope)
    return _name_outputs(query)


def _place_lazy_joins(query: exp.Select, scope: Scope) -> None:
    """Lazy joins go right after the item they hang off, so later ON clauses can use them."""
    if not scope.lazy_joins:
        return
    from_ = query.args.get("from_")
    ordered = [j for root, j in scope.lazy_joins if from_ is not None and root == from_.this.alias]
    for join in query.args.get("joins") or []:
        ordered.append(join)
        alias = join.this.alias if join.args.get("kind") != "ARRAY" else ""
        ordered.extend(j for root, j in scope.lazy_joins if alias and root == alias)
    query.set("joins", ordered)


def _name_expressions(select: exp.Select, chains: list[list[str] | None]) -> None:
    """Alias unaliased computed projections with their HogQL text (`toDate(timestamp)`), as the top level
    does, so a subquery's or CTE's computed column has a name its outer query and `*` can print."""
    items = []
    for item, chain in zip(select.expressions, chains, strict=True):
        if not (
            chain
            or marked(item, "resolved")
            or isinstance(item, (exp.Alias, exp.Star, exp.Column))
            or (isinstance(item, exp.Literal) and item.is_number)  # ClickHouse names `1` "1" itself
        ):
            text = to_hogql(item)
            if ALIASABLE.match(text):
                item = mark(exp.Alias(this=item, alias=ident(text)), synthetic=True)
        items.append(item)
    select.set("expressions", items)


def _name_outputs(select: exp.Select) -> dict[str, str]:
    """Alias bare field projections with their field name (so outer queries can refer to them).

    A name is given once per SELECT: a later `*` column with a name already taken (`a.*, b.*` both holding
    `distinct_id`) stays unaliased, as ClickHouse refuses two expressions under one alias; it keeps its name
    as the `output` marker for the response's `columns`. A bare name that is no field (a `WITH x AS …` or
    SELECT alias, an ARRAY JOIN alias) is printed as written, never as `x AS x`.
    """
    outputs: dict[str, str] = {}
    items = []
    for item in select.expressions:
        if isinstance(item, exp.Alias) and _is_bare_name(item.this) and item.this.name == item.alias:
            item = item.this
        if isinstance(item, exp.Alias):
            if item.alias in outputs and marked(item, "star"):
                item = mark(item.this, output=item.alias)
            else:
                outputs[item.alias] = marked(item.this, "kind") or ""
        elif _is_bare_name(item):
            outputs.setdefault(item.name, marked(item, "kind") or "")
        elif isinstance(item, exp.Column) and isinstance(item.this, exp.Identifier) and item.name not in outputs:
            outputs[item.name] = marked(item, "kind") or ""
            item = exp.Alias(this=item, alias=ident(item.name))
        elif (name := marked(item, "chain_name")) and name not in outputs:
            outputs[name] = marked(item, "kind") or ""
            item = exp.Alias(this=item, alias=ident(name))
        elif marked(item, "kind") == schema.DATETIME and isinstance(item, exp.Anonymous):
            inner = item.expressions[0]
            if isinstance(inner, exp.Column) and inner.name not in outputs:
                outputs[inner.name] = schema.DATETIME
                item = exp.Alias(this=item, alias=ident(inner.name))
        else:
            outputs.setdefault(to_hogql(item), "")
        items.append(item)
    select.set("expressions", items)
    return outputs


def _is_bare_name(node: exp.Expression) -> bool:
    """An unqualified name left as written by the resolver: an alias, never a table field."""
    return isinstance(node, exp.Column) and isinstance(node.this, exp.Identifier) and not node.table
