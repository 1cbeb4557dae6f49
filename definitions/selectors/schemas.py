"""Reads of schema property groups and event schemas, with everything their serializers show prefetched."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from definitions.models import EventSchema, SchemaPropertyGroup, SchemaPropertyGroupProperty


def _group_prefetches() -> list[Prefetch | str]:
    return [
        Prefetch("properties", queryset=SchemaPropertyGroupProperty.objects.order_by("name")),
        Prefetch("event_schemas", queryset=EventSchema.objects.select_related("event_definition")),
    ]


def schema_property_groups_base(queryset: QuerySet[SchemaPropertyGroup]) -> QuerySet[SchemaPropertyGroup]:
    return queryset.select_related("created_by").prefetch_related(*_group_prefetches()).order_by("name", "id")


def event_schemas_base(queryset: QuerySet[EventSchema]) -> QuerySet[EventSchema]:
    prefetches = [
        Prefetch(f"property_group__{p.prefetch_through}", queryset=p.queryset) if isinstance(p, Prefetch) else p
        for p in _group_prefetches()
    ]
    return (
        queryset.select_related("event_definition", "property_group", "property_group__created_by")
        .prefetch_related(*prefetches)
        .order_by("-created_at", "-id")
    )
