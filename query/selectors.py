"""Reads the query layer needs from Django: property types of a project (cached briefly); and the HogQL
schema (tables, columns and their types) for the console's SQL page."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from definitions.models import PropertyDefinition
from posthog_clone.accounts.models import Team
from query.hogql import schema

PROPERTY_TYPES_TTL = 30
_TYPED = [
    PropertyDefinition.PropertyType.NUMERIC,
    PropertyDefinition.PropertyType.DATETIME,
    PropertyDefinition.PropertyType.BOOLEAN,
]


def property_types_for_team(*, team: Team) -> dict[tuple[int, str], str]:
    """(definition type, name) → property_type, only for the types that change how a value prints."""
    key = f"hogql_property_types:{team.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rows = PropertyDefinition.objects.filter(team=team, property_type__in=_TYPED).values_list(
        "type", "name", "property_type"
    )
    types = {(kind, name): property_type for kind, name, property_type in rows}
    cache.set(key, types, PROPERTY_TYPES_TTL)
    return types


@dataclass(frozen=True)
class HogQLColumn:
    name: str
    kind: str  # string, integer, float, boolean, datetime, date, uuid, json, array; "table" for a lazy join


@dataclass(frozen=True)
class HogQLTable:
    name: str
    columns: tuple[HogQLColumn, ...]


def hogql_tables() -> list[HogQLTable]:
    """The tables a HogQL query may read and their columns with types, as `SELECT *` shows them (hidden
    fields left out), then the lazy joins and traversers (`person`, `session`…) a query can follow."""
    tables = []
    for table in schema.TABLES.values():
        fields = [HogQLColumn(f.name, f.kind) for f in table.fields.values() if not f.hidden]
        links = [HogQLColumn(name, "table") for name in (*table.joins, *table.traversers)]
        tables.append(HogQLTable(table.name, tuple(fields + links)))
    return tables
