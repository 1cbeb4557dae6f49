"""`breakdownFilter` of the insight kinds (reference §1.7): what it asks (`parse_breakdown`, a 400 naming the
problem), the HogQL value of each breakdown per event (`Breakdown.exprs`), and the Trends rules over the values
(ranking, labels; `query.kinds.ranking` merges the values past the limit in SQL, `restrict` is the two-query
form for what it cannot merge). Funnels reuse it.

A breakdown has one part (`breakdown`, `breakdown_type`, `breakdown_normalize_url`,
`breakdown_histogram_bin_count`) or up to three (`breakdowns: [{type, property, normalize_url?,
histogram_bin_count?}]`). A part's value is `toString(value)`, NULL and `""` → the null marker; an `event`,
`person` or `session` part reads `properties.<key>`, `person.properties.<key>` or `session.<key>`, a `hogql`
part is a HogQL expression. Boolean-typed properties read `"true"`/`"false"` (the compiler types them as Bool,
whose text that is; PostHog's 1/0 never arises). A value key is a
string for one part and a tuple of strings for several (the response's `breakdown_value` is then a list).
Histogram parts put numbers into `bin_count` equal bins between the series' min and max (`histogram_bins`),
labelled `"[low,high]"`. A `cohort` breakdown (`breakdown_type: "cohort"`, `breakdown: [ids… or "all"]`) is
not a value per event but one series per cohort, its events those of the cohort's persons (`cohort_filters`;
`"all"`: every event); it has no other bucket, `breakdown_value` is the id (or `"all"`), the label the cohort's
name (`"all users"`). `group` breakdowns are refused for now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from query.hogql import schema
from query.hogql.ast import call, in_cohort
from query.kinds.hogql_expr import ExpressionError, parse_expression
from query.references import find_cohort

BREAKDOWN_NULL = "$$_posthog_breakdown_null_$$"
BREAKDOWN_OTHER = "$$_posthog_breakdown_other_$$"
BREAKDOWN_LIMIT = 25
WORLD_MAP_BREAKDOWN_LIMIT = 300
MAX_BREAKDOWNS = 3
MAX_HISTOGRAM_BINS = 100  # one multiIf branch each; PostHog's UI offers up to 100 too
BREAKDOWN_TYPES = ("event", "person", "session", "hogql", "cohort")
ALL_USERS = "all"  # the cohort breakdown value of every person (PostHog's cohort id 0)
ALL_USERS_LABEL = "all users"
_NOT_YET = {"group": "Group breakdowns are not supported yet"}
_PART_KEYS = {"type", "property", "normalize_url", "histogram_bin_count", "group_type_index"}

Key = str | tuple[str, ...]


class BreakdownError(ValueError):
    """A breakdownFilter that cannot run; the message names the problem."""


@dataclass(frozen=True)
class BreakdownPart:
    type: str
    property: str
    normalize_url: bool = False
    histogram_bin_count: int | None = None


@dataclass(frozen=True)
class Breakdown:
    parts: tuple[BreakdownPart, ...]
    multiple: bool  # `breakdowns` (values are lists) rather than `breakdown`
    limit: int | None = None
    hide_other: bool = False
    cohorts: tuple[int | str, ...] = ()  # a cohort breakdown: ids and "all", as asked
    cohort_names: tuple[tuple[str, str], ...] = ()  # (key, label), filled by `resolve_cohorts`

    @property
    def aliases(self) -> list[str]:
        if not self.multiple:
            return ["breakdown_value"]
        return [f"breakdown_value_{i}" for i in range(1, len(self.parts) + 1)]

    @property
    def other(self) -> Key:
        return tuple(BREAKDOWN_OTHER for _ in self.parts) if self.multiple else BREAKDOWN_OTHER

    def key(self, values: Sequence[Any]) -> Key:
        """The key of one result row's breakdown columns."""
        texts = tuple("" if v is None else str(v) for v in values)
        return texts if self.multiple else texts[0]

    def value(self, key: Key) -> str | int | list[str]:
        """`breakdown_value` of a response item."""
        if self.cohorts:
            return key if key == ALL_USERS else int(str(key))
        return list(key) if isinstance(key, tuple) else key

    def label(self, key: Key) -> str:
        if self.cohorts:
            return dict(self.cohort_names).get(str(key), str(key))
        return "::".join(key) if isinstance(key, tuple) else key

    def cohort_filters(self) -> list[tuple[str, exp.Expression | None]]:
        """A cohort breakdown's series: (key, the condition on its events; None for all users)."""
        return [
            (str(ref), None if ref == ALL_USERS else in_cohort(exp.column("person_id"), ref)) for ref in self.cohorts
        ]

    def rank(self, totals: Mapping[Key, float]) -> list[Key]:
        """Real values, then values holding the null marker, then the other bucket; each by total desc, value."""
        return sorted(totals, key=lambda k: (_class(k), -totals[k], k))

    def exprs(self, bins: Mapping[int, list[tuple[float, float]]] | None = None) -> list[exp.Expression]:
        """Each part's value per event (bins: part index → histogram bins, for histogram parts)."""
        return [_part_expr(part, (bins or {}).get(i)) for i, part in enumerate(self.parts)]

    def numbers(self) -> dict[int, exp.Expression]:
        """Histogram parts: index → the number their bins are over."""
        return {i: call("toFloat", _raw(p)) for i, p in enumerate(self.parts) if p.histogram_bin_count is not None}


