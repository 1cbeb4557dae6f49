"""Series nodes shared by the insight kinds (Trends now; Stickiness, Lifecycle and Actors next): the request
schema of an `EventsNode` (its math checked by `query.kinds.maths`, whose names are re-exported here) and the
WHERE that selects its events (event name, the series' properties and fixedProperties, the query's global
properties).

All of it is HogQL (sqlglot trees of the HogQL dialect) for `query.runner.hogql_execute`, never ClickHouse SQL.
An `ActionsNode` selects the events matching its action (`query.actions_expr`), whose steps the endpoint looks
up before any kind runs. `filterTestAccounts: true` ANDs the team's `test_account_filters` onto every series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.dates import DateRangeError, validate_interval
from query.hogql.ast import call
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.kinds.base import StrictSerializer
from query.kinds.breakdown import BreakdownError, parse_breakdown
from query.kinds.maths import (  # noqa: F401 (the maths' names, as the insight kinds know them from here)
    ACTIVE_WINDOW_DAYS,
    COUNT_MATHS,
    MATHS,
    PROPERTY_MATHS,
    MathError,
    aggregation,
    check_math,
    series_math,
)
from query.properties import property_filters_to_expr
from query.property_serializers import PropertyFiltersField
from query.references import action_expr
from query.runner import hogql_execute

ALL_EVENTS = "All events"


class _EntityNodeSerializer(StrictSerializer):
    """What EventsNode and ActionsNode share: label, math and filters."""

    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Display name.")
    custom_name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="Label override.")
    math = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="total (default), dau, weekly_active, monthly_active, unique_session, unique_group (distinct "
        "`$group_<math_group_type_index>`), first_time_for_user, first_matching_event_for_user, sum/avg/min/max/"
        "median/p75/p90/p95/p99 of `math_property`, avg/min/max/median/p75/p90/p95/p99_count_per_actor (events "
        "per person), or hogql (`math_hogql`).",
    )
    math_property = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='Property the property maths read; "$session_duration": each session\'s duration, once per session.',
    )
    math_property_type = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="event_properties (default), person_properties or session_properties.",
    )
    math_hogql = serializers.CharField(
        required=False,
        allow_null=True,
        help_text='Aggregate HogQL expression of math "hogql", e.g. "avg(toFloat(properties.price))".',
    )
    math_group_type_index = serializers.IntegerField(
        required=False, allow_null=True, help_text='Group type (0-4) math "unique_group" counts.'
    )
    math_multiplier = serializers.FloatField(
        required=False, allow_null=True, help_text="Accepted, ignored (PostHog's trends do not read it either)."
    )
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
        try:
            check_math(attrs)
        except MathError as error:
            raise serializers.ValidationError({error.attr: [str(error)]}) from None
        return attrs


class EventsNodeSerializer(_EntityNodeSerializer):
    kind = serializers.ChoiceField(choices=["EventsNode"], help_text='"EventsNode".')
    event = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Event name; null = all events."
    )


class ActionsNodeSerializer(_EntityNodeSerializer):
    kind = serializers.ChoiceField(choices=["ActionsNode"], help_text='"ActionsNode".')
    id = serializers.IntegerField(help_text="The action's id: events matching any of its steps.")


NODE_SERIALIZERS = {"EventsNode": EventsNodeSerializer, "ActionsNode": ActionsNodeSerializer}


class SeriesField(serializers.ListField):
    """`series`: EventsNodes and ActionsNodes; any other node is a 400 naming it. An ActionsNode's steps are
    looked up when the query runs (`query.references.resolve_actions`)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("help_text", "EventsNodes and ActionsNodes.")
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        items = super().to_internal_value(data)
        nodes = []
        for i, item in enumerate(items):
            kind = item.get("kind") if isinstance(item, dict) else None
            if kind not in NODE_SERIALIZERS:
                raise serializers.ValidationError(
                    {i: [f"Series kind '{kind}' is not supported; use EventsNode or ActionsNode"]}
                )
            node = NODE_SERIALIZERS[kind](data=item)
            if not node.is_valid():
                raise serializers.ValidationError({i: node.errors})
            nodes.append(dict(node.validated_data))
        return nodes


