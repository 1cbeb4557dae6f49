"""The compile context and small builders over sqlglot's expression tree (our AST).

sqlglot nodes are the AST; resolver-made nodes carry markers in `node.meta`:
`hogql_real_table` (a real table needing a team guard), `hogql_nullable` (may be NULL, e.g. a property),
`hogql_kind` (the virtual field kind: datetime, json, …).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

SAFE_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# HogQL text that may name a column: text holding quotes stays out of ClickHouse identifiers.
ALIASABLE = re.compile(r"^[^'\"`\\\n\r\t]{1,200}$")
COHORT_FUNCTION = "__hogql_cohort"
"""`x IN COHORT 5` is `x IN __hogql_cohort(5)` in the tree until the references pass expands it."""


@dataclass
class HogQLContext:
    team_id: int
    timezone: str = "UTC"
    database: str = "posthog"
    values: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] | None = None
    variables: dict[str, Any] = field(default_factory=dict)  # code_name → value
    # (PropertyDefinition.type, name) → property_type, for Numeric/DateTime/Boolean properties only
    property_types: dict[tuple[int, str], str] = field(default_factory=dict)
    test_account_filters: list[Any] = field(default_factory=list)  # what `filterTestAccounts` in filters adds
    # (filters, ctx, table) → the expression `{filters}` stands for; the runner passes query.hogql_filters'
    filters_builder: Callable[[Any, HogQLContext, str], exp.Expression] | None = None
    # (kind, ref, ctx) → the HogQL a named definition stands for (`matchesAction`); the runner passes
    # query.references'
    expand_reference: Callable[[str, Any, HogQLContext], exp.Expression] | None = None


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=not SAFE_IDENTIFIER.match(name))


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=ident(table) if table else None)


def call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def const(value: Any) -> exp.Expression:
    """A constant as an AST node (strings become parameters when printed)."""
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.Literal.number(1 if value else 0)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value) if value >= 0 else exp.Neg(this=exp.Literal.number(-value))
    if isinstance(value, (list, tuple)):
        return exp.Array(expressions=[const(v) for v in value])
    return exp.Literal.string(str(value))


def equals(left: exp.Expression, right: exp.Expression) -> exp.Expression:
    return call("equals", left, right)


def and_(*conditions: exp.Expression) -> exp.Expression:
    items = [c for c in conditions if c is not None]
    if len(items) == 1:
        return items[0]
    return call("and", *items)


def in_cohort(left: exp.Expression, ref: int | str, *, negated: bool = False) -> exp.Expression:
    """`left IN COHORT ref` (`NOT IN` when negated): an id or a name, looked up when the query compiles."""
    member = exp.In(this=left, field=call(COHORT_FUNCTION, const(ref)))
    return exp.not_(member) if negated else member


def mark(node: exp.Expression, **markers: Any) -> exp.Expression:
    node.meta.update({f"hogql_{k}": v for k, v in markers.items()})
    return node


def marked(node: exp.Expression, key: str) -> Any:
    return node.meta_get(f"hogql_{key}")


def tz_wrap(node: exp.Expression, timezone: str) -> exp.Expression:
    return mark(call("toTimeZone", node, exp.Literal.string(timezone)), kind="datetime")


def json_extract(source: exp.Expression, keys: list[str]) -> exp.Expression:
    """PostHog's string form of a JSON property: raw value, ''/'null' → NULL, quotes trimmed."""
    raw = call("JSONExtractRaw", source, *[exp.Literal.string(k) for k in keys])
    inner = call("nullIf", call("nullIf", raw, exp.Literal.string("")), exp.Literal.string("null"))
    return mark(unquote(inner), nullable=True)


def unquote(raw: exp.Expression) -> exp.Expression:
    """PostHog's `replaceRegexpAll(raw, '^"|"$', '')` (escapes kept) for a raw JSON value, without the regexp:
    a raw value starts with a quote exactly when it is a string, which ends with one, so `substring(raw,
    1 + q, length(raw) - 2q)` with q = startsWith(raw, '"') is the same value at a fraction of the cost.
    ClickHouse computes the repeated `raw` and `q` once."""
    quoted = call("startsWith", raw.copy(), exp.Literal.string('"'))
    start = exp.Add(this=exp.Literal.number(1), expression=quoted)
    length = exp.Sub(
        this=call("length", raw.copy()), expression=exp.Mul(this=exp.Literal.number(2), expression=quoted.copy())
    )
    return call("substring", raw, start, length)
