"""Writes of event definitions: create, update (verified/hidden rules), delete, bulk tags and verification.
Every write is activity-logged; enforcement caches follow through the model signals."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from definitions.models import EventDefinition, PropertyDefinition, TaggedItem
from definitions.services.activity import activity_log_record, changes_between
from definitions.services.tags import tags_collect_garbage, tags_of, tags_set
from posthog_clone.accounts.models import Team, User

SCOPE = "EventDefinition"
_LOGGED_FIELDS = (
    "owner",
    "description",
    "tags",
    "verified",
    "hidden",
    "enforcement_mode",
    "primary_property",
    "default_columns",
)


def _snapshot(definition: EventDefinition) -> dict[str, Any]:
    values = {field: getattr(definition, field) for field in _LOGGED_FIELDS if field not in ("owner", "tags")}
    values["owner"] = definition.owner_id
    values["tags"] = tags_of(item=definition)
    return values


def apply_verification(definition: EventDefinition | PropertyDefinition, data: dict[str, Any], user: User) -> None:
    """hidden → unverified; verified on an unverified row stamps who/when and unhides; false clears stamps."""
    if data.get("hidden"):
        definition.hidden = True
        definition.verified, definition.verified_by, definition.verified_at = False, None, None
        return
    if "hidden" in data:
        definition.hidden = data["hidden"]
    if data.get("verified") is True and not definition.verified:
        definition.verified, definition.verified_by, definition.verified_at = True, user, timezone.now()
        definition.hidden = False
    elif data.get("verified") is False:
        definition.verified, definition.verified_by, definition.verified_at = False, None, None


def _apply_fields(definition: EventDefinition, data: dict[str, Any]) -> None:
    for field in ("owner", "description", "enforcement_mode", "primary_property", "default_columns"):
        if field in data:
            setattr(definition, field, data[field])


@transaction.atomic
def event_definition_create(*, team: Team, user: User, data: dict[str, Any]) -> EventDefinition:
    name = data["name"]
    if EventDefinition.objects.filter(team=team, name=name).exists():
        raise serializers.ValidationError({"name": f"Event definition with name '{name}' already exists"})
    definition = EventDefinition(team=team, name=name, created_at=None, last_seen_at=None, updated_by=user)
    _apply_fields(definition, data)
    apply_verification(definition, data, user)
    try:
        with transaction.atomic():
            definition.save()
    except IntegrityError:
        raise serializers.ValidationError({"name": f"Event definition with name '{name}' already exists"}) from None
    if data.get("tags"):
        tags_set(team=team, item=definition, names=data["tags"])
    activity_log_record(team=team, user=user, scope=SCOPE, activity="created", item_id=definition.pk, name=name)
    return definition


@transaction.atomic
def event_definition_update(*, definition: EventDefinition, user: User, data: dict[str, Any]) -> EventDefinition:
    before = _snapshot(definition)
    _apply_fields(definition, data)
    apply_verification(definition, data, user)
    definition.updated_by = user
    definition.save()
    if "tags" in data:
        tags_set(team=definition.team, item=definition, names=data["tags"])
    after = _snapshot(definition)
    sent = {field: after[field] for field in _LOGGED_FIELDS if field in data or field in ("verified", "hidden")}
    changes = changes_between(scope=SCOPE, before=before, after=sent)
    if changes:
        activity_log_record(
            team=definition.team,
            user=user,
            scope=SCOPE,
            activity="changed",
            item_id=definition.pk,
            name=definition.name,
            changes=changes,
        )
    return definition


@transaction.atomic
def event_definition_delete(*, definition: EventDefinition, user: User) -> None:
    team, pk, name = definition.team, definition.pk, definition.name
    definition.delete()
    tags_collect_garbage(team=team)
    activity_log_record(team=team, user=user, scope=SCOPE, activity="deleted", item_id=pk, name=name)


def _requested_definitions(
    *, team: Team, ids: list[Any]
) -> tuple[list[tuple[Any, EventDefinition]], list[dict[str, str]]]:
    """The project's definitions among ``ids`` as (id, definition) in request order, each id once, and a
    `{"id", "reason": "Not found"}` entry for every other id (the bulk endpoints' `skipped`)."""
    found = {d.pk: d for d in EventDefinition.objects.filter(team=team, pk__in=ids)}
    requested, skipped = [], []
    for pk in dict.fromkeys(ids):
        if pk in found:
            requested.append((pk, found[pk]))
        else:
            skipped.append({"id": str(pk), "reason": "Not found"})
    return requested, skipped


@transaction.atomic
def event_definitions_bulk_tags(
    *, team: Team, user: User, ids: list[Any], action: str, tags: list[str]
) -> dict[str, list[dict[str, Any]]]:
    requested, skipped = _requested_definitions(team=team, ids=ids)
    updated = []
    for pk, definition in requested:
        current = tags_of(item=definition)
        if action == "add":
            wanted = sorted({*current, *tags})
        elif action == "remove":
            wanted = [t for t in current if t not in tags]
        else:
            wanted = sorted(set(tags))
        if wanted != current:
            tags_set(team=team, item=definition, names=wanted)
            changes = changes_between(scope=SCOPE, before={"tags": current}, after={"tags": wanted})
            activity_log_record(
                team=team, user=user, scope=SCOPE, activity="changed", item_id=pk, name=definition.name, changes=changes
            )
        updated.append({"id": pk, "tags": wanted})
    return {"updated": updated, "skipped": skipped}


@transaction.atomic
def event_definitions_bulk_verified(
    *, team: Team, user: User, ids: list[Any], verified: bool
) -> dict[str, list[dict[str, Any]]]:
    requested, skipped = _requested_definitions(team=team, ids=ids)
    updated = []
    for pk, definition in requested:
        if definition.verified == verified:
            continue  # already in the target state: silently left out
        event_definition_update(definition=definition, user=user, data={"verified": verified})
        updated.append({"id": pk, "verified": verified})
    return {"updated": updated, "skipped": skipped}


def event_definition_tagged_ids(*, team: Team, tag: str) -> list[Any]:
    return list(TaggedItem.objects.filter(tag__team=team, tag__name=tag).values_list("event_definition_id", flat=True))
