"""HogQL function names → their ClickHouse spelling, with the safe (…OrNull) and timezone-aware forms."""

from __future__ import annotations

from sqlglot import exp

from query.hogql.ast import HogQLContext, call, mark, marked

_RENAMES = {
    "trim": "trimBoth",
    "lag": "lagInFrame",
    "lead": "leadInFrame",
    "date_diff": "dateDiff",
    "date_trunc": "dateTrunc",
}
_CASTS = {"toInt": "Int64", "toFloat": "Float64"}


def _is_datetime(node: exp.Expression) -> bool:
    return marked(node, "kind") == "datetime"


def map_functions(root: exp.Expression, ctx: HogQLContext) -> exp.Expression:
    tz = exp.Literal.string(ctx.timezone)

    def visit(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Anonymous):
            return node
        name, args = node.name, list(node.expressions)
        if name in _RENAMES:
            node.set("this", _RENAMES[name])
            return node
        if name in _CASTS and len(args) == 1:
            return mark(call("accurateCastOrNull", args[0], exp.Literal.string(_CASTS[name])), nullable=True)
        if name == "toUUID" and len(args) == 1:
            return call("toUUIDOrNull", call("toString", args[0]))
        if name == "now" and not args:
            return mark(call("now64", exp.Literal.number(6), tz.copy()), kind="datetime")
        if name == "toDateTime" and len(args) == 1:
            arg = args[0]
            if _is_datetime(arg) or (isinstance(arg, exp.Literal) and not arg.is_string):
                return mark(call("toDateTime", arg, tz.copy()), kind="datetime")
            return mark(call("parseDateTime64BestEffortOrNull", arg, exp.Literal.number(6), tz.copy()), kind="datetime")
        if name == "toDate" and len(args) == 1 and isinstance(args[0], exp.Literal) and args[0].is_string:
            return call("toDateOrNull", args[0])
        if name == "concat":
            wrapped = [
                a
                if isinstance(a, exp.Literal) and a.is_string
                else call("ifNull", call("toString", a), exp.Literal.string(""))
                for a in args
            ]
            node.set("expressions", wrapped)
        return node

    return root.transform(visit, copy=False)
