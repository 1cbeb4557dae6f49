"""Reads of event definitions: the filtered, ordered list, lookups by name, primary properties."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Length, TruncDate

from definitions.models import EventDefinition
from definitions.selectors.search import name_search
from definitions.taxonomy import CORE_EVENTS
from posthog_clone.accounts.models import Team

_ORDER_EXPRESSIONS = {
    "name": F("name"),
    "last_seen_at": F("last_seen_at"),
    "last_seen_at::date": TruncDate("last_seen_at"),
    "created_at": F("created_at"),
    "created_at::date": TruncDate("created_at"),
}
DEFAULT_ORDERING = ["-last_seen_at::date", "name"]


def event_definitions_base(*, team: Team) -> QuerySet[EventDefinition]:
    return (
        EventDefinition.objects.filter(team=team)
        .select_related("owner", "updated_by", "verified_by")
        .prefetch_related("tagged_items__tag")
    )


def _order_by(keys: list[str]) -> list[Any]:
    """ASC puts nulls first, DESC last (PostHog's PostgreSQL defaults); `name` is always the last tiebreaker."""
    if "name" not in [k.lstrip("-") for k in keys]:
        keys = [*keys, "name"]
    out: list[Any] = []
    for key in keys:
        expression = _ORDER_EXPRESSIONS[key.lstrip("-")]
        out.append(expression.desc(nulls_last=True) if key.startswith("-") else expression.asc(nulls_first=True))
    return out


def event_definition_list(*, team: Team, filters: dict[str, Any]) -> QuerySet[EventDefinition]:
    """The list endpoint's rows (reference §1.3): search, event_type, hidden, verified, exclusions, names, tags."""
    rows = event_definitions_base(team=team)
    search = name_search(filters.get("search"))
    if search is not None:
        rows = rows.filter(search)
    event_type = filters.get("event_type", "event")
    if event_type == "event_custom":
        rows = rows.exclude(name__startswith="$")
    elif event_type == "event_posthog":
        rows = rows.filter(name__startswith="$")
    if filters.get("exclude_hidden"):
        rows = rows.exclude(hidden=True)
    verified = filters.get("verified")
    if verified is True:
        rows = rows.filter(Q(verified=True) | Q(name__in=CORE_EVENTS))
    elif verified is False:
        rows = rows.filter(verified=False).exclude(name__in=CORE_EVENTS)
    if filters.get("excluded_properties"):
        rows = rows.exclude(name__in=filters["excluded_properties"])
    if filters.get("names"):
        rows = rows.filter(name__in=filters["names"])
    if filters.get("tags"):
        rows = rows.filter(tagged_items__tag__name__in=filters["tags"]).distinct()
    ordering = filters.get("ordering") or []
    order = _order_by(ordering or DEFAULT_ORDERING)
    if search is not None and not ordering:
        order = [Length("name").asc(), *order]
    return rows.order_by(*order)


def event_definition_by_name(*, team: Team, name: str) -> EventDefinition | None:
    return event_definitions_base(team=team).filter(name=name).first()


def event_definition_primary_properties(*, team: Team, names: list[str]) -> dict[str, str]:
    rows = EventDefinition.objects.filter(team=team, name__in=names).exclude(primary_property__isnull=True)
    return {name: prop for name, prop in rows.values_list("name", "primary_property") if prop}


def event_definition_metrics(*, definition: EventDefinition) -> int:
    """Saved queries referencing the event over 30 days; no saved insights exist here, so always 0."""
    return 0
