"""Request and response shapes of /api/projects/:id/cohorts/ (PostHog's field names)."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cohorts.filters import validate_filters
from cohorts.filters.graph import LOOP, UNKNOWN_COHORT
from cohorts.models import Cohort, CohortCalculation
from cohorts.properties import filters_of
from cohorts.query_source import validate_query
from posthog_clone.accounts.serializers import UserBasicSerializer

COHORT_TYPES = [choice for choice, _ in Cohort.Type.choices]
PROPERTIES_MISSING = "Must contain a 'properties' key with type and values"


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class JSONObjectField(serializers.JSONField):
    """A JSON object; multipart bodies carry it as JSON text."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else None
            except ValueError:
                raise serializers.ValidationError("Value must be valid JSON.") from None
        if data is not None and not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object.")
        return super().to_internal_value(data)


def has_values(filters: Any) -> bool:
    """Whether `filters` holds any criteria (an empty group is none)."""
    properties = filters.get("properties") if isinstance(filters, dict) else None
    return bool(isinstance(properties, dict) and properties.get("values"))


class CohortInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=400, required=False, allow_null=True, allow_blank=True)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    groups = serializers.ListField(
        child=serializers.DictField(), required=False, help_text="Legacy definition; use `filters`."
    )
    deleted = serializers.BooleanField(
        required=False, help_text="`true` soft-deletes (PATCH); `false` restores. DELETE is not allowed."
    )
    filters = JSONObjectField(
        required=False,
        allow_null=True,
        help_text='`{"properties": {"type": "AND"|"OR", "values": [...]}}`: person, behavioral and cohort filters.',
    )
    query = JSONObjectField(
        required=False,
        allow_null=True,
        help_text="Static cohorts only: an ActorsQuery or HogQLQuery whose persons fill it.",
    )
    is_static = serializers.BooleanField(required=False, help_text="Members listed, not calculated from filters.")
    cohort_type = serializers.ChoiceField(
        choices=COHORT_TYPES, required=False, allow_null=True, help_text="Checked against the filters."
    )
    csv = serializers.FileField(
        required=False,
        allow_empty_file=True,  # an empty file is the CSV check's own error
        write_only=True,
        help_text="Static cohorts, multipart: a CSV of person ids, distinct ids or emails.",
    )
    _create_in_folder = serializers.CharField(required=False, allow_blank=True, write_only=True)
    _create_static_person_ids = serializers.ListField(
        child=serializers.CharField(), required=False, write_only=True, help_text="Person UUIDs (static cohorts)."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Every field is optional; partial, so that a field absent from a multipart body stays absent (DRF
        # would read a missing boolean as false and a missing list as empty).
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)

    def _will_be_static(self) -> bool:
        if "is_static" in self.initial_data:
            return self.fields["is_static"].to_internal_value(self.initial_data["is_static"])
        instance = self.context.get("instance")
        return bool(instance is not None and instance.is_static)

    def validate_filters(self, value: Any) -> Any:
        if self._will_be_static() and not has_values(value):
            return value
        if not isinstance(value, dict) or "properties" not in value:
            raise serializers.ValidationError({"detail": PROPERTIES_MISSING, "type": "validation_error"})
        instance = self.context.get("instance")
        try:
            validate_filters(value, team=self.context["team"], cohort_id=instance.pk if instance is not None else None)
        except serializers.ValidationError as error:
            if str(_first_message(error.detail)) not in (LOOP, UNKNOWN_COHORT):
                raise
            # PostHog raises these two from update(), so without an `attr`: services.py checks them again
        return value  # stored as sent

    def validate_query(self, value: Any) -> Any:
        return validate_query(value, team=self.context["team"])


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class _EmptyList(serializers.Field):
    def to_representation(self, value: Any) -> list[int]:
        return []


class CohortSerializer(serializers.ModelSerializer):
    created_by = UserBasicSerializer(read_only=True, allow_null=True)
    filters = serializers.SerializerMethodField(help_text='Always `{"properties": ...}` (legacy `groups` converted).')
    query = serializers.JSONField(
        read_only=True, allow_null=True, help_text="The query of a static cohort made from one."
    )
    groups = serializers.ListField(child=serializers.DictField(), read_only=True, help_text="Legacy definition.")
    experiment_set = _EmptyList(source="pk", read_only=True, help_text="Experiments exposed to it (none here).")

    class Meta:
        model = Cohort
        fields = [
            "id",
            "name",
            "description",
            "groups",
            "deleted",
            "filters",
            "query",
            "is_calculating",
            "created_by",
            "created_at",
            "last_calculation",
            "errors_calculating",
            "count",
            "is_static",
            "cohort_type",
            "experiment_set",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_filters(self, cohort: Cohort) -> dict[str, Any]:
        return filters_of(cohort)


class CohortListQuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["static", "dynamic"], required=False, help_text="Static or dynamic only.")
    created_by_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only cohorts this user created."
    )
    search = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Part of the name.")
    hide_behavioral_cohorts = serializers.BooleanField(
        required=False, default=False, help_text="Leave out cohorts with event filters (unusable in flags)."
    )
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")


class PageQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=2**31, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, max_value=2**62, help_text="Rows to skip.")


class CohortPersonSerializer(serializers.Serializer):
    """A member as PostHog's person object (`SerializedPerson`)."""

    id = serializers.CharField(help_text="Person UUID.")
    uuid = serializers.UUIDField(help_text="Person UUID.")
    type = serializers.ChoiceField(choices=["person"], help_text="Always `person`.")
    name = serializers.CharField(help_text="Email, name, or else the first distinct id.")
    distinct_ids = serializers.ListField(child=serializers.CharField(), help_text="The person's distinct ids.")
    properties = serializers.DictField(help_text="Person properties.")
    created_at = serializers.DateTimeField(allow_null=True, help_text="When the person was first seen.")
    last_seen_at = serializers.DateTimeField(allow_null=True, help_text="Not tracked here: null.")
    is_identified = serializers.BooleanField(allow_null=True, help_text="Whether the person was identified.")
    matched_recordings = serializers.ListField(child=serializers.DictField(), help_text="Always empty here.")
    value_at_data_point = serializers.FloatField(allow_null=True, help_text="Always null here.")


class CohortPersonsResponseSerializer(serializers.Serializer):
    results = CohortPersonSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="URL of the next page, if this one was full.")
    previous = serializers.CharField(allow_null=True, help_text="URL of the previous page.")


# The two bodies below are checked by the service, with PostHog's own messages (`person_ids must be a list`,
# `person_id is required`…), after the cohort is found: the fields only document them.
@extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
class _PersonIdsField(serializers.JSONField):
    pass


@extend_schema_field(serializers.UUIDField())
class _PersonIdField(serializers.JSONField):
    pass


class AddPersonsSerializer(serializers.Serializer):
    person_ids = _PersonIdsField(required=False, help_text="Person UUIDs to add (at most 1000).")


class RemovePersonSerializer(serializers.Serializer):
    person_id = _PersonIdField(required=False, help_text="Person UUID to remove.")


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField(help_text="Always true.")


class CohortCalculationSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True, help_text="Finished − started.")
    is_completed = serializers.SerializerMethodField(help_text="The run has finished.")
    is_successful = serializers.SerializerMethodField(help_text="Finished without an error.")
    queries = serializers.SerializerMethodField(help_text="`[{query, ...}]`: the HogQL that chose the members.")
    total_query_ms = serializers.SerializerMethodField(help_text="Time in ClickHouse (ms; the whole run here).")
    total_memory_mb = serializers.SerializerMethodField(help_text="Not measured here: null.")
    total_read_rows = serializers.SerializerMethodField(help_text="Not measured here: null.")
    total_written_rows = serializers.SerializerMethodField(help_text="Not measured here: null.")
    main_query = serializers.SerializerMethodField(help_text="The HogQL that chose the members.")
    main_query_id = serializers.SerializerMethodField(help_text="Not tracked here: null.")

    class Meta:
        model = CohortCalculation
        fields = [
            "id",
            "filters",
            "count",
            "started_at",
            "finished_at",
            "queries",
            "error",
            "duration_seconds",
            "is_completed",
            "is_successful",
            "total_query_ms",
            "total_memory_mb",
            "total_read_rows",
            "total_written_rows",
            "main_query",
            "main_query_id",
        ]
        read_only_fields = fields

    def get_is_completed(self, run: CohortCalculation) -> bool:
        return run.finished_at is not None

    def get_is_successful(self, run: CohortCalculation) -> bool:
        return run.finished_at is not None and not run.error

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_queries(self, run: CohortCalculation) -> list[dict[str, Any]]:
        return [{"query": run.query}] if run.query else []

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_total_query_ms(self, run: CohortCalculation) -> int | None:
        seconds = run.duration_seconds
        return None if seconds is None else round(seconds * 1000)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_total_memory_mb(self, run: CohortCalculation) -> None:
        return None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_total_read_rows(self, run: CohortCalculation) -> None:
        return None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_total_written_rows(self, run: CohortCalculation) -> None:
        return None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_main_query(self, run: CohortCalculation) -> str | None:
        return run.query or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_main_query_id(self, run: CohortCalculation) -> None:
        return None


def _first_message(detail: Any) -> Any:
    while isinstance(detail, (list, dict)) and detail:
        detail = next(iter(detail.values())) if isinstance(detail, dict) else detail[0]
    return detail
