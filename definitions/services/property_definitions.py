"""Writes of property definitions: update (type keeps `is_numerical` in sync, hidden/verified exclusive) and
delete, both activity-logged with the definition's `type` label."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from definitions.models import PropertyDefinition
from definitions.services.activity import activity_log_record, changes_between
from definitions.services.event_definitions import apply_verification
from definitions.services.tags import tags_collect_garbage, tags_of, tags_set
from posthog_clone.accounts.models import User

SCOPE = "PropertyDefinition"
_LOGGED_FIELDS = ("description", "tags", "property_type", "verified", "hidden")


def _snapshot(definition: PropertyDefinition) -> dict[str, Any]:
    values = {field: getattr(definition, field) for field in _LOGGED_FIELDS if field != "tags"}
    values["tags"] = tags_of(item=definition)
    return values


def _type_label(definition: PropertyDefinition) -> str:
    return PropertyDefinition.Type(definition.type).label


@transaction.atomic
def property_definition_update(
    *, definition: PropertyDefinition, user: User, data: dict[str, Any]
) -> PropertyDefinition:
    before = _snapshot(definition)
    if "description" in data:
        definition.description = data["description"]
    if "property_type" in data:
        definition.property_type = data["property_type"]
        definition.is_numerical = data["property_type"] == PropertyDefinition.PropertyType.NUMERIC
    apply_verification(definition, data, user)
    definition.updated_by = user
    definition.save()
    if "tags" in data:
        tags_set(team=definition.team, item=definition, names=data["tags"])
    after = _snapshot(definition)
    changes = changes_between(scope=SCOPE, before=before, after={k: v for k, v in after.items() if k in data})
    if changes:
        activity_log_record(
            team=definition.team, user=user, scope=SCOPE, activity="changed", item_id=definition.pk,
            name=definition.name, changes=changes, type_label=_type_label(definition),
        )  # fmt: skip
    return definition


@transaction.atomic
def property_definition_delete(*, definition: PropertyDefinition, user: User) -> None:
    team, pk, name, label = definition.team, definition.pk, definition.name, _type_label(definition)
    definition.delete()
    tags_collect_garbage(team=team)
    activity_log_record(team=team, user=user, scope=SCOPE, activity="deleted", item_id=pk, name=name, type_label=label)
