"""Replace `{name}` placeholders with constants from `values` and `{filters}` with filter expressions.

A value always becomes a constant node (a bound parameter when printed), never SQL text.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlglot import exp

from query.hogql.ast import HogQLContext, call, const
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import PLACEHOLDER_FUNCTION

_RELATIVE = re.compile(r"^-(\d+)([hdwmyq])$")


def _placeholder_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Anonymous) and node.name == PLACEHOLDER_FUNCTION and node.expressions:
        arg = node.expressions[0]
        if isinstance(arg, exp.Literal) and arg.is_string:
            return arg.this
    return None


def _date_bound(value: Any, ctx: HogQLContext) -> exp.Expression:
    text = str(value).strip()
    match = _RELATIVE.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        days = {"h": amount / 24, "d": amount, "w": 7 * amount, "m": 30 * amount, "q": 91 * amount, "y": 365 * amount}
        moment = datetime.utcnow() - timedelta(days=days[unit])
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
    elif text.lower() in {"today", "dstart"}:
        text = datetime.utcnow().strftime("%Y-%m-%d 00:00:00")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HogQLQueryError(f"Invalid date in filters: {value}") from None
    return call(
        "toDateTime64",
        exp.Literal.string(parsed.strftime("%Y-%m-%d %H:%M:%S.%f")),
        exp.Literal.number(6),
        exp.Literal.string(ctx.timezone),
    )


def _prop_ref(key: str, kind: str) -> exp.Expression:
    base: exp.Expression = exp.column("properties", table="person") if kind == "person" else exp.column("properties")
    return exp.Bracket(this=base, expressions=[exp.Literal.string(key)])


def _property_filter(item: dict[str, Any]) -> exp.Expression:
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise HogQLQueryError("Property filters need a key")
    kind = item.get("type") or "event"
    if kind not in {"event", "person"}:
        raise HogQLQueryError(f"Unsupported property filter type: {kind}")
    ref = _prop_ref(key, kind)
    op = item.get("operator") or "exact"
    value = item.get("value")
    values = value if isinstance(value, list) else [value]
    if op == "is_set":
        return call("isNotNull", ref)
    if op == "is_not_set":
        return call("isNull", ref)
    if op in {"exact", "is_not"}:
        cond = (
            call("in", ref, const([str(v) for v in values]))
            if len(values) > 1
            else exp.EQ(this=ref, expression=const(str(values[0])))
        )
        return cond if op == "exact" else call("ifNull", call("not", cond), exp.Literal.number(1))
    if op in {"icontains", "not_icontains"}:
        cond = call("ilike", ref, const(f"%{values[0]}%"))
        return cond if op == "icontains" else call("ifNull", call("not", cond), exp.Literal.number(1))
    if op in {"regex", "not_regex"}:
        cond = call("match", ref, const(str(values[0])))
        return cond if op == "regex" else call("ifNull", call("not", cond), exp.Literal.number(1))
    if op in {"gt", "lt", "gte", "lte"}:
        fn = {"gt": "greater", "lt": "less", "gte": "greaterOrEquals", "lte": "lessOrEquals"}[op]
        try:
            number = float(values[0])
        except (TypeError, ValueError):
            raise HogQLQueryError(f"Property filter {key!r} needs a numeric value for {op}") from None
        return call(fn, call("toFloat", ref), const(number))
    raise HogQLQueryError(f"Unsupported property filter operator: {op}")


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


def filters_expression(filters: dict[str, Any] | None, ctx: HogQLContext, table: str = "events") -> exp.Expression:
    conditions: list[exp.Expression] = []
    timestamp = exp.column(_FILTERS_TABLES.get(table, "timestamp"))
    filters = filters if isinstance(filters, dict) else {}
    date_range = filters.get("dateRange") or {}
    if not isinstance(date_range, dict):
        raise HogQLQueryError("filters.dateRange must be an object")
    if date_range.get("date_from") and date_range["date_from"] != "all":
        conditions.append(call("greaterOrEquals", timestamp, _date_bound(date_range["date_from"], ctx)))
    if date_range.get("date_to"):
        conditions.append(call("less", timestamp.copy(), _date_bound(date_range["date_to"], ctx)))
    properties = filters.get("properties") or []
    if not isinstance(properties, list):
        raise HogQLQueryError("filters.properties must be a list")
    for item in properties:
        if isinstance(item, dict):
            conditions.append(_property_filter(item))
    if not conditions:
        return exp.Literal.number(1)
    return conditions[0] if len(conditions) == 1 else call("and", *conditions)


def replace_placeholders(root: exp.Expression, ctx: HogQLContext) -> exp.Expression:
    def visit(node: exp.Expression) -> exp.Expression:
        name = _placeholder_name(node)
        if name is None:
            return node
        if name == "filters":
            return filters_expression(ctx.filters, ctx, _filters_table(node))
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
