"""Tags on event and property definitions: wholesale replacement, bulk add/remove/set, garbage collection."""

from __future__ import annotations

from definitions.models import EventDefinition, PropertyDefinition, Tag, TaggedItem
from posthog_clone.accounts.models import Team

Taggable = EventDefinition | PropertyDefinition


def _owner_field(item: Taggable) -> str:
    return "event_definition" if isinstance(item, EventDefinition) else "property_definition"


def tags_of(*, item: Taggable) -> list[str]:
    return sorted(TaggedItem.objects.filter(**{_owner_field(item): item}).values_list("tag__name", flat=True))


def tags_set(*, team: Team, item: Taggable, names: list[str]) -> None:
    """Replace the item's tags with `names` (already tagified); tags nothing carries any more are removed."""
    field = _owner_field(item)
    wanted = set(names)
    TaggedItem.objects.filter(**{field: item}).exclude(tag__name__in=wanted).delete()
    have = set(TaggedItem.objects.filter(**{field: item}).values_list("tag__name", flat=True))
    for name in sorted(wanted - have):
        tag, _ = Tag.objects.get_or_create(team=team, name=name)
        TaggedItem.objects.get_or_create(tag=tag, **{field: item})
    tags_collect_garbage(team=team)


def tags_collect_garbage(*, team: Team) -> None:
    Tag.objects.filter(team=team, tagged_items__isnull=True).delete()
