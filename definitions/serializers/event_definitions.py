"""Request and response shapes of the event definitions API (PostHog's enterprise field set)."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from definitions.models import EventDefinition
from definitions.serializers.common import QueryBooleanField, TagListField, UserBasicSerializer
from posthog_clone.accounts.models import User

EVENT_TYPES = ("event", "event_custom", "event_posthog", "all", "action_event")
ORDERING_KEYS = ("name", "last_seen_at", "last_seen_at::date", "created_at", "created_at::date")


class EventDefinitionSerializer(serializers.ModelSerializer):
    """PostHog's `EnterpriseEventDefinition`."""

    owner = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who owns the definition.")
    updated_by = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who last changed it.")
    verified_by = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who verified it.")
    tags = serializers.ListField(
        child=serializers.CharField(), source="tag_names", read_only=True, help_text="Tag names."
    )
    hidden = serializers.BooleanField(allow_null=True, read_only=True, help_text="Hidden from pickers.")
    is_action = serializers.SerializerMethodField(help_text="Always false for event rows.")
    post_to_slack = serializers.SerializerMethodField(help_text="Accepted on input, always false.")
    default_columns = serializers.SerializerMethodField(help_text="Columns the events table shows for this event.")
    media_preview_urls = serializers.SerializerMethodField(help_text="Preview media URLs (none stored).")

    class Meta:
        model = EventDefinition
        fields = [
            "id",
            "name",
            "owner",
            "description",
            "tags",
            "created_at",
            "updated_at",
            "updated_by",
            "last_seen_at",
            "verified",
            "verified_at",
            "verified_by",
            "hidden",
            "enforcement_mode",
            "primary_property",
            "is_action",
            "post_to_slack",
            "default_columns",
            "media_preview_urls",
        ]
        read_only_fields = fields

    def get_is_action(self, definition: EventDefinition) -> bool:
        return False

    def get_post_to_slack(self, definition: EventDefinition) -> bool:
        return False

    def get_default_columns(self, definition: EventDefinition) -> list[str]:
        return list(definition.default_columns or [])

    def get_media_preview_urls(self, definition: EventDefinition) -> list[str]:
        return []


@extend_schema_field(OpenApiTypes.INT)
class OrganizationMemberField(serializers.PrimaryKeyRelatedField):
    """A user id among the members of the project's organization: any other id is `does_not_exist`, so the
    nested `owner` in the response can never show someone outside the organization."""

    def get_queryset(self) -> Any:
        team = self.context.get("team")
        if team is None:
            return User.objects.none()
        return User.objects.filter(organization_memberships__organization_id=team.organization_id)


