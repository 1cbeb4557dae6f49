"""`PathsQuery` request and response schemas (reference §7). Every key of PostHog's `PathsFilter` is accepted
(unknown ones are a 400 naming them); values that cannot give a path are 400s naming the key.

Bounds where PostHog's schema only says "int": `stepLimit` 2–100 (one node makes no edge; the UI offers 2–20),
`edgeLimit` 1–10 000, edge weights ≥ 0 (0, as in PostHog, means no bound). `funnelPathsFilter` (paths before,
between or after a funnel step) is refused with a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from query.dates import DateRangeError, QueryDateRange
from query.kinds.base import CachedResponseSerializer, StrictSerializer
from query.kinds.hogql_expr import ExpressionError, parse_expression
from query.kinds.series import InsightQuerySerializer

PAGEVIEW, SCREEN, CUSTOM_EVENT, HOGQL = "$pageview", "$screen", "custom_event", "hogql"
PATH_TYPES = [PAGEVIEW, SCREEN, CUSTOM_EVENT, HOGQL]  # settings' ENUM_NAME_OVERRIDES names this enum
DEFAULT_STEP_LIMIT = 5
DEFAULT_EDGE_LIMIT = 50
MAX_STEP_LIMIT = 100
MAX_EDGE_LIMIT = 10_000
FUNNEL_PATHS_REFUSED = "funnelPathsFilter (paths around a funnel step) is not supported yet"


def _optional(**kwargs: Any) -> dict[str, Any]:
    return {"required": False, "allow_null": True, **kwargs}


class PathCleaningFilterSerializer(StrictSerializer):
    regex = serializers.CharField(help_text="RE2 regular expression; every match is replaced by the alias.")
    alias = serializers.CharField(allow_blank=True, help_text="The replacement (`\\1` refers to a group).")


class PathsFilterSerializer(StrictSerializer):
    includeEventTypes = serializers.ListField(  # noqa: N815
        child=serializers.ChoiceField(choices=PATH_TYPES),
        **_optional(help_text="$pageview (node = $current_url), $screen ($screen_name), custom_event (events not "
                    "starting with $), hogql (pathsHogQLExpression); empty = all events."),
    )  # fmt: skip
    pathsHogQLExpression = serializers.CharField(  # noqa: N815
        **_optional(help_text="HogQL expression naming the node of each event (type hogql).")
    )
    startPoint = serializers.CharField(  # noqa: N815
        **_optional(help_text="Paths start at the first occurrence of this node; others are dropped.")
    )
    endPoint = serializers.CharField(  # noqa: N815
        **_optional(help_text="Paths end at the first occurrence of this node; others are dropped.")
    )
    stepLimit = serializers.IntegerField(  # noqa: N815
        **_optional(min_value=2, max_value=MAX_STEP_LIMIT, help_text="Nodes per path (default 5).")
    )
    edgeLimit = serializers.IntegerField(  # noqa: N815
        **_optional(min_value=1, max_value=MAX_EDGE_LIMIT, help_text="Edges returned (default 50).")
    )
    minEdgeWeight = serializers.IntegerField(  # noqa: N815
        **_optional(min_value=0, help_text="Only edges with at least this many paths.")
    )
    maxEdgeWeight = serializers.IntegerField(  # noqa: N815
        **_optional(min_value=0, help_text="Only edges with at most this many paths.")
    )
    excludeEvents = serializers.ListField(  # noqa: N815
        child=serializers.CharField(), **_optional(help_text="Nodes (URLs, screens, event names) left out of paths.")
    )
    pathGroupings = serializers.ListField(  # noqa: N815
        child=serializers.CharField(),
        **_optional(help_text="Patterns with * wildcards; a node matching one is renamed to the pattern."),
    )
    pathReplacements = serializers.BooleanField(  # noqa: N815
        **_optional(help_text="Apply the project's path cleaning rules (projects here have none: no effect).")
    )
    localPathCleaningFilters = PathCleaningFilterSerializer(  # noqa: N815
        many=True, **_optional(help_text="[{regex, alias}] applied in order to every node name.")
    )
    showFullUrls = serializers.BooleanField(**_optional(help_text="Display only."))  # noqa: N815
    pathStartKey = serializers.CharField(  # noqa: N815
        **_optional(help_text='Actors only: the edge\'s source node, e.g. "1_/home".')
    )
    pathEndKey = serializers.CharField(  # noqa: N815
        **_optional(help_text='Actors only: the edge\'s target node, e.g. "2_/pricing".')
    )
    pathDropoffKey = serializers.CharField(  # noqa: N815
        **_optional(help_text="Actors only: the node whose paths end there.")
    )

    def validate_pathsHogQLExpression(self, value: str | None) -> str | None:  # noqa: N802
        if value is None:
            return None
        try:
            parse_expression(value, aggregate=False)
        except ExpressionError as error:
            raise serializers.ValidationError(f"pathsHogQLExpression {error}") from None
        return value

    def validate_pathGroupings(self, value: list[str] | None) -> list[str] | None:  # noqa: N802
        if value and any(not pattern.strip("*") for pattern in value):
            raise serializers.ValidationError("A path grouping must hold more than wildcards")
        return value


class PathsQuerySerializer(InsightQuerySerializer):
    kind = serializers.ChoiceField(choices=["PathsQuery"], help_text='Query kind: "PathsQuery".')
    pathsFilter = PathsFilterSerializer(  # noqa: N815
        help_text="includeEventTypes, startPoint, endPoint, stepLimit, edgeLimit, edge weights, exclusions, groupings."
    )
    dateRange = serializers.DictField(  # noqa: N815
        **_optional(help_text='{"date_from", "date_to", "explicitDate"}; events from date_from\'s day start.')
    )
    funnelPathsFilter = serializers.DictField(  # noqa: N815
        **_optional(help_text="Not supported yet (a 400 when given).")
    )
    aggregation_group_type_index = serializers.IntegerField(
        **_optional(min_value=0, max_value=4, help_text="Paths of groups of this type, not persons.")
    )
    samplingFactor = serializers.FloatField(  # noqa: N815
        **_optional(help_text="Accepted; events are not sampled.")
    )

    def validate_funnelPathsFilter(self, value: dict[str, Any] | None) -> dict[str, Any] | None:  # noqa: N802
        if value:
            raise serializers.ValidationError(FUNNEL_PATHS_REFUSED)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:  # every date error is a 400 naming the field, before anything runs
            QueryDateRange(attrs.get("dateRange"), interval="day", earliest_event=lambda: None)
        except DateRangeError as error:
            raise serializers.ValidationError({error.attr or "dateRange": [error.message]}) from None
        return attrs


class PathsQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.ListField(
        child=serializers.DictField(),
        help_text='Edges: {"source": "1_/home", "target": "2_/pricing", "value": paths with the edge, '
        '"average_conversion_time": mean milliseconds between the two events}.',
    )
    hogql = serializers.CharField(help_text="The HogQL that computed the edges.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    resolved_date_range = serializers.DictField(help_text='{"date_from", "date_to"} (ISO, team timezone).')
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")
