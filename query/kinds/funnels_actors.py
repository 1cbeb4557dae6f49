"""`FunnelsQuery` with its `actors` hook: who reached (or dropped off at) a funnel step — what
`FunnelsActorsQuery` asks (reference §9.2) as an `ActorsQuery.source`.

Parameters: `funnelStep` n (1-based): actors whose furthest step is ≥ n; -n: reached step n−1 but not n (-1 is
PostHog's 400). `funnelStepBreakdown`: only actors attributed that value (boxed list, its text, or a cohort id).
`funnelCustomSteps`: the furthest step must be one of these (1-based). Trends viz: `funnelTrendsEntrancePeriodStart`
(the entry interval, a date or moment) and `funnelTrendsDropOff` (false: reached `funnelToStep`; true: entered but
did not) are both required. The rows are `actor_id` (one per actor).
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.hogql.ast import in_cohort
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import parse_select, to_hogql
from query.kinds.base import QueryKind
from query.kinds.breakdown import ALL_USERS, parse_breakdown
from query.kinds.funnels import FunnelContext, funnels_overrides, run_funnels_query
from query.kinds.funnels_breakdown import breakdown_actor_rows
from query.kinds.funnels_engine import actor_rows
from query.kinds.funnels_schema import FunnelsQueryResponseSerializer, FunnelsQuerySerializer
from query.kinds.funnels_viz import step_range, trends_entries

FUNNEL_PARAMETERS = (
    "funnelStep",
    "funnelStepBreakdown",
    "funnelTrendsDropOff",
    "funnelTrendsEntrancePeriodStart",
    "funnelCustomSteps",
)
FIRST_DROP_OFF = (
    "The first valid drop-off argument for funnelStep is -2. -2 refers to persons who performed the first step "
    "but never made it to the second."
)


def _escape(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _step_condition(step: Any, steps: int) -> str:
    if isinstance(step, bool) or not isinstance(step, int) or step == 0:
        raise HogQLQueryError("funnelStep must be a step number (1-based), or -n for the drop-offs before step n")
    if step == -1:
        raise HogQLQueryError(FIRST_DROP_OFF)
    if abs(step) > steps:
        raise HogQLQueryError(f"funnelStep {step} is out of range: the funnel has {steps} steps")
    return f"length(path) >= {step}" if step > 0 else f"length(path) = {-step - 1}"


def _breakdown_condition(value: Any) -> str:
    parts = value if isinstance(value, list) else [value]
    return "breakdown_value = [" + ", ".join(_escape("" if v is None else str(v)) for v in parts) + "]"


def _steps_rows(context: FunnelContext, params: dict[str, Any]) -> str:
    conditions = [_step_condition(params.get("funnelStep"), context.steps)]
    custom = params.get("funnelCustomSteps")
    if custom:
        conditions.append(f"length(path) IN ({', '.join(str(int(s)) for s in custom)})")
    breakdown = parse_breakdown(context.query.get("breakdownFilter"))
    value = params.get("funnelStepBreakdown")
    if breakdown is None or value is None:
        rows = actor_rows(context.spec())
    elif breakdown.cohorts:
        spec = context.spec()
        if str(value) not in ("0", ALL_USERS):
            where = to_hogql(in_cohort(exp.column("person_id"), int(value)))
            spec = type(spec)(**{**spec.__dict__, "where": f"{spec.where} AND {where}"})
        rows = actor_rows(spec)
    else:
        rows = breakdown_actor_rows(context)
        conditions.append(_breakdown_condition(value))
    return f"SELECT DISTINCT aggregation_target AS actor_id FROM ({rows}) WHERE {' AND '.join(conditions)}"


def _trends_rows(context: FunnelContext, params: dict[str, Any]) -> str:
    drop_off, period = params.get("funnelTrendsDropOff"), params.get("funnelTrendsEntrancePeriodStart")
    if drop_off is None:
        raise HogQLQueryError("Actors parameter `funnelTrendsDropOff` must be provided for funnel trends persons!")
    if period is None:
        raise HogQLQueryError(
            "Actors parameter `funnelTrendsEntrancePeriodStart` must be provided for funnel trends persons!"
        )
    index = context.date_range.bucket_index(str(period))
    if index is None:
        raise HogQLQueryError(f"funnelTrendsEntrancePeriodStart {period!r} is not an interval of the date range")
    start, end = step_range(context)
    reached = f"length(tupleElement(entry, 2)) >= {end + 1}"
    condition = f"length(tupleElement(entry, 2)) >= {start + 1} AND NOT {reached}" if drop_off else reached
    # the interval start as the bucket expression prints it: a Date for week/month, else a team-local DateTime
    text = context.date_range.buckets[index].start.strftime("%Y-%m-%d %H:%M:%S")
    text = text[:10] if context.date_range.interval in ("week", "month") else text
    return (
        f"SELECT DISTINCT aggregation_target AS actor_id FROM ({trends_entries(context)}) "
        f"WHERE toString(tupleElement(entry, 1)) = {_escape(text)} AND {condition}"
    )


def funnels_actors(team: Team, query: dict[str, Any], params: dict[str, Any], limit_context: str) -> exp.Select:
    context = FunnelContext(team, query, limit_context)
    text = _trends_rows(context, params) if context.viz == "trends" else _steps_rows(context, params)
    return parse_select(text)  # type: ignore[return-value]


FUNNELS_QUERY = QueryKind(
    name="FunnelsQuery",
    request=FunnelsQuerySerializer,
    response=FunnelsQueryResponseSerializer,
    run=run_funnels_query,
    apply_overrides=funnels_overrides,
    actors=funnels_actors,
)
