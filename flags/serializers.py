"""Request and response shapes of the feature flag API. Field rules live here; rules that need the
database (key uniqueness) live in services."""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework import serializers

from flags.evaluation import OPERATORS
from flags.models import FeatureFlag
from posthog_clone.accounts.serializers import UserBasicSerializer

KEY_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
STRING_VALUE_OPERATORS = frozenset({"regex", "icontains", "not_regex", "not_icontains", "gte", "lte", "gt", "lt"})


def _check_property(prop: Any, aggregation_group_type_index: int | None) -> None:
    if not isinstance(prop, dict) or not isinstance(prop.get("key"), (str, int)):
        raise serializers.ValidationError("Filters are not valid (each property needs a key)")
    prop_type = prop.get("type", "person")
    if aggregation_group_type_index is None:
        if prop_type not in ("person", "cohort", "flag"):
            raise serializers.ValidationError(
                "Filters are not valid (can only use person, cohort, and flag properties)"
            )
    elif prop_type != "group" or prop.get("group_type_index") != aggregation_group_type_index:
        raise serializers.ValidationError("Filters are not valid (can only use group properties)")
    operator = prop.get("operator") or "exact"
    if prop_type == "flag" and operator != "flag_evaluates_to":
        raise serializers.ValidationError("Flag properties must use the 'flag_evaluates_to' operator")
    if prop_type in ("person", "group") and operator not in OPERATORS:
        raise serializers.ValidationError(f"Invalid operator: {operator}", code="invalid_operator")
    if operator in STRING_VALUE_OPERATORS and not isinstance(prop.get("value"), str):
        raise serializers.ValidationError(
            f"Invalid value for operator {operator}: {prop.get('value')}", code="invalid_value"
        )


def _check_rollout(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise serializers.ValidationError("Rollout percentage must be a number between 0 and 100.")


def _check_payloads(payloads: Any, variant_keys: set[str], multivariate: bool) -> None:
    if not isinstance(payloads, dict):
        raise serializers.ValidationError("Payloads must be passed as a dictionary")
    for value in payloads.values():
        if isinstance(value, str):
            try:
                json.loads(value)
            except json.JSONDecodeError:
                raise serializers.ValidationError("Payload value is not valid JSON") from None
    if multivariate:
        if not all(key in variant_keys for key in payloads):
            raise serializers.ValidationError("Payload keys must match a variant key for multivariate flags")
    elif len(payloads) > 1 or any(key != "true" for key in payloads):
        raise serializers.ValidationError("Payload keys must be 'true' for boolean flags")


def validate_flag_filters(filters: Any) -> dict[str, Any]:
    """PostHog's checks on `filters`: groups of person (or group) properties, variants summing to 100, payloads."""
    if not isinstance(filters, dict):
        raise serializers.ValidationError("Filters must be a JSON object.")
    groups = filters.get("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise serializers.ValidationError("Filters are not valid (groups must be a list of objects)")
    index = filters.get("aggregation_group_type_index")
    if index is not None and (isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= 4):
        raise serializers.ValidationError("Invalid group type index for feature flag condition.")
    multivariate = filters.get("multivariate") or {}
    variants = multivariate.get("variants", []) if isinstance(multivariate, dict) else None
    if not isinstance(variants, list) or not all(
        isinstance(v, dict) and isinstance(v.get("key"), str) and v["key"] for v in variants
    ):
        raise serializers.ValidationError("Invalid variant definitions: each variant needs a key.")
    for variant in variants:
        _check_rollout(variant.get("rollout_percentage", 0))
    if variants and sum(v.get("rollout_percentage") or 0 for v in variants) != 100:
        raise serializers.ValidationError(
            "Invalid variant definitions: Variant rollout percentages must sum to 100.", code="invalid_input"
        )
    variant_keys = {v["key"] for v in variants}
    for condition in groups:
        _check_rollout(condition.get("rollout_percentage"))
        if condition.get("variant") and condition["variant"] not in variant_keys:
            raise serializers.ValidationError("Filters are not valid (variant override does not exist)")
        properties = condition.get("properties", [])
        if not isinstance(properties, list):
            raise serializers.ValidationError("Filters are not valid (properties must be a list)")
        for prop in properties:
            _check_property(prop, index)
    _check_payloads(filters.get("payloads", {}), variant_keys, bool(variants))
    return filters


class FeatureFlagInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=400, help_text="Unique key within the project; letters, digits, - and _.")
    name = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Description shown in the UI (PostHog calls it name)."
    )
    active = serializers.BooleanField(required=False, default=True, help_text="Whether the flag is evaluated at all.")
    filters = serializers.JSONField(
        required=False,
        help_text="Release conditions: groups (properties, rollout_percentage, variant), multivariate, payloads, "
        "aggregation_group_type_index.",
    )
    rollout_percentage = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100,
        help_text="Legacy: a single rollout for everyone, used when `filters` is not given.",
    )
    ensure_experience_continuity = serializers.BooleanField(
        required=False, default=False, help_text="Keep the same value across identify (not evaluated server-side)."
    )
    deleted = serializers.BooleanField(required=False, default=False, help_text="Soft-delete the flag.")
    _create_in_folder = serializers.CharField(
        required=False,
        write_only=True,
        allow_blank=True,
        max_length=1000,
        help_text="Create: the file-system folder for the flag's tree row (default `Unfiled/Feature Flags`).",
    )

    def validate_key(self, value: str) -> str:
        if not KEY_PATTERN.match(value):
            raise serializers.ValidationError(
                "Only letters, numbers, hyphens (-) & underscores (_) are allowed.", code="invalid_key"
            )
        return value

    def validate_filters(self, value: Any) -> dict[str, Any]:
        return validate_flag_filters(value)


