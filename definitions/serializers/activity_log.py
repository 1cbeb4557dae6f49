"""Shapes of the activity log read API (reference §8)."""

from __future__ import annotations

from rest_framework import serializers

from definitions.models import ActivityLog
from definitions.serializers.common import UserBasicSerializer


class ActivityLogSerializer(serializers.ModelSerializer):
    user = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who did it (null: the system).")
    unread = serializers.SerializerMethodField(help_text="Notification state (not tracked: always false).")
    organization_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="Organization of the project.")
    item_id = serializers.CharField(read_only=True, allow_null=True, help_text="Id of the changed object.")
    detail = serializers.JSONField(
        read_only=True, help_text="`{name, short_id, type, changes: [{type, action, field, before, after}], …}`."
    )

    class Meta:
        model = ActivityLog
        fields = [
            "id",
            "user",
            "unread",
            "organization_id",
            "was_impersonated",
            "is_system",
            "activity",
            "item_id",
            "scope",
            "detail",
            "created_at",
        ]
        read_only_fields = fields

    def get_unread(self, entry: ActivityLog) -> bool:
        return False


class ActivityLogPageSerializer(serializers.Serializer):
    next = serializers.CharField(allow_null=True, help_text="URL of the next (older) page.")
    previous = serializers.CharField(allow_null=True, help_text="URL of the previous (newer) page.")
    results = ActivityLogSerializer(many=True, help_text="Entries, newest first.")


class ActivityLogQuerySerializer(serializers.Serializer):
    scope = serializers.CharField(
        required=False, help_text="EventDefinition, PropertyDefinition, SchemaPropertyGroup or EventSchema."
    )
    item_id = serializers.CharField(required=False, help_text="Only entries about this object id.")
    user = serializers.IntegerField(
        required=False, min_value=0, max_value=2**63 - 1, help_text="Only entries by this user id."
    )
    cursor = serializers.CharField(required=False, help_text="Opaque page cursor from `next`/`previous`.")
