"""Request and response shapes of the persons API."""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework import serializers

from persons.models import Person
from persons.selectors import person_display_name
from posthog_clone import properties

# The persons filter compares no dates (persons/selectors.py).
PROPERTY_OPERATORS = tuple(op for op in properties.PROPERTY_OPERATORS if op not in properties.DATE_OPERATORS)


class PropertyFilterSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Person property name.")
    value = serializers.JSONField(required=False, allow_null=True, help_text="Value (a list means any of them).")
    operator = serializers.ChoiceField(
        choices=PROPERTY_OPERATORS, required=False, default="exact", help_text="How to compare."
    )
    type = serializers.CharField(required=False, default="person", help_text="Only `person` is supported.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        operator, value = attrs.get("operator", "exact"), attrs.get("value")
        if operator in ("gt", "gte", "lt", "lte"):
            try:
                float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise serializers.ValidationError(f"Invalid value for operator {operator}: {value}") from None
        if operator in ("regex", "not_regex"):
            try:
                re.compile(str(value))
            except re.error:
                raise serializers.ValidationError(f"Invalid regular expression: {value}") from None
        return attrs


class PersonListQuerySerializer(serializers.Serializer):
    search = serializers.CharField(
        required=False, help_text="Case-insensitive match on email, name or any distinct id."
    )
    distinct_id = serializers.CharField(required=False, help_text="Only the person with this distinct id.")
    properties = serializers.CharField(
        required=False, help_text='JSON list of property filters, e.g. [{"key":"plan","value":"pro"}].'
    )
    limit = serializers.IntegerField(required=False, min_value=1, help_text="Page size (default 100).")
    offset = serializers.IntegerField(required=False, min_value=0, help_text="Rows to skip.")

    def validate_properties(self, value: str) -> list[dict[str, Any]]:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise serializers.ValidationError("Properties must be a JSON list of property filters.") from None
        if isinstance(parsed, dict):  # {"type": "AND", "values": [...]} groups: take the flat values
            parsed = parsed.get("values", [])
        filters = PropertyFilterSerializer(data=parsed, many=True)
        if not isinstance(parsed, list) or not filters.is_valid():
            raise serializers.ValidationError("Properties must be a JSON list of property filters.")
        return [dict(f) for f in filters.validated_data if f.get("type", "person") == "person"]


class PersonValuesQuerySerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The person property whose values to list.")
    value = serializers.CharField(required=False, help_text="Only values containing this text.")


class PersonValueSerializer(serializers.Serializer):
    name = serializers.JSONField(help_text="A value of the property.")
    count = serializers.IntegerField(help_text="How many persons have it.")


class PersonSerializer(serializers.ModelSerializer):
    distinct_ids = serializers.SerializerMethodField(help_text="All distinct ids of the person.")
    name = serializers.SerializerMethodField(help_text="Email, name, or else the first distinct id.")
    properties = serializers.DictField(help_text="Person properties.")

    class Meta:
        model = Person
        fields = ["id", "uuid", "name", "distinct_ids", "properties", "created_at", "is_identified"]

    def get_distinct_ids(self, person: Person) -> list[str]:
        return [d.distinct_id for d in person.distinct_ids.all()]

    def get_name(self, person: Person) -> str:
        return person_display_name(person)
