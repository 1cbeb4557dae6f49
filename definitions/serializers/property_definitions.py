"""Request and response shapes of the property definitions API (PostHog's enterprise field set, §3)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from definitions.models import PropertyDefinition
from definitions.serializers.common import QueryBooleanField, TagListField, UserBasicSerializer

GROUP_TYPES_LIMIT = 5
TYPE_NAMES = {"event": 1, "person": 2, "group": 3, "session": 4}


class PropertyDefinitionSerializer(serializers.ModelSerializer):
    """PostHog's `EnterprisePropertyDefinition`."""

    tags = serializers.ListField(child=serializers.CharField(), source="tag_names", read_only=True, help_text="Tags.")
    updated_by = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who last changed it.")
    verified_by = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who verified it.")
    hidden = serializers.BooleanField(allow_null=True, read_only=True, help_text="Hidden from pickers.")
    is_seen_on_filtered_events = serializers.SerializerMethodField(
        help_text="Whether it was seen with one of `event_names` (null when no event_names were given)."
    )

    class Meta:
        model = PropertyDefinition
        fields = [
            "id",
            "name",
            "description",
            "tags",
            "is_numerical",
            "updated_at",
            "updated_by",
            "is_seen_on_filtered_events",
            "property_type",
            "verified",
            "verified_at",
            "verified_by",
            "hidden",
        ]
        read_only_fields = fields

    def get_is_seen_on_filtered_events(self, definition: PropertyDefinition) -> bool | None:
        return getattr(definition, "is_seen_on_filtered_events", None)


class PropertyDefinitionUpdateSerializer(serializers.Serializer):
    """Writable fields (all optional: PUT and PATCH change only what is sent)."""

    description = serializers.CharField(allow_null=True, allow_blank=True, required=False, help_text="Description.")
    tags = TagListField(required=False)
    property_type = serializers.ChoiceField(
        choices=PropertyDefinition.PropertyType.choices,
        allow_null=True,
        required=False,
        help_text="DateTime, String, Numeric, Boolean or Duration; `is_numerical` follows it.",
    )
    verified = serializers.BooleanField(required=False, help_text="Mark as verified (stamps who and when).")
    hidden = serializers.BooleanField(allow_null=True, required=False, help_text="Hide from pickers.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("hidden") and attrs.get("verified"):
            raise serializers.ValidationError("A property cannot be both hidden and verified")
        return attrs


def _json_list(value: str, field: str) -> list[str]:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise serializers.ValidationError(f"`{field}` must be a JSON-encoded list.") from None
    if not isinstance(parsed, list):
        raise serializers.ValidationError(f"`{field}` must be a JSON-encoded list.")
    return [str(v) for v in parsed]


class PropertyDefinitionListQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=list(TYPE_NAMES), required=False, default="event", help_text="event, person, group or session."
    )
    group_type_index = serializers.IntegerField(required=False, help_text="Group type (0–4), only for type=group.")
    search = serializers.CharField(required=False, allow_blank=True, help_text="Every space-separated term in name.")
    properties = serializers.CharField(required=False, help_text="Comma-separated exact names.")
    is_numerical = QueryBooleanField(required=False, default=False, help_text="Only numerical properties.")
    is_feature_flag = QueryBooleanField(
        required=False, allow_null=True, default=None, help_text="true: only `$feature/…`; false: none of them."
    )
    event_names = serializers.CharField(required=False, help_text="JSON list of event names (type=event only).")
    filter_by_event_names = QueryBooleanField(
        required=False, default=False, help_text="Only properties seen with `event_names`."
    )
    excluded_properties = serializers.CharField(required=False, help_text="JSON list of names to omit.")
    exclude_core_properties = QueryBooleanField(required=False, default=False, help_text="Omit PostHog's own.")
    exclude_hidden = QueryBooleanField(required=False, default=False, help_text="Omit hidden definitions.")
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")

    def validate_event_names(self, value: str) -> list[str]:
        return _json_list(value, "event_names")

    def validate_excluded_properties(self, value: str) -> list[str]:
        return _json_list(value, "excluded_properties")

    def validate_properties(self, value: str) -> list[str]:
        return [name.strip() for name in value.split(",") if name.strip()]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        index = attrs.get("group_type_index")
        if attrs["type"] == "group":
            if index is None:
                raise serializers.ValidationError(
                    {"group_type_index": "`group_type_index` must be set for `group` type"}
                )
            if not 0 <= index < GROUP_TYPES_LIMIT:
                raise serializers.ValidationError({"group_type_index": "Invalid value for `group_type_index`"})
        elif index is not None:
            raise serializers.ValidationError({"group_type_index": "`group_type_index` can only set for `group` type"})
        if attrs.get("event_names") and attrs["type"] != "event":
            raise serializers.ValidationError({"event_names": "`event_names` can only be set for `event` type"})
        return attrs


class SeenTogetherQuerySerializer(serializers.Serializer):
    event_names = serializers.ListField(child=serializers.CharField(), help_text="Event names (repeat the parameter).")
    property_name = serializers.CharField(help_text="Property name.")
