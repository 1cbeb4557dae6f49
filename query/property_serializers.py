"""The `properties` field of query nodes: PostHog property filters (a list, or a nested AND/OR
`PropertyGroupFilter`), validated by translating them with query.properties (one definition of what is
valid). Errors name the path inside the field, e.g. `{"properties": {"1__operator": ["…"]}}`."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from posthog_clone.properties import QUERY_PROPERTY_OPERATORS
from query.properties import ELEMENT_KEYS, FILTER_TYPES, GROUP_TYPES, PropertyFilterError, validate_property_filters

_SCALAR = {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}
PROPERTY_FILTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One filter. `element` keys: "
    + ", ".join(ELEMENT_KEYS)
    + '; `hogql`: `key` is the expression; `cohort`: `{"key": "id", "value": <cohort id>, "operator": "in"|"not_in"}`.',
    "properties": {
        "type": {"type": "string", "enum": list(FILTER_TYPES), "default": "event"},
        "key": {"type": "string", "minLength": 1},
        "operator": {"type": "string", "enum": list(QUERY_PROPERTY_OPERATORS), "default": "exact"},
        "value": {"oneOf": [*_SCALAR["oneOf"], {"type": "array", "items": _SCALAR}], "nullable": True},
        "label": {"type": "string", "nullable": True},
        "group_type_index": {"type": "integer", "minimum": 0, "maximum": 4},
        "cohort_name": {"type": "string", "nullable": True, "description": "cohort filters: the name (ignored)"},
    },
    "required": ["key"],
    "additionalProperties": False,
}
# OpenAPI has no recursion without components: the schema spells out two levels, the validator any depth.
_INNER_GROUP = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": list(GROUP_TYPES)}, "values": {"type": "array"}},
    "required": ["type", "values"],
}
PROPERTY_GROUP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "type": {"type": "string", "enum": list(GROUP_TYPES)},
        "values": {"type": "array", "items": {"anyOf": [PROPERTY_FILTER_SCHEMA, _INNER_GROUP]}},
    },
    "required": ["type", "values"],
    "additionalProperties": False,
}
PROPERTIES_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"type": "array", "items": {"anyOf": [PROPERTY_FILTER_SCHEMA, PROPERTY_GROUP_SCHEMA]}},
        PROPERTY_GROUP_SCHEMA,
    ],
    "nullable": True,
}


@extend_schema_field(PROPERTIES_SCHEMA)
class PropertyFiltersField(serializers.JSONField):
    def __init__(self, *, scope: str = "event", **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            'Property filters: a list (ANDed) of `{"type", "key", "operator", "value"}` filters or '
            '`{"type": "AND"|"OR", "values": [...]}` groups, nested to any depth.',
        )
        super().__init__(**kwargs)
        self.scope = scope

    def to_internal_value(self, data: Any) -> Any:
        data = super().to_internal_value(data)
        try:
            validate_property_filters(data, scope=self.scope)
        except PropertyFilterError as error:
            raise serializers.ValidationError({error.attr or "non_field_errors": [error.message]}) from None
        return data
