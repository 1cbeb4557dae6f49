"""Checks on the user's tree before resolution: function allowlist and arity, nested aggregations,
reserved aliases and identifiers. Internal nodes added later are never checked (they are ours).
"""

from __future__ import annotations

from sqlglot import exp

from query.hogql import functions
from query.hogql.errors import HogQLQueryError
from query.hogql.schema import FUNCTION_TABLES

RESERVED = {"team_id", "true", "false", "null"}
_FORBIDDEN_IDENTIFIER_CHARS = ('"', "`", "\\", "\n", "\r", "\x00")
_NAMED_CALLS = (
    exp.Anonymous,
    exp.AnonymousAggFunc,
    exp.CombinedAggFunc,
    exp.ParameterizedAgg,
    exp.CombinedParameterizedAgg,
)
# Function-like nodes that are syntax, not calls: CASE, if(), ??, [..], (..), CAST, regex operators, windows.
_STRUCTURAL = (
    exp.And,
    exp.Or,
    exp.Xor,
    exp.Exists,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Array,
    exp.Tuple,
    exp.Cast,
    exp.RegexpLike,
    exp.RegexpILike,
    exp.Window,
    exp.VarMap,
    exp.Map,
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check_arity(label: str, name: str, found: int, low: int, high: int | None, word: str = "argument") -> None:
    if high is not None and low == high and found != low:
        raise HogQLQueryError(f"{label} '{name}' expects {_plural(low, word)}, found {found}")
    if found < low:
        raise HogQLQueryError(f"{label} '{name}' expects at least {_plural(low, word)}, found {found}")
    if high is not None and found > high:
        raise HogQLQueryError(f"{label} '{name}' expects at most {_plural(high, word)}, found {found}")


def _call_parts(node: exp.Expression) -> tuple[list[exp.Expression], list[exp.Expression] | None]:
    """(arguments, parameters) of a call; parameters are the first parens of `quantile(0.5)(x)`."""
    if isinstance(node, (exp.ParameterizedAgg, exp.CombinedParameterizedAgg)):
        return list(node.args.get("params") or []), list(node.expressions)
    return list(node.expressions), None


def check_call(node: exp.Expression) -> str:
    """Validate a named call; returns its canonical name."""
    name = node.name
    found = functions.lookup(name)
    if found is None:
        hint = functions.suggestion(name)
        extra = f" Perhaps you meant '{hint}(...)'?" if hint else ""
        raise HogQLQueryError(f"Unsupported function call '{name}(...)'.{extra}")
    canonical, meta = found
    label = "Aggregation" if meta.aggregate else "Function"
    args, params = _call_parts(node)
    if len(args) == 1 and isinstance(args[0], exp.Star) and canonical == "count":
        args = []
    _check_arity(label, canonical, len(args), meta.min_args, meta.max_args)
    if params is None and meta.min_params > 0:
        raise HogQLQueryError(f"{label} '{canonical}' requires parameters in addition to arguments")
    if params is not None:
        if meta.max_params == 0 and meta.min_params == 0:
            raise HogQLQueryError(f"{label} '{canonical}' does not accept parameters")
        _check_arity(label, canonical, len(params), meta.min_params, meta.max_params, "parameter")
    if canonical != name:
        node.set("this", canonical)
    return canonical


def _walk(node: exp.Expression, agg: str | None) -> None:
    if isinstance(node, exp.Query) and agg is not None:
        agg = None  # nesting through a subquery is fine
    if isinstance(node, exp.Identifier):
        if any(ch in node.name for ch in _FORBIDDEN_IDENTIFIER_CHARS):
            raise HogQLQueryError(f"The HogQL identifier {node.name!r} contains a character that is not permitted")
        if "%" in node.name:
            raise HogQLQueryError(
                f'The HogQL identifier "{node.name}" is not permitted as it contains the "%" character'
            )
        return
    alias = node.name if isinstance(node, exp.TableAlias) else node.alias if isinstance(node, exp.Alias) else None
    if alias in RESERVED:
        raise HogQLQueryError(f'"{alias}" cannot be an alias or identifier, as it\'s a reserved keyword')
    if isinstance(node, exp.Func) and not isinstance(node, _NAMED_CALLS) and not isinstance(node, _STRUCTURAL):
        raise HogQLQueryError(f"Unsupported function call '{node.sql_name()}(...)'.")
    inner_agg = agg
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Anonymous):
        if node.this.name not in FUNCTION_TABLES:
            raise HogQLQueryError(f"Unknown table `{node.this.name}`.")
        for arg in node.this.expressions:
            _walk(arg, None)
        return
    if isinstance(node, _NAMED_CALLS):
        name = check_call(node)
        if functions.lookup(name)[1].aggregate and not isinstance(node.parent, exp.Window):  # type: ignore[index]
            if agg is not None:
                raise HogQLQueryError(f"Aggregation '{name}' cannot be nested inside another aggregation '{agg}'.")
            inner_agg = name
    for child in node.iter_expressions():
        _walk(child, inner_agg)


def validate(root: exp.Expression) -> None:
    _walk(root, None)
