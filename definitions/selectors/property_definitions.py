"""Reads of property definitions: the filtered, ordered list (reference §3.3) and `seen_together`."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.fields import BooleanField

from definitions.models import EventProperty, PropertyDefinition
from definitions.selectors.search import name_search
from definitions.serializers.property_definitions import TYPE_NAMES
from definitions.taxonomy import (
    CORE_NON_DOLLAR_EVENT_PROPERTIES,
    HIDDEN_EVENT_PROPERTIES,
    HIDDEN_EVENT_PROPERTY_PREFIXES,
    PROPERTY_LABELS,
)
from posthog_clone.accounts.models import Team


def property_definitions_base(queryset: QuerySet[PropertyDefinition]) -> QuerySet[PropertyDefinition]:
    return queryset.select_related("updated_by", "verified_by").prefetch_related("tagged_items__tag")


def property_definition_list(*, team: Team, filters: dict[str, Any]) -> QuerySet[PropertyDefinition]:
    kind = TYPE_NAMES[filters.get("type", "event")]
    rows = property_definitions_base(PropertyDefinition.objects.filter(team=team, type=kind))
    if kind == PropertyDefinition.Type.GROUP:
        rows = rows.filter(group_type_index=filters["group_type_index"])
    if kind == PropertyDefinition.Type.EVENT:
        rows = rows.exclude(name__in=HIDDEN_EVENT_PROPERTIES)
        for prefix in HIDDEN_EVENT_PROPERTY_PREFIXES:
            rows = rows.exclude(name__startswith=prefix)
    search = name_search(filters.get("search"))
    if search is not None:
        terms = [term.lower() for term in filters["search"].split()]
        aliases = [name for name, label in PROPERTY_LABELS.items() if all(t in label.lower() for t in terms)]
        rows = rows.filter(search | Q(name__in=aliases)) if aliases else rows.filter(search)
    if filters.get("properties"):
        rows = rows.filter(name__in=filters["properties"])
    if filters.get("is_numerical"):
        rows = rows.filter(is_numerical=True).exclude(name__in=["distinct_id", "timestamp"])
    if filters.get("is_feature_flag") is True:
        rows = rows.filter(name__startswith="$feature/")
    elif filters.get("is_feature_flag") is False:
        rows = rows.exclude(name__startswith="$feature/")
    if filters.get("excluded_properties"):
        rows = rows.exclude(name__in=filters["excluded_properties"])
    if filters.get("exclude_core_properties") and kind == PropertyDefinition.Type.EVENT:
        rows = rows.exclude(name__startswith="$").exclude(name__in=CORE_NON_DOLLAR_EVENT_PROPERTIES)
    if filters.get("exclude_hidden"):
        rows = rows.exclude(hidden=True)
    event_names = filters.get("event_names")
    if event_names:
        seen = EventProperty.objects.filter(team=team, event__in=event_names, property=OuterRef("name"))
        rows = rows.annotate(is_seen_on_filtered_events=Exists(seen))
        if filters.get("filter_by_event_names"):
            rows = rows.filter(is_seen_on_filtered_events=True)
        first = [F("is_seen_on_filtered_events").desc()]
    else:
        rows = rows.annotate(is_seen_on_filtered_events=Value(None, output_field=BooleanField(null=True)))
        first = []
    return rows.order_by(*first, F("verified").desc(nulls_last=True), "name", "id")


def property_seen_together(*, team: Team, event_names: list[str], property_name: str) -> dict[str, bool]:
    seen = set(
        EventProperty.objects.filter(team=team, event__in=event_names, property=property_name).values_list(
            "event", flat=True
        )
    )
    return {name: name in seen for name in event_names}
