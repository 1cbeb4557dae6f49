"""Request and response shapes of /api/projects/:id/dashboards/ and sharing (reference §2.2, §2.7)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dashboards.models import RESTRICTION_COLLABORATORS_EDIT, RESTRICTION_EVERYONE_EDITS, Dashboard
from insights.serializers import InsightSerializer, TagListField, parse_json_param
from posthog_clone.accounts.serializers import UserBasicSerializer

FILTERS_MUST_BE_A_DICT = "Filters must be a dictionary"


class DashboardBasicSerializer(serializers.ModelSerializer):
    """The list shape: no tiles, no filters."""

    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    last_viewed_at = serializers.SerializerMethodField(help_text="Not tracked: null.")
    is_shared = serializers.SerializerMethodField(help_text="A sharing link is enabled.")
    effective_restriction_level = serializers.SerializerMethodField(help_text="21 or 37.")
    effective_privilege_level = serializers.SerializerMethodField(help_text="37: the caller can edit.")
    user_access_level = serializers.SerializerMethodField(help_text="The caller's access: editor.")
    access_control_version = serializers.SerializerMethodField(help_text="v1 with a legacy restriction, else v2.")
    last_refresh = serializers.SerializerMethodField(help_text="Oldest result shown (detail only).")
    team_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dashboard
        fields = [
            "id",
            "name",
            "description",
            "pinned",
            "created_at",
            "created_by",
            "last_accessed_at",
            "last_viewed_at",
            "is_shared",
            "deleted",
            "creation_mode",
            "tags",
            "restriction_level",
            "effective_restriction_level",
            "effective_privilege_level",
            "user_access_level",
            "access_control_version",
            "last_refresh",
            "team_id",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_viewed_at(self, dashboard: Dashboard) -> None:
        return None

    def get_is_shared(self, dashboard: Dashboard) -> bool:
        shared = self.context.get("shared_dashboard_ids")
        return dashboard.pk in shared if shared is not None else False

    def get_effective_restriction_level(self, dashboard: Dashboard) -> int:
        return dashboard.restriction_level

    def get_effective_privilege_level(self, dashboard: Dashboard) -> int:
        return RESTRICTION_COLLABORATORS_EDIT

    def get_user_access_level(self, dashboard: Dashboard) -> str:
        return "editor"

    def get_access_control_version(self, dashboard: Dashboard) -> str:
        return "v1" if dashboard.restriction_level > RESTRICTION_EVERYONE_EDITS else "v2"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_refresh(self, dashboard: Dashboard) -> str | None:
        return None


class TextSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body = serializers.CharField(allow_null=True)
    created_by = serializers.IntegerField(allow_null=True, help_text="User id.")
    last_modified_at = serializers.DateTimeField(allow_null=True)
    last_modified_by = serializers.IntegerField(allow_null=True, help_text="User id.")
    team = serializers.IntegerField()


class TileErrorSerializer(serializers.Serializer):
    type = serializers.CharField()
    message = serializers.CharField()


class DashboardTileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    insight = InsightSerializer(allow_null=True, help_text="The insight, in this dashboard's context.")
    text = TextSerializer(allow_null=True)
    color = serializers.CharField(allow_null=True)
    layouts = serializers.DictField(help_text='Grid positions: {"sm": {"x", "y", "w", "h"}, "xs": {...}}.')
    filters_overrides = serializers.DictField(help_text="Filters replacing the dashboard's for this tile.")
    show_description = serializers.BooleanField(allow_null=True)
    transparent_background = serializers.BooleanField(allow_null=True)
    order = serializers.IntegerField(help_text="Position (by `sm` y, then x).")
    last_refresh = serializers.DateTimeField(allow_null=True)
    is_cached = serializers.BooleanField(allow_null=True)
    error = TileErrorSerializer(allow_null=True, help_text="Why the tile's query failed.")
    deleted = serializers.BooleanField()


class DashboardSerializer(DashboardBasicSerializer):
    """The detail shape: filters, variables and tiles (filled by the view)."""

    filters = serializers.SerializerMethodField(help_text="Stored filters with `filters_override` merged.")
    variables = serializers.SerializerMethodField(help_text="Stored variables with `variables_override` merged.")
    persisted_filters = serializers.SerializerMethodField(help_text="The stored filters.")
    persisted_variables = serializers.SerializerMethodField(help_text="The stored variables.")
    quick_filter_ids = serializers.SerializerMethodField(help_text="Not supported: empty.")
    tiles = serializers.SerializerMethodField(help_text="The live tiles.")

    class Meta(DashboardBasicSerializer.Meta):
        fields = [
            *DashboardBasicSerializer.Meta.fields,
            "filters",
            "variables",
            "breakdown_colors",
            "data_color_theme_id",
            "persisted_filters",
            "persisted_variables",
            "quick_filter_ids",
            "tiles",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField())
    def get_filters(self, dashboard: Dashboard) -> dict[str, Any]:
        return {**(dashboard.filters or {}), **(self.context.get("filters_override") or {})}

    @extend_schema_field(serializers.DictField())
    def get_variables(self, dashboard: Dashboard) -> dict[str, Any]:
        return {**(dashboard.variables or {}), **(self.context.get("variables_override") or {})}

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_persisted_filters(self, dashboard: Dashboard) -> dict[str, Any] | None:
        return dashboard.filters or None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_persisted_variables(self, dashboard: Dashboard) -> dict[str, Any] | None:
        return dashboard.variables or None

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_quick_filter_ids(self, dashboard: Dashboard) -> list[int]:
        return []

    @extend_schema_field(DashboardTileSerializer(many=True))
    def get_tiles(self, dashboard: Dashboard) -> list[dict[str, Any]]:
        return self.context.get("tiles", [])

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_refresh(self, dashboard: Dashboard) -> str | None:
        refreshes = [t["last_refresh"] for t in self.context.get("tiles", []) if t["last_refresh"]]
        return min(refreshes) if refreshes else None


class ObjectField(serializers.JSONField):
    """A JSON object (PostHog: `Filters must be a dictionary`, also for variables)."""

    def to_internal_value(self, data: Any) -> Any:
        if data is not None and not isinstance(data, dict):
            raise serializers.ValidationError(FILTERS_MUST_BE_A_DICT)
        return super().to_internal_value(data)


class TextInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=4000, allow_blank=True, allow_null=True, required=False)


class TileInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="Tile to change.")
    text = TextInputSerializer(required=False, allow_null=True, help_text="Creates or edits a text tile.")
    deleted = serializers.BooleanField(required=False)
    color = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=400)
    layouts = serializers.DictField(required=False)
    filters_overrides = ObjectField(required=False, allow_null=True)
    show_description = serializers.BooleanField(required=False, allow_null=True)
    transparent_background = serializers.BooleanField(required=False, allow_null=True)


class DashboardInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    pinned = serializers.BooleanField(required=False)
    filters = ObjectField(required=False, allow_null=True, help_text="Date range and property filters.")
    variables = ObjectField(required=False, allow_null=True, help_text="SQL variable values.")
    breakdown_colors = serializers.JSONField(required=False, allow_null=True)
    data_color_theme_id = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    tags = TagListField(required=False)
    restriction_level = serializers.ChoiceField(choices=[21, 37], required=False)
    deleted = serializers.BooleanField(required=False)
    tiles = TileInputSerializer(many=True, required=False, help_text="Tiles to upsert (by `id`).")
    use_template = serializers.CharField(required=False, allow_blank=True, write_only=True)
    use_dashboard = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=2**63 - 1)
    duplicate_tiles = serializers.BooleanField(required=False, help_text="With use_dashboard: deep-copy the tiles.")
    delete_insights = serializers.BooleanField(required=False, help_text="With deleted: also insights only here.")
    _create_in_folder = serializers.CharField(required=False, allow_blank=True, write_only=True)


class DashboardRetrieveQuerySerializer(serializers.Serializer):
    refresh = serializers.CharField(required=False, allow_blank=True, help_text="Execution mode (default force_cache).")
    filters_override = serializers.CharField(required=False, help_text="JSON filters merged over the stored ones.")
    variables_override = serializers.CharField(required=False, help_text="JSON variable values.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("filters_override", "variables_override"):
            attrs[name] = parse_json_param(attrs.get(name), name)
        return attrs


class DashboardListQuerySerializer(serializers.Serializer):
    creation_mode = serializers.ChoiceField(choices=Dashboard.CreationMode.choices, required=False)
    tags = serializers.CharField(required=False, help_text="Only dashboards with this tag.")
    search = serializers.CharField(required=False, allow_blank=True, help_text="Part of the name.")
    pinned = serializers.BooleanField(required=False, allow_null=True, default=None)


class SharingConfigurationSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField(allow_null=True, read_only=True)
    enabled = serializers.BooleanField(required=False)
    access_token = serializers.CharField(read_only=True, help_text="The token of /shared/<token>.")
    settings = serializers.JSONField(required=False, allow_null=True)
    password_required = serializers.BooleanField(required=False, help_text="Not supported: false.")
    share_passwords = serializers.ListField(read_only=True, help_text="Not supported: empty.")

    def validate_settings(self, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("Invalid settings format")
        return value


class EmptyBodySerializer(serializers.Serializer):
    """No body is read (any JSON object is accepted)."""


class SharedDashboardSerializer(serializers.Serializer):
    dashboard = DashboardSerializer(help_text="The shared dashboard, its tiles and their results.")
