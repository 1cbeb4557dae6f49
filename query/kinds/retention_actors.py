"""The actors of a RetentionQuery cell (reference §9.2): `InsightActorsQuery` with `interval` = the cohort row
(0 = the oldest) and, with a breakdown, `breakdown` = a list holding the row's value (a scalar is PostHog's
§10 error). The rows are the cohort's actors with `appearances` (0 and the sorted offsets of the periods they
came back in) and one boolean per column, `day_0` … `day_<totalIntervals-1>` (`hour_k`, `week_k`, `month_k`
by period): whether the actor counts in that cell (for a cumulative table, every cell up to the furthest
return, so the booleans add up to the table's counts).

`InsightActorsQueryOptions` lists the rows (`interval`: `{"label": "Day 3", "value": 3}`) and the breakdown
values the table shows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.hogql.ast import call, const
from query.hogql.errors import HogQLQueryError
from query.kinds.breakdown import BREAKDOWN_OTHER
from query.kinds.retention import RETENTION_WITHOUT_ACTORS, iso, retention_setup, run_retention_query

SCALAR_BREAKDOWN = "Single breakdowns are not supported, ensure multiple-breakdowns feature flag is enabled"


def _interval(value: Any, rows: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < rows:
        raise HogQLQueryError(
            f"interval must be the index of one of the {rows} cohort rows (0 = the first), not {value!r}"
        )
    return value


def _breakdown_condition(team: Team, query: dict[str, Any], value: Any, limit_context: str) -> exp.Expression | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise HogQLQueryError(SCALAR_BREAKDOWN)
    if not value:
        return None
    if not (query.get("breakdownFilter") or {}):
        raise HogQLQueryError("breakdown was given but the retention query has no breakdown")
    wanted = "" if value[0] is None else str(value[0])
    column = exp.column("breakdown_value")
    if wanted != BREAKDOWN_OTHER:
        return exp.EQ(this=column, expression=exp.Literal.string(wanted))
    shown = {row.get("breakdown_value") for row in run_retention_query(team, query, limit_context)["results"]}
    shown.discard(BREAKDOWN_OTHER)
    return exp.not_(exp.In(this=column, expressions=[exp.Literal.string(str(v)) for v in sorted(shown)]))


def retention_actors(team: Team, query: dict[str, Any], params: dict[str, Any], limit_context: str) -> exp.Select:
    """SELECT actor_id, appearances, day_0 … : the actors of cohort row `interval` (and breakdown value)."""
    periods, sql = retention_setup(team, query, limit_context)
    row = _interval(params.get("interval"), len(periods.starts))
    conditions: list[exp.Expression] = [exp.EQ(this=exp.column("row_index"), expression=const(row))]
    breakdown = _breakdown_condition(team, query, params.get("breakdown"), limit_context)
    if breakdown is not None:
        conditions.append(breakdown)
    name = periods.interval
    cells = [exp.alias_(call("has", exp.column("counted"), const(k)), f"{name}_{k}") for k in range(periods.total)]
    return (
        exp.select(
            exp.column("actor_id"), exp.alias_(call("arraySort", exp.column("appearances")), "appearances"), *cells
        )
        .from_(sql.per_cohort().subquery("retention_rows"))
        .where(exp.and_(*conditions, copy=False), copy=False)
        .order_by(exp.Ordered(this=call("length", exp.column("appearances")), desc=True), copy=False)
    )


def retention_actors_options(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    periods, _ = retention_setup(team, query, limit_context)
    intervals = [
        {"label": f"{periods.prefix} {i}", "value": i, "date": iso(start)} for i, start in enumerate(periods.starts)
    ]
    breakdown = None
    if query.get("breakdownFilter"):
        values: list[str] = []
        for row in run_retention_query(team, query, limit_context)["results"]:
            if row["breakdown_value"] not in values:
                values.append(row["breakdown_value"])
        breakdown = [{"label": _label(v), "value": v} for v in values]
    return {
        "day": None,
        "status": None,
        "interval": intervals,
        "breakdown": breakdown,
        "breakdowns": [{"values": breakdown}] if breakdown is not None else None,
        "series": None,
        "compare": None,
    }


def _label(value: str) -> str:
    if value == BREAKDOWN_OTHER:
        return "Other (i.e. all remaining values)"
    return value if value != "" else "None (i.e. no value)"


RETENTION_QUERY = dataclasses.replace(
    RETENTION_WITHOUT_ACTORS, actors=retention_actors, actors_options=retention_actors_options
)
