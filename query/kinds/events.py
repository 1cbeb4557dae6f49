"""`EventsQuery`: the events table of PostHog's UI (activity explorer, a person's events, CSV of events).

The node becomes one HogQL `SELECT … FROM events` (built as a sqlglot tree of the HogQL dialect, never
ClickHouse SQL) and runs through `hogql_execute`, paginated there (`limit` + 1 rows fetched for `hasMore`).
Each user fragment (`select`, `where`, `orderBy` items) is parsed on its own as exactly one expression, so
no fragment can add a clause, a table or a second statement.

- `select`: HogQL expressions (a trailing `-- Label` comment is allowed), plus `*` (the event as an object),
  `person` and `person_display_name` (the distinct id in the query; the page's persons are then read with
  one more HogQL query over `person_distinct_ids`, as PostHog does). Aggregates → GROUP BY the others.
- `where`: HogQL booleans, ANDed; aggregates go to HAVING.
- `after` (default `-24h`, `all` = no bound) / `before` (default now + 5 s): strict bounds on `timestamp`,
  ISO or relative (`-7d`, `-1mStart`, …) in the project's timezone.
- `event`, `events`, `personId`, `properties`, `fixedProperties` (PostHog property filters).
- Order: `orderBy`, else `count() DESC` if selected, else the first aggregate DESC, else `timestamp DESC`
  if selected, else the first column ASC.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query import clock
from query.actions_expr import action_to_expr
from query.dates import DateRangeError, parse_date
from query.hogql.ast import call
from query.hogql.errors import HogQLSyntaxError
from query.hogql.functions import lookup
from query.hogql.parser import PLACEHOLDER_FUNCTION, parse_select, to_hogql
from query.kinds.base import CachedResponseSerializer, QueryKind, StrictSerializer
from query.properties import PropertyFilterError, property_filters_to_expr
from query.property_serializers import PropertyFiltersField
from query.runner import hogql_execute
from query.selectors import property_types_for_team

DEFAULT_AFTER = "-24h"
BEFORE_SLACK = dt.timedelta(seconds=5)  # PostHog hides events from the future, a few seconds of skew allowed
STAR_FIELDS = (
    "uuid", "event", "properties", "timestamp", "team_id", "distinct_id", "elements_chain", "created_at", "person_mode",
)  # fmt: skip
DISPLAY_NAME_PROPERTIES = ("email", "name", "username")
_JSON_FIELDS = {"properties"}


class FragmentError(Exception):
    """A `select`/`where`/`orderBy` item that is not one HogQL expression (a 400 naming its index)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _only_expression(select: exp.Expression) -> exp.Expression:
    others = [k for k, v in select.args.items() if k not in {"expressions", "order"} and v]
    if not isinstance(select, exp.Select) or others or len(select.expressions) != 1:
        raise FragmentError("must be exactly one HogQL expression")
    node = select.expressions[0]
    if any(isinstance(n, exp.Anonymous) and n.name == PLACEHOLDER_FUNCTION for n in node.walk()):
        raise FragmentError("placeholders are not allowed here")
    return node


def parse_expression(text: str, *, allow_alias: bool = False) -> exp.Expression:
    """One HogQL expression (`SELECT <text>` with nothing else); FragmentError otherwise."""
    try:
        select = parse_select(f"SELECT {text}\n")
    except HogQLSyntaxError as error:
        raise FragmentError(str(error)) from None
    if select.args.get("order"):
        raise FragmentError("must be exactly one HogQL expression")
    node = _only_expression(select)
    if isinstance(node, exp.Alias) and not allow_alias:
        raise FragmentError("must be exactly one HogQL expression, without an alias")
    return node


def parse_order(text: str) -> exp.Ordered:
    """One `expr [ASC|DESC]` item."""
    try:
        select = parse_select(f"SELECT 1 ORDER BY {text}\n")
    except HogQLSyntaxError as error:
        raise FragmentError(str(error)) from None
    order = select.args.get("order")
    _only_expression(select)
    if order is None or len(order.expressions) != 1:
        raise FragmentError("must be exactly one `expression [ASC|DESC]`")
    item = order.expressions[0]
    if any(isinstance(n, exp.Anonymous) and n.name == PLACEHOLDER_FUNCTION for n in item.walk()):
        raise FragmentError("placeholders are not allowed here")
    return item


def parse_fragments(values: list[str] | None, parse: Any) -> list[Any]:
    """Parse each item; a ValidationError names the index of the first bad one (attr `query__where__1`)."""
    parsed = []
    for i, text in enumerate(values or []):
        try:
            parsed.append(parse(text))
        except FragmentError as error:
            raise serializers.ValidationError({i: [error.message]}) from None
    return parsed


