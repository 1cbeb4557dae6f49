"""Request and response shapes of /api/projects/:id/insights/ (PostHog's field names, reference §1.2).

The result fields (`result`, `last_refresh`, `is_cached`, …) are computed once per insight and request by
`insights.results.insight_result` with the serializer context's `run` (a `RunContext`: mode and dashboard)."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from definitions.serializers.common import TagListField as TagListField  # re-exported for dashboards
from insights.models import Insight
from insights.queries import check_insight_query
from insights.results import InsightResult, RunContext, insight_result
from posthog_clone.accounts.serializers import UserBasicSerializer
from query.exceptions import ExposedHogQLError, as_api_exception

INSIGHT_TYPE_CHOICES = ["TRENDS", "FUNNELS", "RETENTION", "PATHS", "STICKINESS", "LIFECYCLE", "SQL", "JSON"]
ORDER_FIELDS = ("order", "id", "name", "created_at", "updated_at", "last_modified_at", "short_id", "favorited")
ORDER_CHOICES = [f"{sign}{name}" for name in ORDER_FIELDS for sign in ("", "-")]


class DashboardTileBasicSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Tile id.")
    dashboard_id = serializers.IntegerField(help_text="Dashboard the tile is on.")
    deleted = serializers.BooleanField(help_text="Removed from the dashboard.")


def live_tiles(insight: Insight) -> list[Any]:
    """The insight's tiles on live dashboards (prefetched by the selectors), soft-deleted tiles included."""
    return [tile for tile in insight.dashboard_tiles.all() if not tile.dashboard.deleted]


class InsightBasicSerializer(serializers.ModelSerializer):
    """The light shape of `?basic=true`: no results."""

    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    dashboards = serializers.SerializerMethodField(help_text="Ids of the dashboards showing this insight.")
    dashboard_tiles = serializers.SerializerMethodField(help_text="Tiles linking this insight to dashboards.")
    last_refresh = serializers.SerializerMethodField(help_text="Not computed in the basic shape: null.")
    refreshing = serializers.SerializerMethodField(help_text="Always false.")

    class Meta:
        model = Insight
        fields = [
            "id",
            "short_id",
            "name",
            "derived_name",
            "filters",
            "query",
            "dashboards",
            "dashboard_tiles",
            "description",
            "last_refresh",
            "refreshing",
            "saved",
            "tags",
            "updated_at",
            "created_by",
            "created_at",
            "last_modified_at",
            "favorited",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_dashboards(self, insight: Insight) -> list[int]:
        return [tile.dashboard_id for tile in live_tiles(insight) if not tile.deleted]

    @extend_schema_field(DashboardTileBasicSerializer(many=True))
    def get_dashboard_tiles(self, insight: Insight) -> list[dict[str, Any]]:
        return [{"id": t.pk, "dashboard_id": t.dashboard_id, "deleted": t.deleted} for t in live_tiles(insight)]

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_refresh(self, insight: Insight) -> None:
        return None

    def get_refreshing(self, insight: Insight) -> bool:
        return False


class InsightSerializer(InsightBasicSerializer):
    """The full shape, with the results of the insight's query (in the dashboard's context when there is one)."""

    last_modified_by = UserBasicSerializer(read_only=True, allow_null=True)
    result = serializers.SerializerMethodField(help_text="The query's results (null on a cache miss).")
    hasMore = serializers.SerializerMethodField(help_text="More rows exist (tables).")  # noqa: N815
    columns = serializers.SerializerMethodField(help_text="Column names (tables).")
    types = serializers.SerializerMethodField(help_text="Column types (tables).")
    hogql = serializers.SerializerMethodField(help_text="The HogQL that ran.")
    last_refresh = serializers.SerializerMethodField(help_text="When the shown result was computed.")
    cache_target_age = serializers.SerializerMethodField(help_text="When the shown result becomes stale.")
    next_allowed_client_refresh = serializers.SerializerMethodField(help_text="Before this, the UI does not refresh.")
    is_cached = serializers.SerializerMethodField(help_text="Served from cache.")
    query_status = serializers.SerializerMethodField(help_text="Status of a pending async calculation.")
    timezone = serializers.SerializerMethodField(help_text="The project timezone.")
    filters_hash = serializers.SerializerMethodField(help_text="Cache key of the shown result.")
    effective_restriction_level = serializers.SerializerMethodField(help_text="21: everyone can edit.")
    effective_privilege_level = serializers.SerializerMethodField(help_text="37: the caller can edit.")

    class Meta(InsightBasicSerializer.Meta):
        fields = [
            *InsightBasicSerializer.Meta.fields,
            "result",
            "hasMore",
            "columns",
            "types",
            "hogql",
            "cache_target_age",
            "next_allowed_client_refresh",
            "is_cached",
            "query_status",
            "timezone",
            "filters_hash",
            "order",
            "deleted",
            "last_modified_by",
            "is_sample",
            "effective_restriction_level",
            "effective_privilege_level",
        ]
        read_only_fields = fields

    def _result(self, insight: Insight) -> InsightResult:
        cache = self.context.setdefault("_results", {})
        if insight.pk not in cache:
            run = self.context.get("run") or RunContext()
            try:
                cache[insight.pk] = insight_result(insight.team, insight, run)
            except ExposedHogQLError as error:
                raise as_api_exception(error) from error
        return cache[insight.pk]

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_result(self, insight: Insight) -> Any:
        return self._result(insight).result

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_hasMore(self, insight: Insight) -> bool | None:  # noqa: N802
        return self._result(insight).has_more

    @extend_schema_field(serializers.ListField(allow_null=True))
    def get_columns(self, insight: Insight) -> list[Any] | None:
        return self._result(insight).columns

    @extend_schema_field(serializers.ListField(allow_null=True))
    def get_types(self, insight: Insight) -> list[Any] | None:
        return self._result(insight).types

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_hogql(self, insight: Insight) -> str | None:
        return self._result(insight).hogql

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_refresh(self, insight: Insight) -> str | None:
        return self._result(insight).last_refresh

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_cache_target_age(self, insight: Insight) -> str | None:
        return self._result(insight).cache_target_age

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_allowed_client_refresh(self, insight: Insight) -> str | None:
        return self._result(insight).next_allowed_client_refresh

    def get_is_cached(self, insight: Insight) -> bool:
        return self._result(insight).is_cached

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_query_status(self, insight: Insight) -> dict[str, Any] | None:
        return self._result(insight).query_status

    def get_timezone(self, insight: Insight) -> str:
        return insight.team.timezone or "UTC"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_filters_hash(self, insight: Insight) -> str | None:
        return self._result(insight).filters_hash

    def get_effective_restriction_level(self, insight: Insight) -> int:
        return 21

    def get_effective_privilege_level(self, insight: Insight) -> int:
        return 37


class InsightInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    derived_name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    query = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A query node: InsightVizNode, DataTableNode, DataVisualizationNode, or a bare query kind.",
    )
    filters = serializers.DictField(required=False, help_text="Legacy filters (kept, not run).")
    dashboards = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        help_text="Ids of the dashboards to show it on (tiles are added and removed to match).",
    )
    order = serializers.IntegerField(required=False, allow_null=True, min_value=-(2**31), max_value=2**31 - 1)
    deleted = serializers.BooleanField(required=False)
    saved = serializers.BooleanField(required=False)
    favorited = serializers.BooleanField(required=False)
    tags = TagListField(required=False)
    refresh = serializers.JSONField(required=False, write_only=True, help_text="Execution mode of the answer.")
    _create_in_folder = serializers.CharField(required=False, allow_blank=True, write_only=True)

    def validate_query(self, value: Any) -> Any:
        return None if value is None else check_insight_query(value)