def _class(key: Key) -> int:
    parts = key if isinstance(key, tuple) else (key,)
    return 2 if BREAKDOWN_OTHER in parts else 1 if BREAKDOWN_NULL in parts else 0


def restrict(exprs: Sequence[exp.Expression], top: Iterable[Key], multiple: bool) -> list[exp.Expression]:
    """The values again, with every value outside `top` replaced by the other marker (in every part): a second
    query's breakdown, for maths `query.kinds.ranking` cannot merge."""
    top = list(top)
    other = exp.Literal.string(BREAKDOWN_OTHER)
    if not top:
        return [other.copy() for _ in exprs]
    if multiple:
        rows = [exp.Array(expressions=[exp.Literal.string(v) for v in key]) for key in top]
        inside = call("has", exp.Array(expressions=rows), exp.Array(expressions=[e.copy() for e in exprs]))
    else:
        inside = exp.In(this=exprs[0].copy(), expressions=[exp.Literal.string(str(v)) for v in top])
    return [exp.If(this=inside.copy(), true=e.copy(), false=other.copy()) for e in exprs]


def histogram_bins(low: float | None, high: float | None, count: int) -> list[tuple[float, float]]:
    """`count` equal bins from `low` to `high`; the last one's top is raised by 0.01 so `high` falls inside
    (values are compared `low <= v < high`). No numbers (NULL bounds) → no bins."""
    if low is None or high is None:
        return []
    width = (high - low) / count
    return [(width * i + low, width * (i + 1) + low + (0.01 if i + 1 == count else 0)) for i in range(count)]


def bin_label(low: float, high: float) -> str:
    """`[low,high]` as ClickHouse prints an array of Float64: 10 not 10.0."""
    return f"[{_number(low)},{_number(high)}]"


