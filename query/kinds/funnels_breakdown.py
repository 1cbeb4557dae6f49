"""Funnel breakdowns (reference §3.6): a breakdown value per actor by attribution, the steps per value.

Each event read carries its value as an array of strings (one per breakdown part; NULL → `""`), so values are
boxed as PostHog's funnels box them (`["Chrome"]`, missing `[""]`). Per actor (`breakdown_actor_rows`):

- `first_touch` (default) / `last_touch`: the first / last non-empty value over the actor's step events (none:
  `[""]`);
- `step` + `breakdownAttributionValue` k: the value on the actor's first event satisfying step k;
- `all_events`: the funnel runs per (actor, value) over only the events carrying that value, so an actor may
  count under several values.

Values past `breakdown_limit` (25; ranked by actors entering, then value) become `["Other"]`: a second query
relabels them so the Other bucket's times are computed over its actors. Results are one step list per value,
ordered by last-step count desc, then earlier steps (ties: real values, missing, Other; then by value).
A cohort breakdown runs the funnel once per cohort (its persons only): `breakdown` = the cohort's name,
`breakdown_value` = its id (`0` = all users).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from query.hogql.ast import in_cohort
from query.hogql.parser import to_hogql
from query.kinds.breakdown import ALL_USERS, BREAKDOWN_LIMIT, BREAKDOWN_NULL, parse_breakdown, resolve_cohorts
from query.kinds.funnels_engine import actor_rows, event_rows, path_expr

OTHER = "Other"


def _escape(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _value_expr(context: Any) -> str:
    """The event's breakdown value: an array of strings, one per part, missing → ""."""
    breakdown = parse_breakdown(context.query.get("breakdownFilter"))
    parts = [f"if({to_hogql(e)} = {_escape(BREAKDOWN_NULL)}, '', {to_hogql(e)})" for e in breakdown.exprs()]
    return f"[{', '.join(parts)}]"


def _attributed(context: Any, spec: Any) -> str:
    """The per-actor aggregate picking its value (first_touch, last_touch, step k)."""
    funnels = context.funnels
    attribution = funnels.get("breakdownAttributionType") or "first_touch"
    n = len(spec.steps)
    is_step = f"bitAnd(mask, {(1 << n) - 1}) != 0" if spec.uses_mask else "arrayExists(s -> s >= 0, steps)"
    non_empty = "arrayExists(x -> x != '', prop)"
    empty = "arrayMap(x -> '', prop)"  # [""] per part
    if attribution == "step":
        k = funnels.get("breakdownAttributionValue") or 0
        on_step = f"bitAnd(mask, {1 << int(k)}) != 0" if spec.uses_mask else f"has(steps, {int(k)})"
        return f"argMinIf(prop, ts, {on_step})"
    pick = "argMaxIf" if attribution == "last_touch" else "argMinIf"
    chosen = f"{pick}(prop, ts, {is_step} AND {non_empty})"
    return f"if(countIf({is_step} AND {non_empty}) > 0, {chosen}, any({empty}))"


def breakdown_actor_rows(context: Any, extra_where: str | None = None) -> str:
    """`SELECT aggregation_target, breakdown_value, path …`: one row per actor (per actor and value for
    all_events)."""
    spec = context.spec(extras=(("prop", _value_expr(context)),))
    if extra_where:
        spec = type(spec)(**{**spec.__dict__, "where": f"{spec.where} AND {extra_where}"})
    if (context.funnels.get("breakdownAttributionType") or "first_touch") == "all_events":
        return f"SELECT aggregation_target, prop AS breakdown_value, path FROM ({actor_rows(spec, ['prop'])})"
    return (
        f"SELECT aggregation_target, {_attributed(context, spec)} AS breakdown_value, {path_expr(spec)} AS path "
        f"FROM ({event_rows(spec)}) GROUP BY aggregation_target"
    )


def _by_value(context: Any, rows: str, top: list[list[str]] | None) -> str:
    value = "breakdown_value"
    if top is not None:
        boxed = ", ".join("[" + ", ".join(_escape(v) for v in key) + "]" for key in top)
        value = f"if(has([{boxed}], breakdown_value), breakdown_value, ['{OTHER}'])" if top else f"['{OTHER}']"
    aggregates = ", ".join(context.step_aggregates())
    return f"SELECT {value} AS bv, {aggregates} FROM ({rows}) GROUP BY bv"


def _limit(context: Any) -> int:
    limit = (context.query.get("breakdownFilter") or {}).get("breakdown_limit")
    return int(limit) if isinstance(limit, int) and limit > 0 else BREAKDOWN_LIMIT


def _order(items_by_value: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    def key(items: list[dict[str, Any]]) -> tuple:
        value = items[0]["breakdown_value"]  # ties: real values, then missing ([""]), then Other; by value
        rank = 2 if value == [OTHER] else 1 if isinstance(value, list) and not any(value) else 0
        return (tuple(-item["count"] for item in reversed(items)), rank, value)

    return sorted(items_by_value, key=key)


def _value_results(context: Any) -> list[list[dict[str, Any]]]:
    rows = breakdown_actor_rows(context)
    found = [r for r in context.execute(_by_value(context, rows, None)) if r[1]]
    limit = _limit(context)
    if len(found) > limit:  # past the limit: relabel as Other, so its times are over its own actors
        ranked = sorted(found, key=lambda r: (-r[1], list(r[0])))
        found = [r for r in context.execute(_by_value(context, rows, [list(r[0]) for r in ranked[:limit]])) if r[1]]
    out = []
    for row in found:
        value = list(row[0])
        items = context.step_items(row[1:])
        for item in items:
            item.update(breakdown=value, breakdown_value=value)
        out.append(items)
    return out


def _cohort_results(context: Any) -> list[list[dict[str, Any]]]:
    breakdown = resolve_cohorts(parse_breakdown(context.query.get("breakdownFilter")), context.team.pk)
    names = dict(breakdown.cohort_names)
    out = []
    for key, _condition in breakdown.cohort_filters():
        where = None if key == ALL_USERS else to_hogql(in_cohort(exp.column("person_id"), int(key)))
        spec = context.spec()
        if where:
            spec = type(spec)(**{**spec.__dict__, "where": f"{spec.where} AND {where}"})
        rows = context.execute(f"SELECT {', '.join(context.step_aggregates())} FROM ({actor_rows(spec)})")
        if not rows or not rows[0][0]:
            continue
        items = context.step_items(rows[0])
        value = 0 if key == ALL_USERS else int(key)
        for item in items:
            item.update(breakdown=names.get(key, key), breakdown_value=value)
        out.append(items)
    return out


def run_breakdown_steps(context: Any) -> list[list[dict[str, Any]]]:
    breakdown = parse_breakdown(context.query.get("breakdownFilter"))
    if breakdown.cohorts:
        return _order(_cohort_results(context))
    return _order(_value_results(context))
