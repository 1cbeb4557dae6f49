"""Request and response shapes of /api/projects/:id/annotations/ (reference §3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

from annotations.models import Annotation
from posthog_clone.accounts.serializers import UserBasicSerializer

SCOPES = ["dashboard_item", "dashboard", "project", "organization", "recording"]
LIST_SCOPES = {"insight": "dashboard_item", **{scope: scope for scope in SCOPES}}


class AnnotationSerializer(serializers.ModelSerializer):
    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    dashboard_item = serializers.IntegerField(source="dashboard_item_id", allow_null=True, help_text="Insight id.")
    dashboard_id = serializers.IntegerField(allow_null=True, help_text="Dashboard id.")
    dashboard_name = serializers.SerializerMethodField(help_text="Name of the dashboard.")
    insight_short_id = serializers.SerializerMethodField(help_text="Short id of the insight.")
    insight_name = serializers.SerializerMethodField(help_text="Name of the insight.")
    insight_derived_name = serializers.SerializerMethodField(help_text="Derived name of the insight.")

    class Meta:
        model = Annotation
        fields = [
            "id",
            "content",
            "date_marker",
            "creation_type",
            "dashboard_item",
            "dashboard_id",
            "dashboard_name",
            "insight_short_id",
            "insight_name",
            "insight_derived_name",
            "created_by",
            "created_at",
            "updated_at",
            "deleted",
            "scope",
        ]
        read_only_fields = fields

    def get_dashboard_name(self, annotation: Annotation) -> str | None:
        return annotation.dashboard.name if annotation.dashboard else None

    def get_insight_short_id(self, annotation: Annotation) -> str | None:
        return annotation.dashboard_item.short_id if annotation.dashboard_item else None

    def get_insight_name(self, annotation: Annotation) -> str | None:
        return annotation.dashboard_item.name if annotation.dashboard_item else None

    def get_insight_derived_name(self, annotation: Annotation) -> str | None:
        return annotation.dashboard_item.derived_name if annotation.dashboard_item else None


class AnnotationInputSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    date_marker = serializers.DateTimeField(required=False, allow_null=True)
    creation_type = serializers.ChoiceField(choices=Annotation.CreationType.choices, required=False)
    dashboard_item = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    dashboard_id = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    scope = serializers.ChoiceField(choices=SCOPES, required=False)
    deleted = serializers.BooleanField(required=False)

    def validate_scope(self, value: str) -> str:
        if value == "recording":
            raise serializers.ValidationError("Recording scope is deprecated")
        return value


def _iso(value: str, name: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise serializers.ValidationError(
            f"Invalid date range: {name} must be a valid ISO 8601 date", code="invalid_date_range"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class AnnotationListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, help_text="Part of the content.")
    scope = serializers.CharField(required=False, help_text="dashboard_item (alias insight), dashboard, project, …")
    date_from = serializers.CharField(required=False, help_text="date_marker from (ISO 8601).")
    date_to = serializers.CharField(required=False, help_text="date_marker up to (ISO 8601).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "scope" in attrs:
            if attrs["scope"] not in LIST_SCOPES:
                raise serializers.ValidationError(f"Invalid scope: {attrs['scope']}")
            attrs["scope"] = LIST_SCOPES[attrs["scope"]]
        for name in ("date_from", "date_to"):
            if name in attrs:
                attrs[name] = _iso(attrs[name], name)
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError("Invalid date range: date_from must be before date_to")
        return attrs
