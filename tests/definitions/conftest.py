"""Definitions tests: URL helpers and a small catalogue (events, properties, groups, schemas) per project."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from definitions.enforcement import cache_clear
from definitions.models import (
    EventDefinition,
    EventProperty,
    EventSchema,
    PropertyDefinition,
    SchemaPropertyGroup,
    SchemaPropertyGroupProperty,
)


def url(project: Any, resource: str, suffix: str = "") -> str:
    return f"/api/projects/{project.team.pk}/{resource}/{suffix}"


@pytest.fixture(autouse=True)
def _fresh_enforcement_cache() -> None:
    cache_clear()


def make_event(project: Any, name: str, **fields: Any) -> EventDefinition:
    return EventDefinition.objects.create(team=project.team, name=name, **fields)


def make_property(project: Any, name: str, property_type: str | None = "String", **fields: Any) -> PropertyDefinition:
    return PropertyDefinition.objects.create(
        team=project.team, name=name, property_type=property_type, is_numerical=property_type == "Numeric", **fields
    )


def make_group(project: Any, name: str, properties: list[tuple[str, str, bool]]) -> SchemaPropertyGroup:
    group = SchemaPropertyGroup.objects.create(team=project.team, name=name, created_by=project.user)
    for prop_name, prop_type, required in properties:
        SchemaPropertyGroupProperty.objects.create(
            property_group=group, name=prop_name, property_type=prop_type, is_required=required
        )
    return group


def attach(event: EventDefinition, group: SchemaPropertyGroup) -> EventSchema:
    return EventSchema.objects.create(event_definition=event, property_group=group)


def seen_with(project: Any, event: str, *properties: str) -> None:
    for prop in properties:
        EventProperty.objects.create(team=project.team, event=event, property=prop)


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)
