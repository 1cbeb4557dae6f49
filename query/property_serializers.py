"""The `properties` field of query nodes: PostHog property filters (a list, or a nested AND/OR
`PropertyGroupFilter`), validated by translating them with query.properties (one definition of what is
valid). Errors name the path inside the field, e.g. `{"properties": {"1__operator": ["…"]}}`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from query.properties import PropertyFilterError, validate_property_filters


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
