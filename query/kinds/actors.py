"""`ActorsQuery` without a `source`: the persons list of PostHog's UI (the Persons page, its search box, CSV
of persons).

The node becomes one HogQL `SELECT … FROM persons` (a sqlglot tree of the HogQL dialect, never ClickHouse
SQL) run through `hogql_execute`, paginated there (`limit` + 1 rows fetched for `hasMore`). The page's person
objects are then read with two more HogQL queries (the persons, and their distinct ids), as PostHog does.

- `select`: HogQL expressions over `persons` (`id`, `created_at`, `properties.<key>`, `is_identified`, an
  optional `-- Label`), plus `person`/`actor` (the person object `{"id", "distinct_ids", "properties",
  "is_identified", "created_at"}`) and `person.$delete` (constant 1). Default `["person", "id", "created_at",
  "person.$delete"]`. Aggregates → GROUP BY the others.
- `search`: case-insensitive substring of `properties.email`, `properties.name` or any of the person's
  distinct ids, or the person id itself (a whole UUID, any case).
- `properties`, `fixedProperties`: person property filters only (other types are a 400).
- Order: `orderBy` (`person` sorts by the display name: email, name, username, then the id); else `count()`
  DESC if selected, the first aggregate DESC, `created_at` DESC if selected, the first column ASC; the person
  id breaks ties so pages neither overlap nor skip.
- `PersonsQuery` (the 2023 name) is the same kind.
- `source` (`query.kinds.insight_actors`): the people behind an insight data point (InsightActorsQuery and its
  2023 name InsightPersonsQuery, StickinessActorsQuery) or a HogQLQuery's first column. Its rows are joined to
  `persons` (other projects' persons and unknown ids drop out), its extra columns (`event_count`,
  `matching_events`, …) are selectable by name (also as `source.<name>`), and `search`, `properties`, `orderBy`,
  `limit` and `offset` apply on top. Default select `["person", "id", "person.$delete"]` (PostHog's newer
  default), plus `event_distinct_ids` when the source has it (Trends). `matched_recordings` groups the source's
  `matching_events` by session: `[{"session_id", "events": [{"timestamp", "uuid", "window_id"}]}]`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.hogql.ast import call
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import to_hogql
from query.kinds.base import CachedResponseSerializer, QueryKind, StrictSerializer
from query.kinds.events import (
    FragmentError,
    default_order,
    is_aggregate,
    parse_expression,
    parse_fragments,
    parse_json_text,
    parse_order,
)
from query.kinds.insight_actors import ActorsSourceField, SourceSelect, source_select
from query.properties import property_filters_to_expr
from query.property_serializers import PropertyFiltersField
from query.runner import hogql_execute
from query.selectors import property_types_for_team

DEFAULT_SELECT = ["person", "id", "created_at", "person.$delete"]
DEFAULT_SOURCE_SELECT = ["person", "id", "person.$delete"]
DISPLAY_NAME_PROPERTIES = ("email", "name", "username")
SEARCH_PROPERTIES = ("email", "name")
PERSON_COLUMNS = {"person", "actor"}
DELETE_COLUMN = "person.$delete"
RECORDINGS_COLUMN = "matched_recordings"


def _bare(text: str) -> str:
    """A select item without its `-- Label` comment."""
    return text.split("--", 1)[0].strip()


class ActorsQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["ActorsQuery"], help_text='Query kind: "ActorsQuery".')
    select = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False),
        required=False,
        allow_null=True,
        min_length=1,
        help_text="Columns: HogQL expressions over `persons` (an optional `-- Label` comment), `person` (the "
        'person object), `person.$delete` (1). Default `["person", "id", "created_at", "person.$delete"]`.',
    )
    search = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Case-insensitive substring of the email or name property or of a distinct id; or a person id.",
    )
    properties = PropertyFiltersField(
        scope="person", required=False, allow_null=True, help_text="Person property filters (ANDed)."
    )
    fixedProperties = PropertyFiltersField(  # noqa: N815
        scope="person",
        required=False,
        allow_null=True,
        help_text="Person property filters the UI does not let users edit (ANDed).",
    )
    orderBy = serializers.ListField(  # noqa: N815
        child=serializers.CharField(trim_whitespace=False),
        required=False,
        allow_null=True,
        help_text='`"expression ASC|DESC"` items (`person` = the display name); default: count() DESC, the first '
        "aggregate, created_at DESC, the first column.",
    )
    limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31, help_text="Rows per page (100; at most 50000)."
    )
    offset = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31, help_text="Rows to skip."
    )
    source = ActorsSourceField(
        required=False,
        allow_null=True,
        help_text="Whose actors to list: an InsightActorsQuery (the people behind an insight data point), a "
        "StickinessActorsQuery or a HogQLQuery (first column = actor ids); absent = every person.",
    )
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; echoed.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_select(self, value: list[str] | None) -> list[str] | None:
        for i, text in enumerate(value or []):
            if _special(text) is None:
                try:
                    parse_expression(text, allow_alias=True)
                except FragmentError as error:
                    raise serializers.ValidationError({i: [error.message]}) from None
        return value

    def validate_orderBy(self, value: list[str] | None) -> list[str] | None:  # noqa: N802
        parse_fragments(value, parse_order)
        return value


class PersonsQuerySerializer(ActorsQuerySerializer):
    """`PersonsQuery`: ActorsQuery's 2023 name, still sent by old clients."""

    kind = serializers.ChoiceField(choices=["PersonsQuery"], help_text='Query kind: "PersonsQuery" (= ActorsQuery).')


