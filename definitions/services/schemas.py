"""Writes of schema property groups and event schemas. Each change bumps `schema_version` on the affected
event definitions and is activity-logged; enforcement caches follow through the model signals."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework import serializers

from definitions.models import EventDefinition, EventSchema, SchemaPropertyGroup, SchemaPropertyGroupProperty
from definitions.services.activity import activity_log_record, changes_between
from posthog_clone.accounts.models import Team, User

GROUP_SCOPE = "SchemaPropertyGroup"
SCHEMA_SCOPE = "EventSchema"
_PROPERTY_FIELDS = ("name", "property_type", "is_required", "is_optional_in_types", "validation_rules", "description")


def _bump_schema_version(*, group_ids: list[Any] | None = None, definition_ids: list[Any] | None = None) -> None:
    rows = EventDefinition.objects.none()
    if group_ids:
        rows = EventDefinition.objects.filter(schemas__property_group_id__in=group_ids)
    if definition_ids:
        rows = rows | EventDefinition.objects.filter(pk__in=definition_ids)
    EventDefinition.objects.filter(pk__in=rows.values("pk")).update(schema_version=F("schema_version") + 1)


def _group_snapshot(group: SchemaPropertyGroup) -> dict[str, Any]:
    properties = [{field: getattr(p, field) for field in _PROPERTY_FIELDS} for p in group.properties.order_by("name")]
    return {"name": group.name, "description": group.description, "properties": properties}


def _replace_properties(group: SchemaPropertyGroup, items: list[dict[str, Any]]) -> None:
    """The payload is the whole list: unknown ids are deleted, known ids updated, the rest created.

    Renamed rows first move to a placeholder name, so a payload that swaps two names, or gives a new
    property the old name of a renamed one, never trips the (group, name) unique constraint midway."""
    existing = {p.pk: p for p in group.properties.all()}
    ids = [item["id"] for item in items if item.get("id") in existing]
    if len(ids) != len(set(ids)):
        raise serializers.ValidationError({"properties": "A property id appears more than once"})
    group.properties.exclude(pk__in=ids).delete()
    for item in items:
        current = existing.get(item.get("id"))
        if current is not None and "name" in item and item["name"] != current.name:
            SchemaPropertyGroupProperty.objects.filter(pk=current.pk).update(name=f"__renaming__{current.pk}")
    for item in items:
        values = {field: item[field] for field in _PROPERTY_FIELDS if field in item}
        current = existing.get(item.get("id"))
        if current is not None:
            for field, value in values.items():
                setattr(current, field, value)
            current.save()
        else:
            SchemaPropertyGroupProperty.objects.create(property_group=group, **values)


def _name_taken(team: Team, name: str, exclude_pk: Any = None) -> bool:
    return SchemaPropertyGroup.objects.filter(team=team, name=name).exclude(pk=exclude_pk).exists()


@transaction.atomic
def schema_property_group_create(*, team: Team, user: User, data: dict[str, Any]) -> SchemaPropertyGroup:
    if _name_taken(team, data["name"]):
        raise serializers.ValidationError({"name": "A property group with this name already exists for this team"})
    try:
        with transaction.atomic():
            group = SchemaPropertyGroup.objects.create(
                team=team, name=data["name"], description=data.get("description", ""), created_by=user
            )
    except IntegrityError:
        raise serializers.ValidationError(
            {"name": "A property group with this name already exists for this team"}
        ) from None
    _replace_properties(group, data.get("properties") or [])
    activity_log_record(team=team, user=user, scope=GROUP_SCOPE, activity="created", item_id=group.pk, name=group.name)
    return group


@transaction.atomic
def schema_property_group_update(
    *, group: SchemaPropertyGroup, user: User, data: dict[str, Any]
) -> SchemaPropertyGroup:
    before = _group_snapshot(group)
    if "name" in data and _name_taken(group.team, data["name"], exclude_pk=group.pk):
        raise serializers.ValidationError({"name": "A property group with this name already exists"})
    for field in ("name", "description"):
        if field in data:
            setattr(group, field, data[field])
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:  # a concurrent rename or create took the name after the check
        raise serializers.ValidationError({"name": "A property group with this name already exists"}) from None
    if data.get("properties") is not None:
        _replace_properties(group, data["properties"])
        _bump_schema_version(group_ids=[group.pk])
    after = {k: v for k, v in _group_snapshot(group).items() if k in data}
    changes = changes_between(scope=GROUP_SCOPE, before=before, after=after)
    if changes:
        activity_log_record(
            team=group.team, user=user, scope=GROUP_SCOPE, activity="changed", item_id=group.pk, name=group.name,
            changes=changes,
        )  # fmt: skip
    return group


@transaction.atomic
def schema_property_group_delete(*, group: SchemaPropertyGroup, user: User) -> None:
    _bump_schema_version(group_ids=[group.pk])
    team, pk, name = group.team, group.pk, group.name
    group.delete()
    activity_log_record(team=team, user=user, scope=GROUP_SCOPE, activity="deleted", item_id=pk, name=name)


def _resolve_link(team: Team, data: dict[str, Any]) -> tuple[EventDefinition | None, SchemaPropertyGroup | None]:
    definition = group = None
    if "event_definition" in data:
        definition = EventDefinition.objects.filter(team=team, pk=data["event_definition"]).first()
        if definition is None:
            raise serializers.ValidationError(
                {"event_definition": f'Invalid pk "{data["event_definition"]}" - object does not exist.'},
                code="does_not_exist",
            )
    if "property_group_id" in data:
        group = SchemaPropertyGroup.objects.filter(team=team, pk=data["property_group_id"]).first()
        if group is None:
            raise serializers.ValidationError(
                {"property_group_id": f'Invalid pk "{data["property_group_id"]}" - object does not exist.'},
                code="does_not_exist",
            )
    return definition, group


def _duplicate_link(definition: EventDefinition, group: SchemaPropertyGroup, exclude_pk: Any = None) -> None:
    if EventSchema.objects.filter(event_definition=definition, property_group=group).exclude(pk=exclude_pk).exists():
        raise serializers.ValidationError(f"Property group '{group.name}' is already added to this event schema")


def _save_link(schema: EventSchema) -> None:
    """Save a link; a concurrent request that attached the same pair first makes it the duplicate 400."""
    try:
        with transaction.atomic():
            schema.save()
    except IntegrityError:
        _duplicate_link(schema.event_definition, schema.property_group, exclude_pk=schema.pk)
        raise  # not the pair constraint after all


def _link_name(schema: EventSchema) -> str:
    return f"{schema.event_definition.name} / {schema.property_group.name}"


@transaction.atomic
def event_schema_create(*, team: Team, user: User, data: dict[str, Any]) -> EventSchema:
    definition, group = _resolve_link(team, data)
    assert definition is not None and group is not None  # both required by the input serializer
    _duplicate_link(definition, group)
    schema = EventSchema(event_definition=definition, property_group=group)
    _save_link(schema)
    _bump_schema_version(definition_ids=[definition.pk])
    activity_log_record(
        team=team, user=user, scope=SCHEMA_SCOPE, activity="created", item_id=schema.pk, name=_link_name(schema)
    )
    return schema


@transaction.atomic
def event_schema_update(*, schema: EventSchema, user: User, data: dict[str, Any]) -> EventSchema:
    team = schema.event_definition.team
    definition, group = _resolve_link(team, data)
    before = {"event_definition": schema.event_definition_id, "property_group": schema.property_group_id}
    old_definition = schema.event_definition_id
    schema.event_definition = definition or schema.event_definition
    schema.property_group = group or schema.property_group
    _duplicate_link(schema.event_definition, schema.property_group, exclude_pk=schema.pk)
    _save_link(schema)
    _bump_schema_version(definition_ids=[old_definition, schema.event_definition_id])
    after = {"event_definition": schema.event_definition_id, "property_group": schema.property_group_id}
    changes = changes_between(scope=SCHEMA_SCOPE, before=before, after=after)
    if changes:
        activity_log_record(
            team=team, user=user, scope=SCHEMA_SCOPE, activity="changed", item_id=schema.pk, name=_link_name(schema),
            changes=changes,
        )  # fmt: skip
    return schema


@transaction.atomic
def event_schema_delete(*, schema: EventSchema, user: User) -> None:
    team, pk, name, definition_id = (
        schema.event_definition.team,
        schema.pk,
        _link_name(schema),
        schema.event_definition_id,
    )
    schema.delete()
    _bump_schema_version(definition_ids=[definition_id])
    activity_log_record(team=team, user=user, scope=SCHEMA_SCOPE, activity="deleted", item_id=pk, name=name)