def _number(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------------------------------------------
# parsing


def parse_breakdown(value: Mapping[str, Any] | None) -> Breakdown | None:
    """The breakdown a `breakdownFilter` asks for; None without one."""
    if not value:
        return None
    limit = value.get("breakdown_limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise BreakdownError("breakdown_limit must be a positive integer")
    hide_other = bool(value.get("breakdown_hide_other_aggregation"))
    many = value.get("breakdowns")
    if many:
        if not isinstance(many, list):
            raise BreakdownError("breakdowns must be a list")
        if len(many) > MAX_BREAKDOWNS:
            raise BreakdownError(f"At most {MAX_BREAKDOWNS} breakdowns are supported, not {len(many)}")
        parts = tuple(_multiple_part(item, i) for i, item in enumerate(many))
        return Breakdown(parts, multiple=True, limit=limit, hide_other=hide_other)
    if value.get("breakdown") in (None, "", []):
        return None
    if value.get("breakdown_type") == "cohort":
        cohorts = _cohort_refs(value["breakdown"])
        return Breakdown((BreakdownPart("cohort", ""),), multiple=False, cohorts=cohorts)
    part = _part(
        value.get("breakdown_type") or "event",
        value["breakdown"],
        value.get("breakdown_normalize_url"),
        value.get("breakdown_histogram_bin_count"),
        "",
    )
    return Breakdown((part,), multiple=False, limit=limit, hide_other=hide_other)


def _cohort_refs(value: Any) -> tuple[int | str, ...]:
    """`breakdown` of a cohort breakdown: a list of cohort ids and "all" (one value alone is a list of one)."""
    refs: list[int | str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item.strip())
        if item != ALL_USERS and (isinstance(item, bool) or not isinstance(item, int) or item <= 0):
            raise BreakdownError('a cohort breakdown must be a list of cohort IDs or "all"')
        if item not in refs:
            refs.append(item)
    return tuple(refs)


def resolve_cohorts(breakdown: Breakdown | None, team_id: int) -> Breakdown | None:
    """A cohort breakdown with its labels (the cohorts' names); a 400 naming a cohort this project lacks."""
    if breakdown is None or not breakdown.cohorts:
        return breakdown
    names = []
    for ref in breakdown.cohorts:
        if ref == ALL_USERS:
            names.append((ALL_USERS, ALL_USERS_LABEL))
            continue
        cohort = find_cohort(team_id, int(ref))
        names.append((str(ref), cohort["name"] or f"Cohort {ref}"))
    return replace(breakdown, cohort_names=tuple(names))


def _multiple_part(item: Any, index: int) -> BreakdownPart:
    where = f"breakdowns[{index}]"
    if not isinstance(item, dict):
        raise BreakdownError(f"{where} must be an object {{type, property}}")
    unknown = sorted(set(item) - _PART_KEYS)
    if unknown:
        raise BreakdownError(f"Unknown field '{unknown[0]}' in {where}")
    return _part(
        item.get("type") or "event", item.get("property"), item.get("normalize_url"), item.get("histogram_bin_count"),
        f"{where}: ",
    )  # fmt: skip


def _part(kind: Any, prop: Any, normalize_url: Any, bins: Any, where: str) -> BreakdownPart:
    if kind == "cohort":  # only `breakdown` reaches here with its own type: these are `breakdowns`
        raise BreakdownError(
            where + 'Cohort breakdowns cannot be combined with others: use breakdown_type "cohort" and breakdown'
        )
    if kind in _NOT_YET:
        raise BreakdownError(where + _NOT_YET[kind])
    if kind not in BREAKDOWN_TYPES:
        raise BreakdownError(
            f"{where}breakdown type '{kind}' is not supported; use one of {', '.join(BREAKDOWN_TYPES)}"
        )
    if not isinstance(prop, str) or not prop:
        what = "a HogQL expression" if kind == "hogql" else "a property name"
        raise BreakdownError(f"{where}the breakdown must be {what}")
    if normalize_url is not None and not isinstance(normalize_url, bool):
        raise BreakdownError(f"{where}normalize_url must be true or false")
    if bins is not None and (
        isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= MAX_HISTOGRAM_BINS
    ):
        raise BreakdownError(f"{where}histogram_bin_count must be an integer from 1 to {MAX_HISTOGRAM_BINS}")
    part = BreakdownPart(kind, prop, bool(normalize_url), bins)
    try:
        _raw(part)  # a bad expression or session field is a 400 now, not when the query runs
    except ExpressionError as error:
        raise BreakdownError(f"{where}the {kind} breakdown {error}") from None
    return part


# ---------------------------------------------------------------------------------------------------
# values


def _raw(part: BreakdownPart) -> exp.Expression:
    key = exp.Literal.string(part.property)
    if part.type == "hogql":
        return parse_expression(part.property, aggregate=False)
    if part.type == "session":
        spec = schema.SESSIONS.fields.get(part.property)
        if spec is None or spec.hidden or spec.kind == schema.ARRAY:
            known = sorted(f.name for f in schema.SESSIONS.fields.values() if not f.hidden and f.kind != schema.ARRAY)
            raise ExpressionError(f"reads an unknown session property '{part.property}'; known: {', '.join(known)}")
        return exp.column(part.property, table="session")
    table = "person" if part.type == "person" else None
    return exp.Bracket(this=exp.column("properties", table=table), expressions=[key])


def _part_expr(part: BreakdownPart, bins: list[tuple[float, float]] | None) -> exp.Expression:
    if part.histogram_bin_count is not None:
        return _marked(_histogram(call("toFloat", _raw(part)), bins or []))
    text = call("toString", _raw(part))  # a Boolean-typed property is a Bool here: "true"/"false"
    if part.normalize_url:  # trailing / ? # dropped; nothing left is "/"
        trimmed = call("replaceRegexpOne", text, exp.Literal.string("[/?#]+$"), exp.Literal.string(""))
        text = exp.If(this=call("empty", trimmed), true=exp.Literal.string("/"), false=trimmed.copy())
    return _marked(text)


def _marked(text: exp.Expression) -> exp.Expression:
    """NULL and "" → the null marker."""
    return call("ifNull", call("nullIf", text, exp.Literal.string("")), exp.Literal.string(BREAKDOWN_NULL))


def _histogram(number: exp.Expression, bins: list[tuple[float, float]]) -> exp.Expression:
    if not bins:
        return exp.null()
    branches: list[exp.Expression] = []
    for low, high in bins:
        inside = exp.and_(
            exp.GTE(this=number.copy(), expression=_float(low)), exp.LT(this=number.copy(), expression=_float(high))
        )
        branches += [inside, exp.Literal.string(bin_label(low, high))]
    return call("multiIf", *branches, exp.null())


def _float(value: float) -> exp.Expression:
    literal = exp.Literal.number(_number(abs(value)))
    return exp.Neg(this=literal) if value < 0 else literal
