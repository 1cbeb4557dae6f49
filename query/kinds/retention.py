"""`RetentionQuery`: PostHog's retention table (reference §4) — of the actors who did the target event in a
period (a cohort), how many did the returning event 0, 1, 2 … periods later.

The HogQL is `query.kinds.retention_sql`'s (one scan of `events` through `hogql_execute`); here the request
and response schemas, the counting of its rows per (breakdown value, cohort, offset) and the response rows.

Response, newest form (§13: the full matrix, not the older triangle): one row per cohort, oldest first,
`{"date": <cohort start, ISO, team tz>, "label": "Day 3", "values": [{"count", "label": "Day k"}, …]}` with
`totalIntervals` values each (cells after D are 0); with a breakdown every row repeats per value, each with
`breakdown_value` (a missing value is `""`), values ranked by total cohort size (desc, then value) and those
past `breakdown_limit` (25) summed into `"$$_posthog_breakdown_other_$$"`. An actor-cohort has one breakdown
value: that of the actor's first target event in the cohort's period (the reference does not say which).

`samplingFactor` is accepted and ignored (events are not sampled), as in the other kinds. Cohort and histogram
breakdowns, `retention_first_ever_occurrence`, `24_hour_windows`, custom brackets and sum/avg aggregation are
400s naming them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from posthog_clone.accounts.models import Team
from query.dates import DateRangeError, QueryDateRange
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.hogql.passes.limits import LIMIT_CONTEXTS
from query.kinds.base import CachedResponseSerializer, QueryKind, StrictSerializer
from query.kinds.breakdown import BREAKDOWN_LIMIT, BREAKDOWN_OTHER, Breakdown, BreakdownError, parse_breakdown
from query.kinds.retention_sql import (
    DEFAULT_PERIOD,
    FIRST_TIME,
    PERIODS,
    RECURRING,
    Periods,
    RetentionSql,
    periods_for,
    put,
    template,
)
from query.kinds.series import InsightQuerySerializer
from query.kinds.trends import trends_overrides
from query.property_serializers import PropertyFiltersField
from query.runner import hogql_execute

MAX_ROWS = LIMIT_CONTEXTS["query"].maximum
MAX_COHORTS = 1000  # one row each; more is no table anyone reads (an hourly year)
RETENTION_TYPES = (RECURRING, FIRST_TIME, "retention_first_ever_occurrence")
_REFUSED_TYPES = {"retention_first_ever_occurrence": "retention_first_ever_occurrence is not supported yet"}
PAGEVIEW = {"id": "$pageview", "type": "events"}
ENTITY_TYPES = ["events", "actions"]  # settings' ENUM_NAME_OVERRIDES names this enum
_CELLS = """
SELECT breakdown_value, row_index, cell, count() AS actors
FROM per_row
ARRAY JOIN counted AS cell
GROUP BY breakdown_value, row_index, cell
"""


# ---------------------------------------------------------------------------------------------------
# request


class RetentionEntitySerializer(StrictSerializer):
    """`RetentionEntity`: an event (`type: events`, `id` = event name, null = all events) or an action (`type:
    actions` or `kind: ActionsNode`, `id` = its id), with its own property filters."""

    id = serializers.JSONField(required=False, allow_null=True, help_text="Event name, or the action's id.")
    type = serializers.ChoiceField(
        choices=ENTITY_TYPES, required=False, allow_null=True, help_text="events (default) or actions."
    )
    kind = serializers.ChoiceField(
        choices=["EventsNode", "ActionsNode"], required=False, allow_null=True, help_text="EventsNode or ActionsNode."
    )
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Display name.")
    custom_name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Label.")
    order = serializers.IntegerField(required=False, allow_null=True, help_text="Display only.")
    uuid = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Display only.")
    properties = PropertyFiltersField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        actions = attrs.get("type") == "actions" or attrs.get("kind") == "ActionsNode"
        value = attrs.get("id")
        if actions:
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value.strip())
            if isinstance(value, bool) or not isinstance(value, int):
                raise serializers.ValidationError({"id": ["An action entity's id must be the action's id"]})
            return {**attrs, "id": value, "type": "actions", "kind": "ActionsNode"}
        if value is not None and not isinstance(value, str):
            raise serializers.ValidationError({"id": ["An event entity's id must be the event name"]})
        return attrs


def entity_node(entity: dict[str, Any] | None) -> dict[str, Any]:
    """A RetentionEntity as the series node `query.kinds.series` reads (an ActionsNode keeps its `action`)."""
    entity = entity or PAGEVIEW
    base = {"properties": entity.get("properties")}
    if entity.get("kind") == "ActionsNode":
        return {
            **base,
            "kind": "ActionsNode",
            "id": entity["id"],
            **({"action": entity["action"]} if "action" in entity else {}),
        }
    return {**base, "kind": "EventsNode", "event": entity.get("id")}


class RetentionFilterSerializer(StrictSerializer):
    targetEntity = RetentionEntitySerializer(  # noqa: N815
        required=False, allow_null=True, help_text="The event that puts an actor in a cohort (default $pageview)."
    )
    returningEntity = RetentionEntitySerializer(  # noqa: N815
        required=False, allow_null=True, help_text="The event that counts as coming back (default $pageview)."
    )
    retentionType = serializers.ChoiceField(  # noqa: N815
        choices=RETENTION_TYPES, required=False, allow_null=True,
        help_text="retention_recurring (default): every period with a target event is a cohort; "
        "retention_first_time: only the period of the actor's first-ever target event.",
    )  # fmt: skip
    period = serializers.ChoiceField(
        choices=list(PERIODS), required=False, allow_null=True, help_text="Hour, Day (default), Week or Month."
    )
    totalIntervals = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, min_value=1, max_value=MAX_COHORTS,
        help_text="Values per row (default 8), and the number of cohorts without date_from.",
    )  # fmt: skip
    cumulative = serializers.BooleanField(
        required=False, allow_null=True, help_text="A return in period k also counts for 1 … k-1."
    )
    minimumOccurrences = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, min_value=1, help_text="Returning events a period needs (default 1)."
    )
    timeWindowMode = serializers.ChoiceField(  # noqa: N815
        choices=["strict_calendar_dates", "24_hour_windows"], required=False, allow_null=True,
        help_text="strict_calendar_dates only (24_hour_windows is not supported yet).",
    )  # fmt: skip
    aggregationType = serializers.ChoiceField(  # noqa: N815
        choices=["count", "sum", "avg"], required=False, allow_null=True, help_text="count only."
    )
    aggregationProperty = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, allow_blank=True, help_text="Not supported (count only)."
    )
    retentionCustomBrackets = serializers.ListField(  # noqa: N815
        child=serializers.FloatField(), required=False, allow_null=True, help_text="Not supported (must be empty)."
    )
    retentionReference = serializers.ChoiceField(  # noqa: N815
        choices=["total", "previous"], required=False, allow_null=True, help_text="Display only."
    )
    meanRetentionCalculation = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    display = serializers.CharField(required=False, allow_null=True, help_text="Display only.")
    dashboardDisplay = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    showTrendLines = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    selectedInterval = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )
    cohortLabelStartIndex = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, help_text="Display only."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refused = {
            "retentionType": _REFUSED_TYPES.get(attrs.get("retentionType") or ""),
            "timeWindowMode": "24_hour_windows is not supported yet"
            if attrs.get("timeWindowMode") == "24_hour_windows" else None,
            "aggregationType": "Only count retention is supported"
            if attrs.get("aggregationType") not in (None, "count") else None,
            "retentionCustomBrackets": "Custom brackets are not supported yet"
            if attrs.get("retentionCustomBrackets") else None,
        }  # fmt: skip
        for key, message in refused.items():
            if message:
                raise serializers.ValidationError({key: [message]})
        return attrs


class RetentionQuerySerializer(InsightQuerySerializer):
    kind = serializers.ChoiceField(choices=["RetentionQuery"], help_text='Query kind: "RetentionQuery".')
    retentionFilter = RetentionFilterSerializer(  # noqa: N815
        help_text="targetEntity, returningEntity, retentionType, period, totalIntervals, cumulative, …"
    )
    dateRange = serializers.DictField(  # noqa: N815
        required=False, allow_null=True,
        help_text='{"date_from", "date_to", "explicitDate"}; without date_from, totalIntervals cohorts up to date_to.',
    )  # fmt: skip
    breakdownFilter = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text="Breakdown by an event, person, session or HogQL value."
    )
    filterTestAccounts = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="AND the project's test_account_filters onto all events."
    )
    aggregation_group_type_index = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=4, help_text="Count groups of this type, not persons."
    )
    samplingFactor = serializers.FloatField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted; events are not sampled."
    )

    def validate_breakdownFilter(self, value: dict[str, Any] | None) -> dict[str, Any] | None:  # noqa: N802
        try:
            breakdown = parse_breakdown(value)
        except BreakdownError as error:
            raise serializers.ValidationError(str(error)) from None
        if breakdown is not None:
            check_breakdown(breakdown)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        period = PERIODS[(attrs["retentionFilter"] or {}).get("period") or DEFAULT_PERIOD]
        try:  # every date error is a 400 naming the field, before anything runs
            QueryDateRange(attrs.get("dateRange"), interval=period, earliest_event=lambda: None)
        except DateRangeError as error:
            raise serializers.ValidationError({error.attr or "dateRange": [error.message]}) from None
        return attrs


def check_breakdown(breakdown: Breakdown) -> None:
    if breakdown.cohorts:
        raise serializers.ValidationError("Cohort breakdowns are not supported in retention")
    if breakdown.parts[0].histogram_bin_count is not None:
        raise serializers.ValidationError("Histogram breakdowns are not supported in retention")


def retention_breakdown(query: dict[str, Any]) -> Breakdown | None:
    """The breakdown retention uses: `breakdown`, or the first of `breakdowns` (PostHog reads breakdowns[0])."""
    breakdown = parse_breakdown(query.get("breakdownFilter"))
    if breakdown is None:
        return None
    return Breakdown(breakdown.parts[:1], multiple=False, limit=breakdown.limit)


class RetentionQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text='One row per cohort (per breakdown value): date (ISO cohort start), label ("Day 3"), values '
        '[{count, label ("Day k")}] (totalIntervals of them; values[0] = the cohort size), breakdown_value.',
    )
    hogql = serializers.CharField(help_text="The HogQL that computed the counts.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    resolved_date_range = serializers.DictField(help_text='{"date_from", "date_to"} (ISO, team timezone).')
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


# ---------------------------------------------------------------------------------------------------
# running


def retention_setup(team: Team, query: dict[str, Any], limit_context: str) -> tuple[Periods, RetentionSql]:
    periods = periods_for(team, query, limit_context)
    if len(periods.starts) > MAX_COHORTS:
        raise HogQLQueryError(f"The retention table has more than {MAX_COHORTS} cohorts: narrow the date range")
    retention = dict(query.get("retentionFilter") or {})
    retention["targetEntity"] = entity_node(retention.get("targetEntity"))
    retention["returningEntity"] = entity_node(retention.get("returningEntity"))
    node = {**query, "retentionFilter": retention}
    return periods, RetentionSql(team, node, periods, retention_breakdown(query))


def iso(moment: dt.datetime) -> str:
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _rows(periods: Periods, counts: dict[int, list[int]], breakdown_value: str | None) -> list[dict[str, Any]]:
    prefix, total = periods.prefix, periods.total
    rows = []
    for i, start in enumerate(periods.starts):
        values = counts.get(i) or [0] * total
        row: dict[str, Any] = {
            "date": iso(start),
            "label": f"{prefix} {i}",
            "values": [{"count": values[k], "label": f"{prefix} {k}"} for k in range(total)],
        }
        if breakdown_value is not None:
            row["breakdown_value"] = breakdown_value
        rows.append(row)
    return rows


def _ranked(per_value: dict[str, dict[int, list[int]]], limit: int) -> list[tuple[str, dict[int, list[int]]]]:
    """Values by total cohort size (desc, then value); those past `limit` summed into the other bucket."""
    sizes = {value: sum(row[0] for row in rows.values()) for value, rows in per_value.items()}
    order = sorted(per_value, key=lambda v: (-sizes[v], v))
    kept = [(value, per_value[value]) for value in order[:limit]]
    if len(order) > limit:
        other: dict[int, list[int]] = {}
        for value in order[limit:]:
            for cohort, values in per_value[value].items():
                merged = other.setdefault(cohort, [0] * len(values))
                other[cohort] = [a + b for a, b in zip(merged, values, strict=True)]
        kept.append((BREAKDOWN_OTHER, other))
    return kept


def run_retention_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    periods, sql = retention_setup(team, query, limit_context)
    if not periods.starts:  # date_from after date_to: no cohorts
        return _response(periods, [], "", [])
    cells = template(_CELLS)
    put(cells, "per_row", sql.per_cohort())
    result = hogql_execute(team=team, query=to_hogql(cells), limit_context=limit_context, limit=MAX_ROWS)
    if result.hasMore:  # never answer with numbers from a cut result
        raise HogQLQueryError(f"The retention table has more than {MAX_ROWS} cells: narrow the breakdown")
    per_value: dict[str, dict[int, list[int]]] = {}
    for value, cohort, cell, actors in result.results:
        if 0 <= cell < periods.total and 0 <= cohort < len(periods.starts):
            per_value.setdefault(value, {}).setdefault(cohort, [0] * periods.total)[cell] = int(actors)
    if sql.breakdown is None:
        results = _rows(periods, per_value.get("", {}), None)
    else:
        limit = sql.breakdown.limit or BREAKDOWN_LIMIT
        results = [row for value, rows in _ranked(per_value, limit) for row in _rows(periods, rows, value)]
    return _response(periods, results, result.hogql, result.timings)


def _response(periods: Periods, results: list[dict[str, Any]], hogql: str, timings: list[dict[str, Any]]) -> dict:
    first = periods.starts[0] if periods.starts else periods.end
    return {
        "results": results,
        "hogql": hogql,
        "timings": [{"k": ".", "t": sum(t.get("t", 0) for t in timings if t.get("k") == ".")}],
        "resolved_date_range": {"date_from": first.isoformat(), "date_to": periods.date_range.date_to.isoformat()},
    }


RETENTION_WITHOUT_ACTORS = QueryKind(
    name="RetentionQuery",
    request=RetentionQuerySerializer,
    response=RetentionQueryResponseSerializer,
    run=run_retention_query,
    apply_overrides=trends_overrides,
)
