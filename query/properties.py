"""PostHog property filters (`{"type", "key", "operator", "value"}` and nested AND/OR groups) → one HogQL
expression (a sqlglot tree of the HogQL dialect), for every insight kind, and later actions, flags and
experiments. A `cohort` filter becomes `person_id IN COHORT <id>` (person scope: `id IN COHORT <id>`), which
the compiler expands to the cohort's members.

The expression is *unresolved* HogQL: it names `properties.<key>`, `person.properties.<key>`,
`session.<field>`, `group_<n>.properties.<key>` and `elements_chain` the way a user would, so it goes
through the normal compiler (resolver, property typing, team guards); nothing here writes ClickHouse SQL.
Pure: no Django, no ClickHouse. Every problem with the filter JSON raises `PropertyFilterError`
(an exposed HogQL error, so a 400) whose message names the problem and whose `attr` names where it is.

Entry point: `property_filters_to_expr(filters, scope=…, property_types=…, timezone=…, now=…)`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from posthog_clone import properties as vocabulary
from query.dates import DateRangeError, ParsedDate, parse_date
from query.hogql import schema
from query.hogql.ast import call, const, in_cohort
from query.hogql.errors import HogQLQueryError, HogQLSyntaxError
from query.hogql.parser import PLACEHOLDER_FUNCTION, parse_select

SCOPES = ("event", "person")
"""`event`: the expression runs over the `events` table; `person`: over the `persons` table (ActorsQuery)."""

FILTER_TYPES = ("event", "person", "session", "group", "element", "hogql", "flag", "cohort")
NOT_YET_TYPES = ("action",)  # valid PostHog types whose objects this backend does not have yet
UNSUPPORTED_TYPES = (
    "event_metadata",
    "recording",
    "log_entry",
    "log",
    "data_warehouse",
    "data_warehouse_person_property",
    "error_tracking_issue",
    "revenue_analytics",
    "behavioral",
    "static-cohort",
    "precalculated-cohort",
)
ELEMENT_KEYS = ("tag_name", "text", "href", "selector")
GROUP_TYPES = ("AND", "OR")

# PropertyDefinition.type of each filter type (the key of HogQLContext.property_types).
_DEFINITION_TYPE = {"event": 1, "person": 2, "group": 3}
_SESSION_KINDS = {schema.INTEGER: "Numeric", schema.BOOLEAN: "Boolean", schema.DATETIME: "DateTime"}
_FILTER_KEYS = {"type", "key", "value", "operator", "label"}
_EXTRA_KEYS = {"group": {"group_type_index"}, "cohort": {"cohort_name"}}
_COMPARE = {"gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}
_DATE_COMPARE = {"is_date_exact": exp.EQ, "is_date_before": exp.LT, "is_date_after": exp.GT}


class PropertyFilterError(HogQLQueryError):
    """A property filter that cannot be translated; `attr` is the path to it (`0__values__1__operator`)."""

    code_name = "invalid_property_filter"

    def __init__(self, message: str, path: Sequence[str | int] = ()):
        super().__init__(message)
        self.path = tuple(path)

    @property
    def attr(self) -> str:
        return "__".join(str(p) for p in self.path)


@dataclass(frozen=True)
class FilterContext:
    scope: str = "event"
    property_types: Mapping[tuple[int, str], str] = field(default_factory=dict)
    timezone: str = "UTC"
    now: dt.datetime | None = None  # relative dates resolve against this (default: the current time; naive = UTC)
    path_cleaning_filters: Sequence[Mapping[str, str]] = ()  # the team's [{"regex", "alias"}]


def property_filters_to_expr(
    filters: Any,
    *,
    scope: str = "event",
    property_types: Mapping[tuple[int, str], str] | None = None,
    timezone: str = "UTC",
    now: dt.datetime | None = None,
    path_cleaning_filters: Sequence[Mapping[str, str]] = (),
) -> exp.Expression:
    """`filters` is a list of filters/groups (ANDed), one group `{"type": "AND"|"OR", "values": […]}`, one
    filter, or None/[]/{} (→ `true`). `property_types` is `(PropertyDefinition.type, name) → property_type`
    as in `HogQLContext.property_types`: Numeric/DateTime/Boolean properties compare as such."""
    if scope not in SCOPES:
        raise ValueError(f"unknown property filter scope {scope!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise PropertyFilterError(f"Unknown timezone: {timezone}") from None
    ctx = FilterContext(scope, property_types or {}, timezone, now, path_cleaning_filters)
    return _node_to_expr(filters, ctx, ())


def validate_property_filters(filters: Any, *, scope: str = "event") -> None:
    """Raise PropertyFilterError if `filters` could not be translated (types, operators, values)."""
    property_filters_to_expr(filters, scope=scope)


# ---------------------------------------------------------------------------------------------------
# groups


def _node_to_expr(node: Any, ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    if node is None:
        return exp.true()
    if isinstance(node, list):
        return _and([_node_to_expr(item, ctx, (*path, i)) for i, item in enumerate(node)])
    if not isinstance(node, dict):
        raise PropertyFilterError(f"A property filter must be an object, got {type(node).__name__}", path)
    if not node:
        return exp.true()  # PostHog treats an empty saved filter as no filter
    if "values" in node and node.get("type") not in FILTER_TYPES + NOT_YET_TYPES + UNSUPPORTED_TYPES:
        return _group_to_expr(node, ctx, path)
    return _filter_to_expr(node, ctx, path)


def _group_to_expr(node: dict[str, Any], ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    kind = node.get("type")
    if kind not in GROUP_TYPES:
        raise PropertyFilterError(f'PropertyGroupFilter of unknown type "{kind}"', (*path, "type"))
    extra = sorted(set(node) - {"type", "values"})
    if extra:
        raise PropertyFilterError(f'Unknown field "{extra[0]}" in a property group', (*path, extra[0]))
    values = node["values"]
    if not isinstance(values, list):
        raise PropertyFilterError("A property group's values must be a list", (*path, "values"))
    members = [_node_to_expr(item, ctx, (*path, "values", i)) for i, item in enumerate(values)]
    return _and(members) if kind == "AND" else _or(members)


def _is_true(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is True


def _is_false(node: exp.Expression) -> bool:
    return isinstance(node, exp.Boolean) and node.this is False


def _and(items: list[exp.Expression]) -> exp.Expression:
    items = [i for i in items if not _is_true(i)]
    if any(_is_false(i) for i in items):
        return exp.false()
    if not items:
        return exp.true()
    return items[0] if len(items) == 1 else exp.and_(*items, copy=False)


def _or(items: list[exp.Expression]) -> exp.Expression:
    if not items:
        return exp.true()  # an empty group filters nothing, whatever its type
    if any(_is_true(i) for i in items):
        return exp.true()
    items = [i for i in items if not _is_false(i)] or [exp.false()]
    return items[0] if len(items) == 1 else exp.or_(*items, copy=False)


# ---------------------------------------------------------------------------------------------------
# one filter


def _filter_to_expr(item: dict[str, Any], ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    kind = item.get("type", "event")
    if kind in NOT_YET_TYPES:
        raise PropertyFilterError(
            f"Property filters of type '{kind}' are not supported yet: this project has no {kind}s",
            (*path, "type"),
        )
    if kind in UNSUPPORTED_TYPES:
        raise PropertyFilterError(f"Property filters of type '{kind}' are not supported", (*path, "type"))
    if kind not in FILTER_TYPES:
        raise PropertyFilterError(f"Unknown property filter type '{kind}'", (*path, "type"))
    extra = sorted(set(item) - _FILTER_KEYS - _EXTRA_KEYS.get(kind, set()))
    if extra:
        raise PropertyFilterError(f"Unknown field '{extra[0]}' in a {kind} property filter", (*path, extra[0]))
    if kind == "flag":
        return exp.true()  # flag filters only narrow feature-flag usage lists; PostHog reads them as true
    if kind == "cohort":
        return _cohort_expr(item, ctx, path)
    key = item.get("key")
    if not isinstance(key, str) or not key.strip():
        raise PropertyFilterError(f"A {kind} property filter needs a non-empty string key", (*path, "key"))
    if kind == "hogql":
        return _hogql_expr(key, (*path, "key"))
    operator = item.get("operator") or "exact"
    if not isinstance(operator, str) or operator not in vocabulary.QUERY_PROPERTY_OPERATORS:
        if operator in vocabulary.UNIMPLEMENTED_OPERATORS:
            raise PropertyFilterError(f"PropertyOperator {operator} not implemented", (*path, "operator"))
        raise PropertyFilterError(f"Unknown property operator '{operator}'", (*path, "operator"))
    operator = vocabulary.NUMERIC_ALIASES.get(operator, operator)
    value = item.get("value")
    _check_value(value, operator, (*path, "value"))
    if kind == "element":
        if ctx.scope != "event":
            raise PropertyFilterError(f"The 'element' property filter does not work in '{ctx.scope}' scope", path)
        return _element_expr(key, operator, value, ctx, path)
    target, value_kind = _target(kind, key, item, ctx, path)  # checks the scope first
    if kind == "person" and key == "distinct_id":
        return _distinct_id_expr(operator, value, ctx, path)
    return _compare(target, operator, value, value_kind, ctx, path)


COHORT_OPERATORS = {"in": False, "exact": False, "not_in": True}  # → negated; `exact`: older saved filters


def _cohort_expr(item: dict[str, Any], ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    """`{"type": "cohort", "key": "id", "value": <cohort id>, "operator": "in"|"not_in"}` → the person (event
    scope: the event's person) `IN COHORT <id>`; the cohort is looked up when the query compiles."""
    if item.get("key", "id") != "id":
        raise PropertyFilterError('A cohort property filter\'s key must be "id"', (*path, "key"))
    value = item.get("value")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PropertyFilterError("Cohort property value must be a cohort ID", (*path, "value"))
    operator = item.get("operator") or "in"
    if operator not in COHORT_OPERATORS:
        raise PropertyFilterError(
            f"A cohort property filter's operator must be in or not_in, not {operator}", (*path, "operator")
        )
    person = exp.column("id") if ctx.scope == "person" else exp.column("person_id")
    return in_cohort(person, value, negated=COHORT_OPERATORS[operator])


def _check_value(value: Any, operator: str, path: tuple[str | int, ...]) -> None:
    scalars = (str, int, float, bool)
    ok = value is None or isinstance(value, scalars)
    if isinstance(value, list):
        ok = all(isinstance(v, scalars) for v in value)
    if not ok:
        raise PropertyFilterError("A property filter value must be a string, number, boolean or a list of them", path)
    if operator in vocabulary.SET_OPERATORS:
        return
    if value is None:
        if operator in vocabulary.RANGE_OPERATORS:
            raise PropertyFilterError(f"{operator} operator requires a two-element array [min, max]", path)
        raise PropertyFilterError(f"The {operator} operator needs a value", path)


def _target(
    kind: str, key: str, item: dict[str, Any], ctx: FilterContext, path: tuple[str | int, ...]
) -> tuple[exp.Expression, str | None]:
    """The HogQL the filter reads, and its type (Numeric, DateTime, Boolean or None for a string)."""
    if ctx.scope == "person" and kind != "person":
        raise PropertyFilterError(f"The '{kind}' property filter does not work in 'person' scope", path)
    if kind == "event":
        if key == "$elements_chain":
            return exp.column("elements_chain"), None
        return _property(exp.column("properties"), key), ctx.property_types.get((1, key))
    if kind == "person":
        base = exp.column("properties") if ctx.scope == "person" else exp.column("properties", table="person")
        return _property(base, key), ctx.property_types.get((2, key))
    if kind == "session":
        spec = schema.SESSIONS.fields.get(key)
        if spec is None:
            known = ", ".join(sorted(f.name for f in schema.SESSIONS.fields.values() if not f.hidden))
            raise PropertyFilterError(f"Unknown session property '{key}'; known: {known}", (*path, "key"))
        if spec.kind == schema.ARRAY:
            raise PropertyFilterError(f"Session property '{key}' is a list and cannot be filtered on", (*path, "key"))
        return exp.column(key, table="session"), _SESSION_KINDS.get(spec.kind)
    # group
    index = item.get("group_type_index")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 4:
        raise PropertyFilterError("A group property filter needs group_type_index 0 to 4", (*path, "group_type_index"))
    return _property(exp.column("properties", table=f"group_{index}"), key), ctx.property_types.get((3, key))


def _property(base: exp.Expression, key: str) -> exp.Expression:
    return exp.Bracket(this=base, expressions=[exp.Literal.string(key)])


def _hogql_expr(text: str, path: tuple[str | int, ...]) -> exp.Expression:
    """A `hogql` filter's key is one boolean HogQL expression (parsed here, so nothing else rides along)."""
    try:
        select = parse_select(f"SELECT {text}")
    except HogQLSyntaxError as error:
        raise PropertyFilterError(f"Invalid HogQL in property filter: {error}", path) from None
    others = [k for k, v in select.args.items() if k != "expressions" and v]
    if not isinstance(select, exp.Select) or others or len(select.expressions) != 1:
        raise PropertyFilterError("A hogql property filter must be exactly one expression", path)
    node = select.expressions[0]
    if isinstance(node, exp.Alias):
        raise PropertyFilterError("A hogql property filter must be exactly one expression", path)
    if any(isinstance(n, exp.Anonymous) and n.name == PLACEHOLDER_FUNCTION for n in node.walk()):
        raise PropertyFilterError("Placeholders are not allowed in a hogql property filter", path)
    node.pop()
    return node


# ---------------------------------------------------------------------------------------------------
# operators


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _combine(operator: str, parts: list[exp.Expression]) -> exp.Expression:
    return _and(parts) if operator in vocabulary.NEGATIVE_OPERATORS else _or(parts)


def _typed_const(value: Any, kind: str | None, ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    """The filter value as a constant of the property's type."""
    if kind == "Numeric":
        return const(_number(value, path))
    if kind == "Boolean":
        if isinstance(value, bool):
            return exp.true() if value else exp.false()
        text = str(value).strip().lower()
        if text not in {"true", "false"}:
            raise PropertyFilterError(f"Value '{value}' is not a boolean (true or false)", path)
        return exp.true() if text == "true" else exp.false()
    if kind == "DateTime":
        return _date_const(_resolve_date(value, ctx, path).moment)
    if isinstance(value, bool):
        return exp.Literal.string("true" if value else "false")
    return exp.Literal.string(str(value))


def _number(value: Any, path: tuple[str | int, ...]) -> float | int:
    if isinstance(value, bool):
        raise PropertyFilterError(f"Value '{value}' is not a number", path)
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        raise PropertyFilterError(f"Value '{value}' is not a number", path) from None
    return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", str(value).strip()) else number


def _text(target: exp.Expression, kind: str | None) -> exp.Expression:
    return target if kind is None else call("toString", target)


def _like_pattern(value: Any) -> str:
    text = "true" if value is True else "false" if value is False else str(value)
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _compare(
    target: exp.Expression,
    operator: str,
    value: Any,
    kind: str | None,
    ctx: FilterContext,
    path: tuple[str | int, ...],
) -> exp.Expression:
    vpath = (*path, "value")
    if operator == "is_set":
        return call("isNotNull", target)
    if operator == "is_not_set":
        return call("isNull", target)
    if operator in vocabulary.RANGE_OPERATORS:
        return _range(target, operator, value, kind, vpath)
    values = _values(value)
    if operator in {"exact", "is_not", "in", "not_in"}:
        positive = operator in {"exact", "in"}
        if not values:
            return exp.true() if operator in {"exact", "is_not", "not_in"} else exp.false()
        if len(values) == 1:
            right = _typed_const(values[0], kind, ctx, (*vpath, 0) if isinstance(value, list) else vpath)
            return exp.EQ(this=target, expression=right) if positive else exp.NEQ(this=target, expression=right)
        consts = [_typed_const(v, kind, ctx, (*vpath, i)) for i, v in enumerate(values)]
        member = exp.In(this=target, expressions=consts)
        return member if positive else call("ifNull", exp.not_(member), exp.Literal.number(1))
    parts = [_one(target, operator, v, kind, ctx, (*vpath, i) if isinstance(value, list) else vpath)
             for i, v in enumerate(values)]  # fmt: skip
    return _combine(operator, parts)


def _one(
    target: exp.Expression,
    operator: str,
    value: Any,
    kind: str | None,
    ctx: FilterContext,
    path: tuple[str | int, ...],
) -> exp.Expression:
    target = target.copy()
    if operator in vocabulary.CONTAINS_OPERATORS:
        cond = exp.ILike(this=_text(target, kind), expression=exp.Literal.string(_like_pattern(value)))
        return cond if operator == "icontains" else call("ifNull", exp.not_(cond), exp.Literal.number(1))
    if operator in vocabulary.REGEX_OPERATORS:
        try:
            re.compile(str(value))  # RE2 (ClickHouse) is stricter still; this catches the plainly broken
        except re.error as error:
            raise PropertyFilterError(f"Invalid regex '{value}': {error}", path) from None
        cond = call("match", _text(target, kind), exp.Literal.string(str(value)))
        return cond if operator == "regex" else call("ifNull", exp.not_(cond), exp.Literal.number(1))
    if operator in _COMPARE:
        return _COMPARE[operator](this=target, expression=_typed_const(value, kind, ctx, path))
    if operator in _DATE_COMPARE:
        return _date_compare(target, operator, value, kind, ctx, path)
    if operator == "is_cleaned_path_exact":
        return exp.EQ(this=_clean_path(_text(target, kind), ctx, path), expression=exp.Literal.string(str(value)))
    raise PropertyFilterError(f"PropertyOperator {operator} not implemented", path)  # pragma: no cover


def _range(
    target: exp.Expression, operator: str, value: Any, kind: str | None, path: tuple[str | int, ...]
) -> exp.Expression:
    if not isinstance(value, list) or len(value) != 2:
        raise PropertyFilterError(f"{operator} operator requires a two-element array [min, max]", path)
    try:
        low, high = (_number(v, path) for v in value)
    except PropertyFilterError:
        raise PropertyFilterError(f"{operator} operator requires numeric values", path) from None
    if low > high:
        raise PropertyFilterError(f"{operator} operator requires min value to be less than or equal to max value", path)
    number = target if kind == "Numeric" else call("toFloat", target)
    if operator == "between":
        return exp.and_(
            exp.GTE(this=number, expression=const(low)), exp.LTE(this=number.copy(), expression=const(high))
        )
    return exp.or_(exp.LT(this=number, expression=const(low)), exp.GT(this=number.copy(), expression=const(high)))


def _clean_path(node: exp.Expression, ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    for i, rule in enumerate(ctx.path_cleaning_filters):
        regex, alias = rule.get("regex"), rule.get("alias")
        if not isinstance(regex, str) or not isinstance(alias, str):
            raise PropertyFilterError("Path cleaning rules need a regex and an alias", (*path, i))
        node = call("replaceRegexpAll", node, exp.Literal.string(regex), exp.Literal.string(alias))
    return node


# ---------------------------------------------------------------------------------------------------
# dates


def _date_compare(
    target: exp.Expression,
    operator: str,
    value: Any,
    kind: str | None,
    ctx: FilterContext,
    path: tuple[str | int, ...],
) -> exp.Expression:
    parsed = _resolve_date(value, ctx, path)
    moment, date_only = parsed.moment, parsed.date_only
    left = call("toDateTime", target)
    right = _date_const(moment)
    if operator == "is_date_exact" and date_only:
        return exp.EQ(this=call("toDate", left), expression=exp.Literal.string(moment.strftime("%Y-%m-%d")))
    return _DATE_COMPARE[operator](this=left, expression=right)


def _date_const(moment: dt.datetime) -> exp.Expression:
    """A team-local moment; the compiler parses `toDateTime('…')` in the team timezone."""
    return call("toDateTime", exp.Literal.string(moment.strftime("%Y-%m-%d %H:%M:%S.%f")))


def _resolve_date(value: Any, ctx: FilterContext, path: tuple[str | int, ...]) -> ParsedDate:
    """A filter date (`2024-01-31`, `-7d`, `-1mStart`, …) in the team timezone, by query.dates."""
    try:
        return parse_date(value, ctx.timezone, ctx.now)
    except DateRangeError as error:
        raise PropertyFilterError(error.message, path) from None


# ---------------------------------------------------------------------------------------------------
# person distinct_id, elements


def _distinct_id_expr(operator: str, value: Any, ctx: FilterContext, path: tuple[str | int, ...]) -> exp.Expression:
    """`person` `distinct_id`: the person owning *any* distinct id that matches (negative operators: no
    distinct id of the person matches the positive form)."""
    negated = {"is_not": "exact", "not_icontains": "icontains", "not_regex": "regex", "not_in": "in"}
    positive = negated.get(operator, operator)
    if operator == "is_not_set":
        return exp.false()  # every person has at least one distinct id
    condition = _compare(exp.column("distinct_id"), positive, value, None, ctx, path)
    subquery = exp.select("person_id").from_("person_distinct_ids").where(condition)
    person = exp.column("id") if ctx.scope == "person" else exp.column("person_id")
    member = exp.In(this=person, query=exp.Subquery(this=subquery))
    return exp.not_(member) if operator in negated else member


_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$\-/])")


def _regex_escape(text: str) -> str:
    """Escape for RE2 (only punctuation is escaped: RE2 rejects `\\` before letters and spaces)."""
    return _REGEX_SPECIAL.sub(r"\\\1", text)


def _chain_escape(text: str) -> str:
    """Values inside elements_chain are stored with `\\` and `"` backslash-escaped."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _element_expr(
    key: str, operator: str, value: Any, ctx: FilterContext, path: tuple[str | int, ...]
) -> exp.Expression:
    if key not in ELEMENT_KEYS:
        raise PropertyFilterError(
            f"Unknown element property '{key}': use one of {', '.join(ELEMENT_KEYS)}", (*path, "key")
        )
    chain = exp.column("elements_chain")
    if key in {"selector", "tag_name"}:
        if operator not in vocabulary.EQUALITY_OPERATORS:
            raise PropertyFilterError(
                f"property_to_expr for element {key} only supports exact and is_not operators, not {operator}",
                (*path, "operator"),
            )
        parts = []
        for i, item in enumerate(_values(value)):
            vpath = (*path, "value", i) if isinstance(value, list) else (*path, "value")
            regex = _selector_regex(str(item), vpath) if key == "selector" else _tag_regex(str(item), vpath)
            cond = call("match", chain.copy(), exp.Literal.string(regex))
            parts.append(cond if operator == "exact" else exp.not_(cond))
        return _combine(operator, parts)
    # text / href: compare against the attribute's value on every element of the chain
    extracted = call("extractAll", chain, exp.Literal.string(f'[:"]{key}="((?:[^"\\\\]|\\\\.)*)"'))
    if operator in vocabulary.SET_OPERATORS:
        present = exp.GT(this=call("length", extracted), expression=exp.Literal.number(0))
        return present if operator == "is_set" else exp.not_(present)
    negated = {"is_not": "exact", "not_icontains": "icontains", "not_regex": "regex", "not_in": "in"}
    positive = negated.get(operator, operator)
    stored = [_chain_escape(str(v)) for v in _values(value)] if positive in {"exact", "in", "icontains"} else value
    if not isinstance(value, list) and isinstance(stored, list):
        stored = stored[0]
    condition = _compare(exp.column("x"), positive, stored, None, ctx, path)
    exists = call("arrayExists", exp.Lambda(this=condition, expressions=[exp.to_identifier("x")]), extracted)
    return exp.not_(exists) if operator in negated else exists


def _tag_regex(tag: str, path: tuple[str | int, ...]) -> str:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", tag):
        raise PropertyFilterError(f"Invalid tag name '{tag}'", path)
    return f"(^|;){_regex_escape(tag)}([.:;]|$)"


_COMPOUND = re.compile(
    r"(?P<tag>[A-Za-z][A-Za-z0-9-]*|\*)?"
    r"(?P<rest>(?:\.[A-Za-z0-9_-]+|#[A-Za-z0-9_-]+|:nth-child\(\d+\)"
    r"|\[[A-Za-z0-9_-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\]\"']*))?\])*)"
)
_SIMPLE = re.compile(
    r"\.(?P<cls>[A-Za-z0-9_-]+)|#(?P<id>[A-Za-z0-9_-]+)|:nth-child\((?P<nth>\d+)\)"
    r"|\[(?P<attr>[A-Za-z0-9_-]+)(?:=(?P<val>[^\]]*))?\]"
)


def _selector_regex(selector: str, path: tuple[str | int, ...]) -> str:
    """A CSS selector (tags, `.class`, `#id`, `[attr="v"]`, `:nth-child(n)`, descendant ` ` and child `>`
    combinators; `> *` fragments are dropped, as PostHog's) → a regex over elements_chain (clicked element
    first, then its ancestors)."""
    text = re.sub(r"\s*>\s*\*(?=\s|$)", "", selector).strip()
    if not text:
        raise PropertyFilterError("An element selector cannot be empty", path)
    compounds: list[tuple[str, str]] = []  # (combinator before it, element regex), outermost first
    combinator, position = " ", 0
    while position < len(text):
        match = _COMPOUND.match(text, position)
        if match is None or match.end() == position:
            raise PropertyFilterError(f"Unsupported element selector '{selector}' near '{text[position:]}'", path)
        compounds.append((combinator, _element_regex(match.group("tag"), match.group("rest"))))
        position = match.end()
        gap = re.match(r"\s*(>)?\s*", text[position:])
        assert gap is not None
        if position + gap.end() < len(text) and gap.end() == 0:
            raise PropertyFilterError(f"Unsupported element selector '{selector}' near '{text[position:]}'", path)
        combinator = ">" if gap.group(1) else " "
        position += gap.end()
    if combinator == ">" and text.rstrip().endswith(">"):
        raise PropertyFilterError(f"Unsupported element selector '{selector}'", path)
    # The chain lists the innermost element first: walk the selector from its last compound.
    regex = "(^|;)" + compounds[-1][1]
    for i in range(len(compounds) - 1, 0, -1):
        link = ";" if compounds[i][0] == ">" else ";([^;]*;)*?"
        regex += link + compounds[i - 1][1]
    return regex + "(;|$)"


def _element_regex(tag: str | None, rest: str) -> str:
    classes, attrs = [], {}
    for simple in _SIMPLE.finditer(rest):
        if simple.group("cls"):
            classes.append(simple.group("cls"))
        elif simple.group("id"):
            attrs["attr_id"] = simple.group("id")
        elif simple.group("nth"):
            attrs["nth-child"] = simple.group("nth")
        else:
            raw = simple.group("val")
            value = raw[1:-1] if raw and raw[0] in "\"'" and raw[-1] == raw[0] and len(raw) > 1 else raw
            attrs[f"attr__{simple.group('attr')}"] = value
    regex = _regex_escape(tag) if tag and tag != "*" else "[^.:;]*"
    for name in sorted(set(classes)):
        regex += r"(\.[^.:;]*)*?\." + _regex_escape(name)
    regex += r"(\.[^.:;]*)*"
    if attrs:
        regex += ":"
        for name in sorted(attrs):
            value = attrs[name]
            wanted = '"[^;]*?"' if value is None else '"' + _regex_escape(_chain_escape(value)) + '"'
            regex += '([^;]*?")?' + _regex_escape(name) + "=" + wanted
        regex += "[^;]*"
    else:
        regex += "(:[^;]*)?"
    return regex