def is_action(series: Mapping[str, Any]) -> bool:
    return series.get("kind") == "ActionsNode"


def series_name(series: Mapping[str, Any]) -> str:
    """The label: the event, `All events`, or the action's name."""
    if is_action(series):
        return (series.get("action") or {}).get("name") or series.get("name") or f"Action {series['id']}"
    return series.get("event") or ALL_EVENTS


def series_entity(series: Mapping[str, Any]) -> dict[str, Any]:
    """`id` and `type` of the legacy entity PostHog echoes: the event name, or the action id."""
    if is_action(series):
        return {"id": series["id"], "type": "actions"}
    return {"id": series.get("event"), "type": "events"}


def event_condition(
    series: Mapping[str, Any],
    *,
    property_types: Mapping[tuple[int, str], str] | None = None,
    timezone: str = "UTC",
    now: dt.datetime | None = None,
) -> exp.Expression | None:
    """`event = <the series' event>`, or the action's condition; None for all events."""
    if is_action(series):
        if "action" not in series:  # resolve_actions runs before any kind does
            raise HogQLQueryError(f"Action {series['id']} was not looked up")
        return action_expr(series["action"], property_types=property_types or {}, timezone=timezone, now=now)
    if not series.get("event"):
        return None
    return exp.EQ(this=exp.column("event"), expression=exp.Literal.string(series["event"]))


def series_filters(
    series: Mapping[str, Any],
    query: Mapping[str, Any],
    *,
    property_types: Mapping[tuple[int, str], str],
    timezone: str,
    now: dt.datetime,
    test_account_filters: Any = None,
) -> list[exp.Expression]:
    """The conditions (ANDed) on a series' events besides its event name: its properties and fixedProperties,
    the query's global `properties`, and with `filterTestAccounts` the team's `test_account_filters`. A
    `unique_session` series skips events without a session."""
    conditions: list[exp.Expression] = []
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


def series_where(series: Mapping[str, Any], query: Mapping[str, Any], **kwargs: Any) -> list[exp.Expression]:
    """The conditions (ANDed) selecting a series' events: its event (none for all events) and `series_filters`
    (keyword arguments as there)."""
    context = {key: kwargs[key] for key in ("property_types", "timezone", "now") if key in kwargs}
    event = event_condition(series, **context)
    return ([event] if event is not None else []) + series_filters(series, query, **kwargs)


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


# The keys every insight query shares (PostHog's `InsightsQueryBase`); each kind adds its own. A comment, not
# a docstring: the spec would give each kind's request that text as its description.
class InsightQuerySerializer(StrictSerializer):
    properties = PropertyFiltersField(required=False, allow_null=True)
    filterTestAccounts = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="AND the project's test_account_filters onto every series."
    )
    dataColorTheme = serializers.FloatField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted, ignored."
    )
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; echoed.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_interval(self, value: str | None) -> str | None:
        try:
            validate_interval(value)
        except DateRangeError as error:
            raise serializers.ValidationError(error.message) from None
        return value

    # Run for the kinds that declare `breakdownFilter` (retention checks more and overrides it).
    def validate_breakdownFilter(self, value: dict[str, Any] | None) -> dict[str, Any] | None:  # noqa: N802
        try:
            parse_breakdown(value)
        except BreakdownError as error:
            raise serializers.ValidationError(str(error)) from None
        return value


def checked_sampling_factor(value: float | None) -> float | None:
    """`samplingFactor` for the kinds that sample (Trends, Funnels): above 0, at most 1."""
    if value is not None and not 0 < value <= 1:
        raise serializers.ValidationError("samplingFactor must be above 0 and at most 1 (e.g. 0.1 reads 10%)")
    return value
