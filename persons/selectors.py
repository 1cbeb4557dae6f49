"""Reads on persons: filtered lists, one person by id or uuid, property values."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Case, Count, F, FloatField, Q, QuerySet, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from persons.models import Person, PersonDistinctId
from posthog_clone.accounts.models import Team

NUMERIC_TEXT = r"^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$"


def _property_q(prop: dict[str, Any], alias: str) -> tuple[Q, bool]:
    """(condition on the annotated text value `alias`, whether to negate it)."""
    operator, value = prop["operator"], prop.get("value")
    values = value if isinstance(value, list) else [value]
    if operator in ("exact", "is_not"):
        q = Q()
        for item in values:
            text = "true" if item is True else "false" if item is False else str(item)
            q |= Q(**{f"{alias}__iexact": text})
        return q, operator == "is_not"
    if operator in ("icontains", "not_icontains"):
        return Q(**{f"{alias}__icontains": str(value)}), operator == "not_icontains"
    if operator in ("regex", "not_regex"):
        return Q(**{f"{alias}__regex": str(value)}), operator == "not_regex"
    if operator in ("is_set", "is_not_set"):
        return Q(**{f"{alias}__isnull": False}), operator == "is_not_set"
    return Q(**{f"{alias}_num__{operator}": float(value)}), False


def person_list(
    *, team: Team, search: str | None = None, distinct_id: str | None = None, properties: list[dict[str, Any]] = ()
) -> QuerySet[Person]:
    persons = Person.objects.filter(team=team)
    if distinct_id:
        persons = persons.filter(distinct_ids__distinct_id=distinct_id)
    if search:
        persons = persons.annotate(
            _email=KeyTextTransform("email", "properties"), _name=KeyTextTransform("name", "properties")
        )
        matching_ids = PersonDistinctId.objects.filter(team=team, distinct_id__icontains=search).values("person_id")
        persons = persons.filter(Q(_email__icontains=search) | Q(_name__icontains=search) | Q(pk__in=matching_ids))
    for i, prop in enumerate(properties):
        alias = f"_p{i}"
        persons = persons.annotate(**{alias: KeyTextTransform(prop["key"], "properties")})
        if prop["operator"] in ("gt", "gte", "lt", "lte"):
            # Cast only numeric-looking text: PostgreSQL fails the whole query on a bad cast.
            numeric = When(**{f"{alias}__regex": NUMERIC_TEXT}, then=Cast(F(alias), FloatField()))
            persons = persons.annotate(**{f"{alias}_num": Case(numeric, default=None, output_field=FloatField())})
        condition, negate = _property_q(prop, alias)
        persons = persons.exclude(condition) if negate else persons.filter(condition)
    return persons.prefetch_related("distinct_ids").order_by("-created_at", "-id")


def person_get(*, team: Team, ident: str) -> Person | None:
    """A person by integer id or by uuid."""
    persons = Person.objects.filter(team=team).prefetch_related("distinct_ids")
    if ident.isdigit():
        return persons.filter(pk=int(ident)).first()
    try:
        return persons.filter(uuid=uuid.UUID(ident)).first()
    except ValueError:
        return None


def person_property_values(*, team: Team, key: str, contains: str | None = None) -> list[dict[str, Any]]:
    """Distinct values of one person property with how many persons hold each, most common first."""
    rows = (
        Person.objects.filter(team=team)
        .annotate(_value=KeyTextTransform(key, "properties"))
        .exclude(_value__isnull=True)
    )
    if contains:
        rows = rows.filter(_value__icontains=contains)
    counted = rows.values("_value").annotate(count=Count("id")).order_by("-count", "_value")[:100]
    return [{"name": row["_value"], "count": row["count"]} for row in counted]


NAME_PROPERTIES = ("email", "name", "username")


def person_display_name(person: Person) -> str:
    """A person's name as the persons API gives it: email, name or username, else the first distinct id, else
    the uuid (their distinct ids are read from ``person.distinct_ids``: prefetch them for a list)."""
    props = person.properties if isinstance(person.properties, dict) else {}
    for key in NAME_PROPERTIES:
        if isinstance(props.get(key), str) and props[key]:
            return props[key]
    ids = [d.distinct_id for d in person.distinct_ids.all()]
    return ids[0] if ids else str(person.uuid)
