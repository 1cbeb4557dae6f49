"""Request and response shapes of /api/projects/:id/actions/ (PostHog's field names)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from actions.models import Action
from posthog_clone.accounts.serializers import UserBasicSerializer

MATCHING = ["contains", "regex", "exact"]


class ActionStepSerializer(serializers.Serializer):
    """One step (`ActionStepJSON`): every present key must hold; the action matches when any step does."""

    event = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    properties = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True, help_text="Property filters (ANDed)."
    )
    selector = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="CSS selector.")
    tag_name = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    text = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    text_matching = serializers.ChoiceField(choices=MATCHING, required=False, allow_null=True, allow_blank=True)
    href = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    href_matching = serializers.ChoiceField(choices=MATCHING, required=False, allow_null=True, allow_blank=True)
    url = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    url_matching = serializers.ChoiceField(
        choices=MATCHING, required=False, allow_null=True, allow_blank=True, help_text="Default contains."
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        step = instance if isinstance(instance, dict) else {}
        keys = ("event", "properties", "selector", "tag_name", "text", "text_matching", "href", "href_matching")
        out = {key: step.get(key) for key in keys}
        out["url"] = step.get("url")
        out["url_matching"] = step.get("url_matching") or ("contains" if step.get("url") else step.get("url_matching"))
        return out


class ActionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    post_to_slack = serializers.BooleanField(required=False)
    slack_message_format = serializers.CharField(max_length=1200, required=False, allow_blank=True)
    steps = ActionStepSerializer(many=True, required=False, allow_null=True)
    deleted = serializers.BooleanField(required=False)
    pinned_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Any value pins at the server's time; null unpins."
    )
    _create_in_folder = serializers.CharField(required=False, allow_blank=True, write_only=True)

    def validate_steps(self, steps: list[Any] | None) -> list[Any] | None:
        if steps and any(step is None for step in steps):
            raise serializers.ValidationError("A step must be an object, not null.")
        return steps


class ActionSerializer(serializers.ModelSerializer):
    steps = ActionStepSerializer(many=True, source="steps_json", read_only=True)
    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    team_id = serializers.IntegerField(read_only=True)
    is_calculating = serializers.SerializerMethodField(help_text="Always false.")
    is_action = serializers.SerializerMethodField(help_text="Always true.")
    creation_context = serializers.SerializerMethodField(help_text="Always null.")

    class Meta:
        model = Action
        fields = [
            "id",
            "name",
            "description",
            "tags",
            "post_to_slack",
            "slack_message_format",
            "steps",
            "created_at",
            "created_by",
            "deleted",
            "is_calculating",
            "last_calculated_at",
            "team_id",
            "is_action",
            "bytecode_error",
            "pinned_at",
            "creation_context",
        ]
        read_only_fields = fields

    def get_is_calculating(self, obj: Action) -> bool:
        return False

    def get_is_action(self, obj: Action) -> bool:
        return True

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_creation_context(self, obj: Action) -> None:
        return None


class ActionListSerializer(serializers.Serializer):
    results = ActionSerializer(many=True)