class EventDefinitionUpdateSerializer(serializers.Serializer):
    """Writable fields of an event definition (all optional: PUT and PATCH change only what is sent)."""

    owner = OrganizationMemberField(allow_null=True, required=False, help_text="User id of the owner (a member).")
    description = serializers.CharField(allow_null=True, allow_blank=True, required=False, help_text="Description.")
    tags = TagListField(required=False)
    verified = serializers.BooleanField(required=False, help_text="Mark as verified (stamps who and when).")
    hidden = serializers.BooleanField(allow_null=True, required=False, help_text="Hide from pickers.")
    enforcement_mode = serializers.ChoiceField(
        choices=EventDefinition.EnforcementMode.choices,
        required=False,
        help_text="`reject` drops events failing the attached schemas at ingestion.",
    )
    primary_property = serializers.CharField(
        max_length=400, allow_null=True, required=False, help_text="Property shown next to the event name."
    )
    post_to_slack = serializers.BooleanField(required=False, help_text="Accepted and discarded.")
    default_columns = serializers.ListField(
        child=serializers.CharField(), allow_null=True, required=False, help_text="Events table columns."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("post_to_slack", None)
        if attrs.get("hidden") and attrs.get("verified"):
            raise serializers.ValidationError("An event cannot be both hidden and verified")
        return attrs


class EventDefinitionCreateSerializer(EventDefinitionUpdateSerializer):
    name = serializers.CharField(max_length=400, help_text="Event name, unique in the project.")


def _json_list(value: str, field: str) -> list[Any]:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise serializers.ValidationError(f"`{field}` must be a JSON-encoded list.") from None
    return parsed if isinstance(parsed, list) else []


class EventDefinitionListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, allow_blank=True, help_text="Space-separated terms; every term must occur in the name."
    )
    event_type = serializers.CharField(
        required=False, default="event", help_text="`event` (all), `event_custom` (no `$`), `event_posthog` (`$`)."
    )
    ordering = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="`name`, `last_seen_at`, `last_seen_at::date`, `created_at`, `created_at::date`; `-` for descending.",
    )
    exclude_hidden = QueryBooleanField(required=False, default=False, help_text="Drop hidden definitions.")
    verified = QueryBooleanField(
        required=False, allow_null=True, default=None, help_text="true: verified plus core events; false: the rest."
    )
    excluded_properties = serializers.CharField(required=False, help_text="JSON-encoded list of event names to omit.")
    names = serializers.ListField(child=serializers.CharField(), required=False, help_text="Exact event names.")
    tags = serializers.CharField(required=False, help_text="JSON-encoded list of tag names (any of them).")
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")

    def validate_event_type(self, value: str) -> str:
        if value not in EVENT_TYPES:
            raise serializers.ValidationError("Not a valid event type. Use one of: event, event_custom, event_posthog.")
        return value

    def validate_ordering(self, value: list[str]) -> list[str]:
        keys = [part.strip() for item in value for part in item.split(",")]
        return [key for key in keys if key.lstrip("-") in ORDERING_KEYS]

    def validate_names(self, value: list[str]) -> list[str]:
        return [part.strip() for item in value for part in item.split(",") if part.strip()]

    def validate_excluded_properties(self, value: str) -> list[str]:
        return [str(v) for v in _json_list(value, "excluded_properties")]

    def validate_tags(self, value: str) -> list[str]:
        return [str(v) for v in _json_list(value, "tags")]


class ByNameQuerySerializer(serializers.Serializer):
    name = serializers.CharField(required=False, help_text="Exact event name.")


class MetricsSerializer(serializers.Serializer):
    query_usage_30_day = serializers.IntegerField(help_text="Saved queries referencing the event (30 days).")


class PrimaryPropertiesQuerySerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.CharField(), required=False, help_text="Event names.")


class PrimaryPropertiesSerializer(serializers.Serializer):
    primary_properties = serializers.DictField(
        child=serializers.CharField(), help_text="Event name → its primary property (only set ones)."
    )


class BulkUpdateTagsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=500, help_text="Definition ids (1–500)."
    )
    action = serializers.ChoiceField(choices=["add", "remove", "set"], help_text="How to apply `tags`.")
    tags = TagListField(help_text="Tag names.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["action"] in ("add", "remove") and not attrs["tags"]:
            raise serializers.ValidationError({"tags": "This list may not be empty."})
        return attrs


class TaggedIdSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Definition id.")
    tags = serializers.ListField(child=serializers.CharField(), help_text="Its tags after the change.")


class SkippedIdSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Id that was not changed.")
    reason = serializers.CharField(help_text="Why.")


class BulkUpdateTagsResultSerializer(serializers.Serializer):
    updated = TaggedIdSerializer(many=True, help_text="Changed definitions.")
    skipped = SkippedIdSerializer(many=True, help_text="Ids left alone.")


class BulkUpdateVerifiedSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), max_length=500, help_text="Definition ids (≤500).")
    verified = serializers.BooleanField(help_text="Target state.")


class VerifiedIdSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Definition id.")
    verified = serializers.BooleanField(help_text="Its new state.")


class BulkUpdateVerifiedResultSerializer(serializers.Serializer):
    updated = VerifiedIdSerializer(many=True, help_text="Changed definitions.")
    skipped = SkippedIdSerializer(many=True, help_text="Ids left alone.")


class CodegenSerializer(serializers.Serializer):
    content = serializers.CharField(help_text="The whole generated source file.")
    event_count = serializers.IntegerField(help_text="Events in the file.")
    schema_hash = serializers.CharField(help_text="32 hex chars; changes exactly when the schema changes.")
    generator_version = serializers.CharField(help_text="Version of the generator (semver).")
