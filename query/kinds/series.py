"""Series nodes shared by the insight kinds (Trends now; Stickiness, Lifecycle and Actors next): the request
schema of an `EventsNode`, the HogQL aggregation its `math` means, and the WHERE that selects its events (event
name, the series' properties and fixedProperties, the query's global properties).

All of it is HogQL (sqlglot trees of the HogQL dialect) for `query.runner.hogql_execute`, never ClickHouse SQL.
`ActionsNode` is refused (a 400): this project has no actions yet. `filterTestAccounts: true` ANDs the team's
`test_account_filters` onto every series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.hogql.ast import call
from query.hogql.parser import parse_select, to_hogql
from query.kinds.base import StrictSerializer
from query.properties import property_filters_to_expr
from query.property_serializers import PropertyFiltersField
from query.runner import hogql_execute

COUNT_MATHS = ("total", "dau", "weekly_active", "monthly_active", "unique_session")
PROPERTY_MATHS = ("sum", "avg", "min", "max", "median", "p75", "p90", "p95", "p99")
MATHS = COUNT_MATHS + PROPERTY_MATHS
ACTIVE_WINDOW_DAYS = {"weekly_active": 7, "monthly_active": 30}
"""Trailing window of `weekly_active`/`monthly_active`, in days, ending with the bucket."""
_COARSE = {"weekly_active": {"week", "month"}, "monthly_active": {"month"}}
_PROPERTY_AGGREGATES = {
    "sum": "sum(toFloat(__p__))",
    "avg": "avg(toFloat(__p__))",
    "min": "min(toFloat(__p__))",
    "max": "max(toFloat(__p__))",
    "median": "quantile(0.5)(toFloat(__p__))",
    "p75": "quantile(0.75)(toFloat(__p__))",
    "p90": "quantile(0.9)(toFloat(__p__))",
    "p95": "quantile(0.95)(toFloat(__p__))",
    "p99": "quantile(0.99)(toFloat(__p__))",
}
ALL_EVENTS = "All events"


class EventsNodeSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["EventsNode"], help_text='"EventsNode".')
    event = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Event name; null = all events."
    )
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Display name.")
    custom_name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Label override.")
    math = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="total (default), dau, weekly_active, monthly_active, unique_session, or sum/avg/min/max/median/"
        "p75/p90/p95/p99 of `math_property`.",
    )
    math_property = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Event property the property maths read."
    )
    math_property_type = serializers.CharField(
        required=False, allow_null=True, help_text="event_properties (the only one supported)."
    )
    math_hogql = serializers.CharField(required=False, allow_null=True, help_text="Not supported yet.")
    math_group_type_index = serializers.IntegerField(required=False, allow_null=True, help_text="Not supported yet.")
    math_multiplier = serializers.FloatField(required=False, allow_null=True, help_text="Accepted, ignored.")
    properties = PropertyFiltersField(required=False, allow_null=True)
    fixedProperties = PropertyFiltersField(  # noqa: N815
        required=False, allow_null=True, help_text="Property filters the UI does not let users edit (ANDed)."
    )
    optionalInFunnel = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Funnels only."
    )
    limit = serializers.IntegerField(required=False, allow_null=True, help_text="Accepted, ignored.")
    orderBy = serializers.ListField(  # noqa: N815
        child=serializers.CharField(), required=False, allow_null=True, help_text="Accepted, ignored."
    )
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        math = attrs.get("math") or "total"
        if math not in MATHS:
            supported = ", ".join(MATHS)
            raise serializers.ValidationError({"math": [f"Math '{math}' is not supported; use one of {supported}"]})
        if math in PROPERTY_MATHS and not attrs.get("math_property"):
            raise serializers.ValidationError({"math_property": [f"Math '{math}' needs a math_property"]})
        if attrs.get("math_property_type") not in (None, "event_properties"):
            raise serializers.ValidationError(
                {"math_property_type": ["Only event_properties are supported as math_property_type"]}
            )
        if attrs.get("math_hogql"):
            raise serializers.ValidationError({"math_hogql": ["math_hogql is not supported yet"]})
        if attrs.get("math_group_type_index") is not None:
            raise serializers.ValidationError({"math_group_type_index": ["Group maths are not supported yet"]})
        return attrs


class SeriesField(serializers.ListField):
    """`series`: EventsNodes; an ActionsNode (or any other node) is a 400 naming it."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("help_text", "EventsNodes (ActionsNode is not supported yet: no actions).")
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        items = super().to_internal_value(data)
        nodes = []
        for i, item in enumerate(items):
            kind = item.get("kind") if isinstance(item, dict) else None
            if kind == "ActionsNode":
                raise serializers.ValidationError(
                    {i: ["ActionsNode is not supported yet: this project has no actions"]}
                )
            if kind != "EventsNode":
                raise serializers.ValidationError({i: [f"Series kind '{kind}' is not supported; use EventsNode"]})
            node = EventsNodeSerializer(data=item)
            if not node.is_valid():
                raise serializers.ValidationError({i: node.errors})
            nodes.append(dict(node.validated_data))
        return nodes