class FeatureFlagPatchSerializer(FeatureFlagInputSerializer):
    """Partial update: every field optional and without defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty

    def validate_filters(self, value: Any) -> dict[str, Any] | None:
        if isinstance(value, dict) and "groups" not in value:
            return None  # as PostHog: a PATCH whose filters lack `groups` leaves the filters unchanged
        return validate_flag_filters(value)


class FeatureFlagSerializer(serializers.ModelSerializer):
    created_by = UserBasicSerializer(read_only=True, allow_null=True, help_text="Who created the flag.")
    filters = serializers.JSONField(help_text="Release conditions (PostHog's filters object).")
    is_simple_flag = serializers.SerializerMethodField(help_text="One condition, no properties, no variants.")
    rollout_percentage = serializers.SerializerMethodField(help_text="The rollout of a simple flag, else null.")
    tags = serializers.SerializerMethodField(help_text="Tags (not supported: always empty).")
    status = serializers.SerializerMethodField(help_text="ACTIVE, or DELETED for soft-deleted flags.")
    # Declared so its bounds do not depend on the database backend (SQLite reports 64-bit, PostgreSQL 32-bit).
    version = serializers.IntegerField(
        required=False, min_value=-(2**31), max_value=2**31 - 1, help_text="Bumped on every change."
    )

    class Meta:
        model = FeatureFlag
        fields = [
            "id",
            "name",
            "key",
            "filters",
            "deleted",
            "active",
            "created_by",
            "created_at",
            "updated_at",
            "version",
            "is_simple_flag",
            "rollout_percentage",
            "ensure_experience_continuity",
            "tags",
            "status",
        ]

    def get_is_simple_flag(self, flag: FeatureFlag) -> bool:
        groups = (flag.filters or {}).get("groups") or []
        no_variants = not ((flag.filters or {}).get("multivariate") or {}).get("variants")
        return len(groups) == 1 and not groups[0].get("properties") and no_variants

    def get_rollout_percentage(self, flag: FeatureFlag) -> int | None:
        if self.get_is_simple_flag(flag):
            return (flag.filters or {})["groups"][0].get("rollout_percentage")
        return None

    def get_tags(self, flag: FeatureFlag) -> list[str]:
        return []

    def get_status(self, flag: FeatureFlag) -> str:
        return "DELETED" if flag.deleted else "ACTIVE"


class FeatureFlagListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, help_text="Case-insensitive match on key or name.")
    active = serializers.ChoiceField(
        choices=["true", "false", "STALE"], required=False, help_text="Only active (true) or disabled (false) flags."
    )
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")


class LocalEvaluationQuerySerializer(serializers.Serializer):
    token = serializers.CharField(required=False, help_text="The project API key (phc_) selecting the project.")
    send_cohorts = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Present (any value): flags go unchanged and `cohorts` holds the property tree of every non-static "
        "cohort they reference. Absent: `cohorts` is empty and a flag on exactly one person-property cohort has it "
        "inlined as conditions.",
    )


class LocalEvaluationFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Flag id.")
    team_id = serializers.IntegerField(help_text="Project id.")
    name = serializers.CharField(help_text="Flag description.")
    key = serializers.CharField(help_text="Flag key.")
    filters = serializers.JSONField(help_text="Release conditions.")
    deleted = serializers.BooleanField(help_text="Always false here.")
    active = serializers.BooleanField(help_text="Disabled flags evaluate to false.")
    ensure_experience_continuity = serializers.BooleanField(help_text="SDKs fall back to /flags for these.")
    version = serializers.IntegerField(help_text="Bumped on every change.")


class LocalEvaluationSerializer(serializers.Serializer):
    flags = LocalEvaluationFlagSerializer(many=True, help_text="Definitions of every non-deleted flag.")
    group_type_mapping = serializers.DictField(
        child=serializers.CharField(), help_text="Group type index (as a string) → group type name."
    )
    cohorts = serializers.DictField(
        help_text="With `send_cohorts`: cohort id (as a string) → its property tree (`{type: AND|OR, values}`) for "
        "every non-static cohort the flags reference, nested ones included; else empty."
    )
