"""Invalidate a project's cached enforcement rules whenever a definition, group, group property or
event schema changes. (Ingestion's bulk writes to definitions send no signals, and need none: they
never change `enforcement_mode`.)"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from definitions import enforcement
from definitions.models import EventDefinition, EventSchema, SchemaPropertyGroup, SchemaPropertyGroupProperty


def rules_invalidate(*, team_id: int) -> None:
    """Now (this process and this transaction see it) and again after commit: a worker that re-read the
    rules between the change and the commit cached the old rows under the new version token."""
    enforcement.rules_invalidate(team_id=team_id)
    transaction.on_commit(lambda: enforcement.rules_invalidate(team_id=team_id))


@receiver(post_save, sender=EventDefinition)
@receiver(post_delete, sender=EventDefinition)
@receiver(post_save, sender=SchemaPropertyGroup)
@receiver(post_delete, sender=SchemaPropertyGroup)
def invalidate_for_team_row(sender: type, instance: Any, **kwargs: Any) -> None:
    rules_invalidate(team_id=instance.team_id)


@receiver(post_save, sender=EventSchema)
@receiver(post_delete, sender=EventSchema)
def invalidate_for_event_schema(sender: type, instance: EventSchema, **kwargs: Any) -> None:
    team_id = EventDefinition.objects.filter(pk=instance.event_definition_id).values_list("team_id", flat=True).first()
    if team_id is None:
        team_id = (
            SchemaPropertyGroup.objects.filter(pk=instance.property_group_id).values_list("team_id", flat=True).first()
        )
    if team_id is not None:
        rules_invalidate(team_id=team_id)


@receiver(post_save, sender=SchemaPropertyGroupProperty)
@receiver(post_delete, sender=SchemaPropertyGroupProperty)
def invalidate_for_group_property(sender: type, instance: SchemaPropertyGroupProperty, **kwargs: Any) -> None:
    group = SchemaPropertyGroup.objects.filter(pk=instance.property_group_id).values_list("team_id", flat=True).first()
    if group is not None:
        rules_invalidate(team_id=group)