class ActorsQueryResponseSerializer(CachedResponseSerializer):
    columns = serializers.ListField(child=serializers.CharField(), help_text="The `select` items, as sent.")
    types = serializers.ListField(child=serializers.CharField(), help_text="ClickHouse type of each column.")
    results = serializers.ListField(child=serializers.JSONField(), help_text="Rows; `person` columns are objects.")
    hasMore = serializers.BooleanField(help_text="More rows exist past this page.")  # noqa: N815
    limit = serializers.IntegerField(help_text="Page size.")
    offset = serializers.IntegerField(help_text="Rows skipped.")
    missing_actors_count = serializers.IntegerField(help_text="Actors on the page whose person could not be read.")
    hogql = serializers.CharField(help_text="The HogQL that ran (built from the node).")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


# ---------------------------------------------------------------------------------------------------
# building the HogQL


def _special(text: str) -> str | None:
    bare = _bare(text)
    if bare in PERSON_COLUMNS:
        return "person"
    if bare == DELETE_COLUMN:
        return DELETE_COLUMN
    if bare == RECORDINGS_COLUMN:
        return RECORDINGS_COLUMN
    return None


def _property(key: str) -> exp.Expression:
    return exp.Bracket(this=exp.column("properties"), expressions=[exp.Literal.string(key)])


def display_name_expr() -> exp.Expression:
    """What `person` sorts by: the first display-name property that is set, else the id."""
    names = [
        call("nullIf", call("toString", _property(key)), exp.Literal.string("")) for key in DISPLAY_NAME_PROPERTIES
    ]
    return call("coalesce", *names, call("toString", exp.column("id")))


def search_expr(text: str) -> exp.Expression:
    pattern = exp.Literal.string("%" + re.sub(r"([\\%_])", r"\\\1", text) + "%")

    def like(target: exp.Expression) -> exp.Expression:
        return call("ifNull", exp.ILike(this=target, expression=pattern.copy()), exp.Literal.number(0))

    ids = exp.select("person_id").from_("person_distinct_ids").where(like(exp.column("distinct_id")))
    return exp.or_(
        *[like(call("toString", _property(key))) for key in SEARCH_PROPERTIES],
        exp.EQ(this=call("toString", exp.column("id")), expression=exp.Literal.string(text.strip().lower())),
        exp.In(this=exp.column("id"), query=exp.Subquery(this=ids)),
        copy=False,
    )


