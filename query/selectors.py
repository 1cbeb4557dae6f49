"""Reads the query layer needs from Django: property types of a project (cached briefly)."""

from __future__ import annotations

from django.core.cache import cache

from definitions.models import PropertyDefinition
from posthog_clone.accounts.models import Team

PROPERTY_TYPES_TTL = 30
_TYPED = [
    PropertyDefinition.PropertyType.NUMERIC,
    PropertyDefinition.PropertyType.DATETIME,
    PropertyDefinition.PropertyType.BOOLEAN,
]


def property_types_for_team(*, team: Team) -> dict[tuple[int, str], str]:
    """(definition type, name) → property_type, only for the types that change how a value prints."""
    key = f"hogql_property_types:{team.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rows = PropertyDefinition.objects.filter(team=team, property_type__in=_TYPED).values_list(
        "type", "name", "property_type"
    )
    types = {(kind, name): property_type for kind, name, property_type in rows}
    cache.set(key, types, PROPERTY_TYPES_TTL)
    return types