def parse_json_param(value: str | None, name: str) -> dict[str, Any] | None:
    """`filters_override` & co.: a JSON object in the query string (PostHog's error text otherwise)."""
    if value is None or value == "":
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise serializers.ValidationError({name: [f"Invalid JSON passed in {name} parameter"]})
    return parsed


class InsightListQuerySerializer(serializers.Serializer):
    basic = serializers.BooleanField(required=False, default=False, help_text="The light shape, without results.")
    short_id = serializers.CharField(required=False, max_length=12, help_text="Exact short id.")
    created_by = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1, help_text="User id.")
    saved = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: saved or on a dashboard; false: not saved."
    )
    favorited = serializers.CharField(required=False, allow_blank=True, help_text="Any value: favorited only.")
    user = serializers.CharField(required=False, allow_blank=True, help_text="Any value: created by the caller.")
    search = serializers.CharField(required=False, allow_blank=True, help_text="Part of name, description or a tag.")
    insight = serializers.ChoiceField(choices=INSIGHT_TYPE_CHOICES, required=False, help_text="Insight type.")
    dashboards = serializers.CharField(required=False, help_text="JSON array of dashboard ids: on all of them.")
    date_from = serializers.CharField(required=False, help_text="last_modified_at from (ISO or -7d, -2w, …).")
    date_to = serializers.CharField(required=False, help_text="last_modified_at up to (ISO or -7d, …).")
    order = serializers.ChoiceField(choices=ORDER_CHOICES, required=False, help_text="Sort field (- for desc).")
    refresh = serializers.CharField(required=False, allow_blank=True, help_text="Execution mode (default force_cache).")

    def validate_dashboards(self, value: str) -> list[int]:
        try:
            ids = json.loads(value)
        except ValueError:
            ids = None
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise serializers.ValidationError("Must be a JSON array of dashboard ids.")
        return ids


class InsightRetrieveQuerySerializer(serializers.Serializer):
    refresh = serializers.CharField(required=False, allow_blank=True, help_text="Execution mode (default force_cache).")
    from_dashboard = serializers.IntegerField(
        required=False, min_value=0, max_value=2**63 - 1, help_text="Show in this dashboard's context."
    )
    filters_override = serializers.CharField(required=False, help_text="JSON filters merged over the dashboard's.")
    variables_override = serializers.CharField(required=False, help_text="JSON variable values.")
    tile_filters_override = serializers.CharField(required=False, help_text="JSON filters replacing the tile's.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("filters_override", "variables_override", "tile_filters_override"):
            attrs[name] = parse_json_param(attrs.get(name), name)
        return attrs