def _order_item(text: str) -> exp.Ordered:
    item = parse_order(text)
    target = item.this
    if isinstance(target, exp.Column) and not target.table and target.name in PERSON_COLUMNS:
        item.set("this", display_name_expr())
    return item


def default_select(source: SourceSelect | None) -> list[str]:
    if source is None:
        return list(DEFAULT_SELECT)
    return DEFAULT_SOURCE_SELECT + [name for name in ("event_distinct_ids",) if name in source.extras]


def _column(text: str, kind: str | None, source: SourceSelect | None) -> exp.Expression:
    if kind == "person":
        return exp.column("id")
    if kind == DELETE_COLUMN:
        return exp.Literal.number(1)
    if kind == RECORDINGS_COLUMN:
        if source is None or "matching_events" not in source.extras:
            raise HogQLQueryError(f"{RECORDINGS_COLUMN} needs a source with matching_events (an insight source)")
        return exp.column("matching_events", table="source")
    return parse_expression(text, allow_alias=True)


def _from(source: SourceSelect | None) -> exp.Select:
    """`FROM persons`, joined to the source's rows when there is one (an id of no person here drops out)."""
    select = exp.select().from_("persons")
    if source is None:
        return select
    on = exp.EQ(
        this=call("toString", exp.column("id", table="persons")), expression=exp.column("actor_id", table="source")
    )
    return select.join(exp.Subquery(this=source.select, alias=exp.TableAlias(this="source")), on=on, join_type="INNER")


def build_actors_select(
    query: dict[str, Any],
    *,
    timezone: str,
    property_types: dict[tuple[int, str], str],
    now: dt.datetime,
    source: SourceSelect | None = None,
) -> tuple[exp.Select, list[str | None]]:
    """The HogQL SELECT for an ActorsQuery node (its source's SELECT already built), and what each column is
    (`person`, `person.$delete`, `matched_recordings` or None)."""
    texts: list[str] = list(query.get("select") or default_select(source))
    specials = [_special(text) for text in texts]
    columns = [_column(text, kind, source) for text, kind in zip(texts, specials, strict=True)]
    aggregates = [kind is None and is_aggregate(node) for node, kind in zip(columns, specials, strict=True)]

    conditions: list[exp.Expression] = []
    if query.get("search"):
        conditions.append(search_expr(query["search"]))
    for key in ("properties", "fixedProperties"):
        if query.get(key):
            conditions.append(
                property_filters_to_expr(
                    query[key], scope="person", property_types=property_types, timezone=timezone, now=now
                )
            )

    select = _from(source).select(*columns, copy=False)
    if conditions:
        select = select.where(exp.and_(*conditions, copy=False), copy=False)
    if any(aggregates):
        group = [node for node, aggregate in zip(columns, aggregates, strict=True) if not aggregate]
        group = [(node.this if isinstance(node, exp.Alias) else node).copy() for node in group]
        group = [node for node in group if any(isinstance(n, exp.Column) for n in node.walk())]
        if group:
            select = select.group_by(*group, copy=False)
    order = [_order_item(text) for text in query.get("orderBy") or []] or default_order(
        columns, aggregates, newest="created_at"
    )
    if not any(aggregates) and exp.column("id") not in [item.this for item in order]:
        order.append(exp.Ordered(this=exp.column("id")))  # ties: pages neither overlap nor skip
    if order:
        select.set("order", exp.Order(expressions=order))
    return select, specials


# ---------------------------------------------------------------------------------------------------
# running it


PERSONS_BY_ID = (
    "SELECT id, properties, is_identified, created_at FROM persons WHERE has({ids}, toString(id)) ORDER BY id"
)
DISTINCT_IDS_BY_PERSON = (
    "SELECT toString(person_id), distinct_id FROM person_distinct_ids WHERE has({ids}, toString(person_id)) "
    "ORDER BY distinct_id"
)