def is_aggregate(node: exp.Expression) -> bool:
    for item in node.walk():
        if isinstance(item, exp.AggFunc) and not isinstance(item, exp.AnonymousAggFunc):
            return True
        if isinstance(item, (exp.Anonymous, exp.AnonymousAggFunc)):
            found = lookup(item.name)
            if found is not None and found[1].aggregate:
                return True
    return False


class EventsQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["EventsQuery"], help_text='Query kind: "EventsQuery".')
    select = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False),
        min_length=1,
        help_text="Columns: HogQL expressions (an optional `-- Label` comment), `*` (the event), `person`, "
        "`person_display_name`. Aggregates group by the other columns.",
    )
    where = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False),
        required=False,
        allow_null=True,
        help_text="HogQL boolean expressions, ANDed (aggregates filter groups).",
    )
    orderBy = serializers.ListField(  # noqa: N815
        child=serializers.CharField(trim_whitespace=False),
        required=False,
        allow_null=True,
        help_text='`"expression ASC|DESC"` items; default: count() DESC, the first aggregate, timestamp DESC, '
        "the first column.",
    )
    after = serializers.CharField(
        required=False,
        allow_null=True,
        help_text='Only events after this moment (strict): ISO or relative (`-7d`, `-1mStart`); default "-24h"; '
        '"all" for no bound.',
    )
    before = serializers.CharField(
        required=False, allow_null=True, help_text="Only events before this moment (strict); default now + 5 s."
    )
    event = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Only events of this name."
    )
    events = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True, help_text="Only events of these names."
    )
    properties = PropertyFiltersField(required=False, allow_null=True)
    fixedProperties = PropertyFiltersField(  # noqa: N815
        required=False, allow_null=True, help_text="Property filters the UI does not let users edit (ANDed)."
    )
    personId = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, help_text="Only events of this person (any of its distinct ids)."
    )
    filterTestAccounts = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted; projects here have no test-account filters."
    )
    limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31, help_text="Rows per page (100; at most 50000)."
    )
    offset = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**31, help_text="Rows to skip."
    )
    actionId = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, help_text="Only events matching this action (as `matchesAction(id)`)."
    )
    actionSteps = serializers.JSONField(  # noqa: N815
        required=False, allow_null=True, help_text="Only events matching these action steps (an unsaved action)."
    )
    source = serializers.JSONField(
        required=False, allow_null=True, help_text="An InsightActorsQuery whose events to list (not supported yet)."
    )
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; echoed.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_select(self, value: list[str]) -> list[str]:
        parse_fragments(value, lambda text: parse_expression(text, allow_alias=True))
        return value

    def validate_where(self, value: list[str] | None) -> list[str] | None:
        parse_fragments(value, parse_expression)
        return value

    def validate_orderBy(self, value: list[str] | None) -> list[str] | None:  # noqa: N802
        parse_fragments(value, parse_order)
        return value

    def _date(self, value: str | None, *, allow_all: bool) -> str | None:
        if value is None or (allow_all and value == "all"):
            return value
        try:
            parse_date(value, "UTC")
        except DateRangeError as error:
            raise serializers.ValidationError(error.message) from None
        return value

    def validate_after(self, value: str | None) -> str | None:
        return self._date(value, allow_all=True)

    def validate_before(self, value: str | None) -> str | None:
        return self._date(value, allow_all=False)

    def validate_personId(self, value: str | None) -> str | None:  # noqa: N802
        if value is not None:
            try:
                uuid.UUID(value)
            except ValueError:
                raise serializers.ValidationError(f"'{value}' is not a person id (a UUID)") from None
        return value

    def validate_actionSteps(self, value: Any) -> Any:  # noqa: N802
        if value is None:
            return value
        if not isinstance(value, list) or not all(isinstance(step, dict) for step in value):
            raise serializers.ValidationError("actionSteps must be a list of action steps (objects)")
        try:
            action_to_expr(value)
        except PropertyFilterError as error:
            raise serializers.ValidationError(error.message) from None
        return value

    def validate_source(self, value: Any) -> Any:
        if value is not None:
            raise serializers.ValidationError("EventsQuery with a source (InsightActorsQuery) is not supported yet")
        return value


class EventsQueryResponseSerializer(CachedResponseSerializer):
    columns = serializers.ListField(child=serializers.CharField(), help_text="The `select` items, as sent.")
    types = serializers.ListField(child=serializers.CharField(), help_text="ClickHouse type of each column.")
    results = serializers.ListField(
        child=serializers.JSONField(), help_text="Rows; `*` and `person` columns are objects."
    )
    hasMore = serializers.BooleanField(help_text="More rows exist past this page.")  # noqa: N815
    limit = serializers.IntegerField(help_text="Page size.")
    offset = serializers.IntegerField(help_text="Rows skipped.")
    hogql = serializers.CharField(help_text="The HogQL that ran (built from the node).")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


