"""Request and response shapes of /exports/ (PostHog's v2024/25 ExportedAsset serializer)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from exports.models import VIDEO_FORMATS, ExportedAsset, ExportFormat, midnight
from posthog_clone import registry

STUCK_MESSAGE = (
    "Export failed without throwing an exception. Please try to rerun this export and contact support if it "
    "fails to complete multiple times."
)
API_DEFAULT_TTL = dt.timedelta(weeks=26)
PATH_ONLY_GET = "Exports from API endpoints only support GET requests without a request body."
NULL_CHARACTERS = "Null characters are not allowed."


MAX_CONTEXT_DEPTH = 100  # query nodes nest a dozen levels; far deeper JSON cannot be stored or echoed back


def context_problem(value: Any) -> str | None:
    """Why a JSON value cannot be stored as export_context, or None: a NUL in a string or key (PostgreSQL's
    jsonb cannot hold it) or nesting beyond MAX_CONTEXT_DEPTH (Python's JSON encoder would recurse out).
    Iterative, so the check itself cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_CONTEXT_DEPTH:
            return f"export_context is nested more than {MAX_CONTEXT_DEPTH} levels deep."
        if isinstance(item, str):
            if "\x00" in item:
                return NULL_CHARACTERS
        elif isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


@extend_schema_field(OpenApiTypes.INT)
class TargetPkField(serializers.Field):
    """`dashboard` / `insight` as PostHog's primary-key field validates them: an id of this project's live
    dashboard or insight (asked of the app registered as that export target; none registered: unknown), other
    types are DRF's `incorrect_type`."""

    default_error_messages = {
        "does_not_exist": 'Invalid pk "{pk_value}" - object does not exist.',
        "incorrect_type": "Incorrect type. Expected pk value, received {data_type}.",
    }

    def __init__(self, *, target: str, **kwargs: Any) -> None:
        self.target = target
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, (int, float, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            pk = int(data)
        except (TypeError, ValueError, OverflowError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        target = registry.export_target_for(self.target)
        team = self.context.get("team")
        if target is None or team is None or not (0 < pk < 2**63) or not target.exists(team.pk, pk):
            self.fail("does_not_exist", pk_value=data)
        return pk

    def to_representation(self, value: Any) -> Any:
        return value


def stuck_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "HOGQL_INCREASED_MAX_EXECUTION_TIME", 600)) + 30)


class ExportedAssetSerializer(serializers.ModelSerializer):
    dashboard = serializers.IntegerField(
        source="dashboard_id", read_only=True, allow_null=True, help_text="Dashboard exported, if any."
    )
    insight = serializers.IntegerField(
        source="insight_id", read_only=True, allow_null=True, help_text="Insight exported, if any."
    )
    export_format = serializers.ChoiceField(choices=ExportFormat.choices, help_text="MIME type of the file.")
    created_at = serializers.DateTimeField(read_only=True, help_text="When the export was requested.")
    has_content = serializers.BooleanField(read_only=True, help_text="True once the file is ready to download.")
    export_context = serializers.JSONField(
        allow_null=True, help_text="What was exported: `{source: <HogQLQuery>, filename?, columns?}` or `{path}`."
    )
    filename = serializers.CharField(read_only=True, help_text="Download name, from export_context.filename.")
    expires_after = serializers.DateTimeField(
        allow_null=True, help_text="When the file is deleted; hidden from the API from then on."
    )
    exception = serializers.SerializerMethodField(help_text="Why generation failed (null while fine).")

    class Meta:
        model = ExportedAsset
        fields = [
            "id",
            "dashboard",
            "insight",
            "export_format",
            "created_at",
            "has_content",
            "export_context",
            "filename",
            "expires_after",
            "exception",
        ]
        read_only_fields = fields

    def get_exception(self, asset: ExportedAsset) -> str | None:
        if asset.exception:
            return asset.exception
        if not asset.has_content and asset.created_at and asset.created_at < timezone.now() - stuck_after():
            return STUCK_MESSAGE  # shown only: the row is left as it is
        return asset.exception


class ExportedAssetCreateSerializer(serializers.Serializer):
    export_format = serializers.ChoiceField(choices=ExportFormat.choices, help_text="MIME type of the file to make.")
    export_context = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="`{source: {kind: 'HogQLQuery', query}, filename?, columns?}` or `{path: '/api/projects/:id/…'}`.",
    )
    dashboard = TargetPkField(
        target="dashboard", required=False, allow_null=True, help_text="Dashboard id to export (PNG only)."
    )
    insight = TargetPkField(target="insight", required=False, allow_null=True, help_text="Insight id to export.")
    expires_after = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Expiry; default: midnight 26 weeks from now."
    )

    def validate_export_context(self, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError("export_context must be an object.")
        problem = context_problem(value)
        if problem is not None:
            code = "null_characters_not_allowed" if problem == NULL_CHARACTERS else "invalid_input"
            raise serializers.ValidationError(problem, code=code)
        is_path = isinstance(value, dict) and "path" in value
        if is_path and (str(value.get("method") or "GET").upper() != "GET" or value.get("body") is not None):
            raise serializers.ValidationError(PATH_ONLY_GET)
        columns = value.get("columns") if isinstance(value, dict) else None
        if columns is not None and not (isinstance(columns, list) and all(isinstance(c, str) for c in columns)):
            raise serializers.ValidationError("export_context.columns must be a list of column names.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("dashboard") or attrs.get("insight") or attrs.get("export_context")):
            raise serializers.ValidationError(
                "Either dashboard, insight or export_context is required for an export.", code="invalid_input"
            )
        context = attrs.get("export_context") or {}
        if attrs.get("dashboard") and not context and attrs["export_format"] != ExportFormat.PNG:
            raise serializers.ValidationError(
                {"export_format": ["Dashboards export as PNG only."]}, code="invalid_input"
            )
        if attrs["export_format"] in VIDEO_FORMATS and not context.get("session_recording_id"):
            raise serializers.ValidationError(
                {"export_format": ["Video export supports session recordings only."]}, code="invalid_input"
            )
        if attrs.get("expires_after") is None:
            attrs["expires_after"] = midnight(timezone.now() + API_DEFAULT_TTL)
        return attrs


class ExportedAssetListQuerySerializer(serializers.Serializer):
    export_format = serializers.CharField(
        required=False, help_text="Only this format (ignored unless it is a supported format)."
    )
    context_path = serializers.CharField(
        required=False, help_text="Only exports whose export_context.path contains this (case-insensitive)."
    )
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")


class ExportedAssetContentQuerySerializer(serializers.Serializer):
    download = serializers.BooleanField(
        required=False, default=False, help_text="`true` adds Content-Disposition: attachment with the filename."
    )