def person_objects(team: Team, person_ids: set[str], limit_context: str) -> dict[str, dict[str, Any]]:
    """person id → PostHog's person object, for the ids on the page (two more HogQL queries)."""
    if not person_ids:
        return {}
    ids = sorted(person_ids)
    persons = hogql_execute(
        team=team, query=PERSONS_BY_ID, values={"ids": ids}, limit_context=limit_context, limit=len(ids)
    )
    objects: dict[str, dict[str, Any]] = {}
    for person_id, properties, is_identified, created_at in persons.results:
        objects[str(person_id)] = {
            "id": str(person_id),
            "distinct_ids": [],
            "properties": parse_json_text(properties) or {},
            "is_identified": bool(is_identified),
            "created_at": created_at,
        }
    distinct_ids = hogql_execute(
        team=team, query=DISTINCT_IDS_BY_PERSON, values={"ids": ids}, limit_context=limit_context, limit=50_000
    )
    for person_id, distinct_id in distinct_ids.results:
        if str(person_id) in objects:
            objects[str(person_id)]["distinct_ids"].append(distinct_id)
    return objects


def recordings(matching_events: Any) -> list[dict[str, Any]]:
    """`matched_recordings`: the matching events (`[timestamp, uuid, session_id, window_id]`) of the sessions
    they belong to, sessions in order of their first event; events without a session are left out."""
    sessions: dict[str, list[dict[str, Any]]] = {}
    for timestamp, uuid, session_id, window_id in matching_events or []:
        if session_id:
            sessions.setdefault(session_id, []).append({"timestamp": timestamp, "uuid": uuid, "window_id": window_id})
    return [{"session_id": session_id, "events": events} for session_id, events in sessions.items()]


def _rows(results: list[list[Any]], specials: list[str | None], objects: dict[str, dict[str, Any]]) -> list[list[Any]]:
    def cell(value: Any, kind: str | None) -> Any:
        if kind == "person" and value is not None:
            return objects.get(str(value)) or {"id": str(value)}
        return recordings(value) if kind == RECORDINGS_COLUMN else value

    return [[cell(value, kind) for value, kind in zip(row, specials, strict=False)] for row in results]


def run_actors_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    timezone = team.timezone or "UTC"
    source = source_select(team, query["source"], limit_context) if query.get("source") else None
    select, specials = build_actors_select(
        query,
        timezone=timezone,
        property_types=property_types_for_team(team=team),
        now=clock.now(),
        source=source,
    )
    result = hogql_execute(
        team=team,
        query=to_hogql(select),
        values=source.values if source else None,
        filters=source.filters if source else None,
        variables=source.variables if source else None,
        limit_context=limit_context,
        limit=query.get("limit"),
        offset=query.get("offset"),
    )
    person_columns = [i for i, kind in enumerate(specials) if kind == "person"]
    page_ids = {str(row[i]) for row in result.results for i in person_columns if row[i] is not None}
    objects = person_objects(team, page_ids, limit_context)
    return {
        "columns": list(query.get("select") or default_select(source)),
        "types": [type_ for _, type_ in result.types],
        "results": _rows(result.results, specials, objects),
        "hasMore": bool(result.hasMore),
        "limit": result.limit,
        "offset": result.offset,
        "missing_actors_count": len({person_id for person_id in page_ids if person_id not in objects}),
        "hogql": result.hogql,
        "timings": result.timings,
    }


def actors_overrides(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A dashboard's dates and (event) property filters do not apply to a persons list: the node as is."""
    return query


ACTORS_QUERY = QueryKind(
    name="ActorsQuery",
    request=ActorsQuerySerializer,
    response=ActorsQueryResponseSerializer,
    run=run_actors_query,
    apply_overrides=actors_overrides,
)

PERSONS_QUERY = QueryKind(
    name="PersonsQuery",
    request=PersonsQuerySerializer,
    response=ActorsQueryResponseSerializer,
    run=run_actors_query,
    apply_overrides=actors_overrides,
)