# ---------------------------------------------------------------------------------------------------
# building the HogQL


def _column(name: str) -> exp.Column:
    return exp.column(name)


def _special(node: exp.Expression) -> str | None:
    """`*`, `person` or `person_display_name` (the columns PostHog renders as objects)."""
    if isinstance(node, exp.Star):
        return "*"
    if isinstance(node, exp.Column) and not node.table:
        if isinstance(node.this, exp.Star):
            return "*"
        if node.name in {"person", "person_display_name"}:
            return node.name
    return None


def _special_expr(kind: str) -> exp.Expression:
    if kind == "*":
        return call("tuple", *[_column(name) for name in STAR_FIELDS])
    # `person` and `person_display_name` read the distinct id; the page's persons are looked up after
    # (so an event whose distinct id has no person keeps its row, as `{"distinct_id": …}`).
    return _column("distinct_id")


def _when(value: str, timezone: str, now: dt.datetime) -> exp.Expression:
    moment = parse_date(value, timezone, now).moment
    return call("toDateTime", exp.Literal.string(moment.strftime("%Y-%m-%d %H:%M:%S.%f")))


def default_order(
    columns: list[exp.Expression],
    aggregates: list[bool],
    *,
    newest: str,
    first: Callable[[exp.Expression], list[exp.Ordered] | None] = lambda _node: None,
) -> list[exp.Ordered]:
    """PostHog's default ORDER BY of a table query (EventsQuery, ActorsQuery): `count()` DESC, else the first
    aggregate DESC, else the ``newest`` column DESC, else the first column (nothing when it is a constant).
    ``first`` may order by the first column its own way (EventsQuery's `*`)."""

    def desc(node: exp.Expression) -> exp.Ordered:
        return exp.Ordered(this=node.copy(), desc=True)

    def unalias(node: exp.Expression) -> exp.Expression:
        return node.this if isinstance(node, exp.Alias) else node

    for node in columns:
        if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)) and node.name == "count" and not node.expressions:
            return [desc(node)]
    for node, aggregate in zip(columns, aggregates, strict=True):
        if aggregate:
            return [desc(unalias(node))]
    for node in columns:
        if isinstance(node, exp.Column) and not node.table and node.name == newest:
            return [desc(node)]
    own = first(columns[0])
    if own is not None:
        return own
    head = unalias(columns[0])
    if not any(isinstance(n, exp.Column) for n in head.walk()):
        return []  # a constant orders nothing (and a bare number would be read as a column position)
    return [exp.Ordered(this=head.copy())]


def _star_first(node: exp.Expression) -> list[exp.Ordered] | None:
    # a tuple orders by uuid first; PostHog's `*` lists lean newest first
    return [exp.Ordered(this=_column("timestamp"), desc=True)] if _special(node) == "*" else None


def build_events_select(
    query: dict[str, Any],
    *,
    timezone: str,
    property_types: dict[tuple[int, str], str],
    now: dt.datetime,
) -> tuple[exp.Select, list[str | None]]:
    """The HogQL SELECT for an EventsQuery node, and what each column is (`*`, `person`, … or None)."""
    texts: list[str] = list(query["select"])
    parsed = [parse_expression(text, allow_alias=True) for text in texts]
    specials = [_special(node) for node in parsed]
    columns = [_special_expr(kind) if kind else node for node, kind in zip(parsed, specials, strict=True)]
    aggregates = [kind is None and is_aggregate(node) for node, kind in zip(parsed, specials, strict=True)]

    conditions: list[exp.Expression] = []
    having: list[exp.Expression] = []
    for node in (parse_expression(text) for text in query.get("where") or []):
        (having if is_aggregate(node) else conditions).append(node)
    after = query.get("after") or DEFAULT_AFTER
    if after != "all":
        conditions.append(exp.GT(this=_column("timestamp"), expression=_when(after, timezone, now)))
    before = query.get("before")
    before_expr = (
        _when(before, timezone, now)
        if before
        else call("toDateTime", exp.Literal.string(_local(now + BEFORE_SLACK, timezone)))
    )
    conditions.append(exp.LT(this=_column("timestamp"), expression=before_expr))
    if query.get("event"):
        conditions.append(exp.EQ(this=_column("event"), expression=exp.Literal.string(query["event"])))
    if query.get("events"):
        conditions.append(exp.In(this=_column("event"), expressions=[exp.Literal.string(e) for e in query["events"]]))
    if query.get("actionId") is not None:  # expanded by the compiler, with the project's action
        conditions.append(call("matchesAction", exp.Literal.number(query["actionId"])))
    if query.get("actionSteps"):
        conditions.append(
            action_to_expr(query["actionSteps"], property_types=property_types, timezone=timezone, now=now)
        )
    if query.get("personId"):
        conditions.append(
            exp.EQ(this=_column("person_id"), expression=call("toUUID", exp.Literal.string(query["personId"])))
        )
    for key in ("properties", "fixedProperties"):
        filters = query.get(key)
        if filters:
            conditions.append(
                property_filters_to_expr(
                    filters, scope="event", property_types=property_types, timezone=timezone, now=now
                )
            )

    select = exp.select(*columns).from_("events")
    if conditions:
        select = select.where(exp.and_(*conditions, copy=False), copy=False)
    if any(aggregates):
        group = [node for node, aggregate in zip(columns, aggregates, strict=True) if not aggregate]
        group = [node.this if isinstance(node, exp.Alias) else node for node in group]
        if group:
            select = select.group_by(*[g.copy() for g in group], copy=False)
    if having:
        select = select.having(exp.and_(*having, copy=False), copy=False)
    order = [parse_order(text) for text in query.get("orderBy") or []] or default_order(
        columns, aggregates, newest="timestamp", first=_star_first
    )
    if order:
        select.set("order", exp.Order(expressions=order))
    return select, specials