def series_math(series: Mapping[str, Any], interval: str) -> str:
    """The math a series runs with: `weekly_active` from a week interval on (and `monthly_active` from a month
    interval on) is plain `dau`, as PostHog."""
    math = series.get("math") or "total"
    return "dau" if interval in _COARSE.get(math, set()) else math


def series_name(series: Mapping[str, Any]) -> str:
    return series.get("event") or ALL_EVENTS


def _property(key: str) -> exp.Expression:
    return exp.Bracket(this=exp.column("properties"), expressions=[exp.Literal.string(key)])


def aggregation(series: Mapping[str, Any], math: str) -> exp.Expression:
    """The HogQL aggregate of one bucket for `math` (weekly/monthly active count persons: `dau`'s aggregate)."""
    if math == "total":
        return exp.Anonymous(this="count", expressions=[])
    if math in {"dau", "weekly_active", "monthly_active"}:
        return exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")]))
    if math == "unique_session":
        return exp.Count(this=exp.Distinct(expressions=[exp.column("$session_id")]))
    node = parse_select(f"SELECT {_PROPERTY_AGGREGATES[math]}\n").expressions[0]
    for column in list(node.find_all(exp.Column)):
        if column.name == "__p__":
            column.replace(_property(series["math_property"]))
    return node


def series_where(
    series: Mapping[str, Any],
    query: Mapping[str, Any],
    *,
    property_types: Mapping[tuple[int, str], str],
    timezone: str,
    now: dt.datetime,
    test_account_filters: Any = None,
) -> list[exp.Expression]:
    """The conditions (ANDed) selecting a series' events: its event (none for all events), its properties and
    fixedProperties, the query's global `properties`, and with `filterTestAccounts` the team's
    `test_account_filters`. A `unique_session` series skips events without one."""
    conditions: list[exp.Expression] = []
    if series.get("event"):
        conditions.append(exp.EQ(this=exp.column("event"), expression=exp.Literal.string(series["event"])))
    test_accounts = test_account_filters if query.get("filterTestAccounts") else None
    for filters in (series.get("properties"), series.get("fixedProperties"), query.get("properties"), test_accounts):
        if filters:
            conditions.append(
                property_filters_to_expr(
                    filters, scope="event", property_types=property_types, timezone=timezone, now=now
                )
            )
    if (series.get("math") or "total") == "unique_session":
        conditions.append(exp.NEQ(this=exp.column("$session_id"), expression=exp.Literal.string("")))
    return conditions


def earliest_event(team: Team, limit_context: str) -> dt.datetime | None:
    """The project's first event (what `date_from: "all"` starts at); None without events."""
    select = exp.select(call("min", exp.column("timestamp"))).from_("events")
    result = hogql_execute(team=team, query=to_hogql(select), limit_context=limit_context, limit=1)
    value = result.results[0][0] if result.results else None  # ISO text ("…Z"), as results carry DateTimes
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime) or value.year < 1971:  # min() of no rows is the epoch
        return None
    return value