def _local(moment: dt.datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------------------------------------------
# running it


def parse_json_text(value: Any) -> Any:
    """A JSON column read as text (properties) → its value; other text stays as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


PERSONS_OF_DISTINCT_IDS = (
    "SELECT distinct_id, person_id, person.created_at, person.properties FROM person_distinct_ids "
    "WHERE has({distinct_ids}, distinct_id)"
)


def _persons(team: Team, distinct_ids: set[str], limit_context: str) -> dict[str, dict[str, Any]]:
    """distinct id → the person owning it, for the distinct ids on the page (one more HogQL query)."""
    if not distinct_ids:
        return {}
    result = hogql_execute(
        team=team,
        query=PERSONS_OF_DISTINCT_IDS,
        values={"distinct_ids": sorted(distinct_ids)},
        limit_context=limit_context,
        limit=len(distinct_ids),
    )
    persons = {}
    for distinct_id, person_id, created_at, properties in result.results:
        persons[distinct_id] = {
            "id": person_id,
            "created_at": created_at,
            "properties": parse_json_text(properties) or {},
        }
    return persons


def _shape(value: Any, kind: str | None, persons: dict[str, dict[str, Any]]) -> Any:
    if kind is None:
        return value
    if kind == "*":
        if not isinstance(value, list):
            return value
        return {
            name: parse_json_text(v) if name in _JSON_FIELDS else v for name, v in zip(STAR_FIELDS, value, strict=False)
        }
    person = persons.get(value) if isinstance(value, str) else None
    if kind == "person":
        if person is None:
            return {"distinct_id": value}
        return {
            "uuid": person["id"],
            "created_at": person["created_at"],
            "properties": person["properties"],
            "distinct_id": value,
        }
    properties = (person or {}).get("properties") or {}
    names = [properties.get(key) for key in DISPLAY_NAME_PROPERTIES]
    display_name = next((str(name) for name in names if name not in (None, "")), value)
    return {"display_name": display_name, "id": person["id"] if person else None, "distinct_id": value}


def run_events_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    timezone = team.timezone or "UTC"
    select, specials = build_events_select(
        query, timezone=timezone, property_types=property_types_for_team(team=team), now=clock.now()
    )
    result = hogql_execute(
        team=team,
        query=to_hogql(select),
        limit_context=limit_context,
        limit=query.get("limit"),
        offset=query.get("offset"),
    )
    person_columns = [i for i, kind in enumerate(specials) if kind in {"person", "person_display_name"}]
    distinct_ids = {row[i] for row in result.results for i in person_columns if isinstance(row[i], str)}
    persons = _persons(team, distinct_ids, limit_context)
    rows = [
        [_shape(value, kind, persons) for value, kind in zip(row, specials, strict=False)] for row in result.results
    ]
    return {
        "columns": list(query["select"]),
        "types": [type_ for _, type_ in result.types],
        "results": rows,
        "hasMore": bool(result.hasMore),
        "limit": result.limit,
        "offset": result.offset,
        "hogql": result.hogql,
        "timings": result.timings,
    }


def events_overrides(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A dashboard's `date_from`/`date_to` replace `after`/`before`; its property filters are ANDed."""
    override = body.get("filters_override") or {}
    if not override:
        return query
    query = dict(query)
    if override.get("date_from"):
        query["after"] = override["date_from"]
    if override.get("date_to"):
        query["before"] = override["date_to"]
    if override.get("properties"):
        query["fixedProperties"] = [f for f in (query.get("fixedProperties"), override["properties"]) if f]
    return query


EVENTS_QUERY = QueryKind(
    name="EventsQuery",
    request=EventsQuerySerializer,
    response=EventsQueryResponseSerializer,
    run=run_events_query,
    apply_overrides=events_overrides,
)
