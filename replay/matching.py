"""The list's event filters (replay reference §1.7: `events`, `actions`, `properties`, `operand`) → the
subqueries selecting the sessions they keep, written as HogQL and compiled by the query app
(`query.runner.hogql_compile_select`: team guards on every table, the property-filter language of the insight
kinds, `matchesAction`, `IN COHORT`).

- `events` / `actions`: entity filters (`{"id": "$pageview", "type": "events", "properties": [...]}`,
  `{"id": 12, "type": "actions"}`; `"id": null` is any event). A session is kept when, between the list's
  `date_from` and `date_to`, it has an event (`$session_id` = the session) matching each entity (`operand`
  `AND`, the default) or any of them (`OR`).
- `properties` of type `event`, `group` and `hogql` hold on those events (on every entity's event; with no
  entity, on some event of the session); of type `person` and `cohort` on the person of the recording's
  distinct id. `operand` also joins the events part and the person part. Other types are a 400.

Everything the user wrote goes into the HogQL as values or as the property-filter language's own translation,
never as text; a problem (bad filter, unknown action or cohort) is a `ValidationError` naming the parameter.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import exceptions
from sqlglot import exp

from posthog_clone import registry
from posthog_clone.accounts.models import Team
from query.exceptions import ExposedHogQLError
from query.hogql.parser import to_hogql
from query.properties import PropertyFilterError, property_filters_to_expr
from query.runner import hogql_compile_select, query_settings
from query.selectors import property_types_for_team
from replay.selectors import SessionSubquery, ch_time

EVENT_TYPES = ("event", "group", "hogql")  # property filters held by the session's events
PERSON_TYPES = ("person", "cohort")  # property filters held by the recording's person
OPERANDS = ("AND", "OR")


def _invalid(detail: str, attr: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({attr: [detail]})


class _Builder:
    def __init__(self, team: Team):
        self.team = team
        self.property_types = property_types_for_team(team=team)
        self.values: dict[str, Any] = {}

    def value(self, value: Any) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return f"{{{name}}}"

    def filters(self, filters: Any, attr: str) -> str | None:
        """The property filters as HogQL over `events` (None: they filter nothing)."""
        try:
            condition = property_filters_to_expr(
                filters, scope="event", property_types=self.property_types, timezone=self.team.timezone or "UTC"
            )
        except PropertyFilterError as error:
            raise _invalid(error.message, attr) from None
        return None if isinstance(condition, exp.Boolean) and condition.this is True else to_hogql(condition)

    def compile(self, hogql: str, attr: str, by: str) -> SessionSubquery:
        try:
            compiled = hogql_compile_select(team=self.team, query=hogql, values=self.values)
        except ExposedHogQLError as error:
            raise _invalid(str(error), attr) from None
        return SessionSubquery(by=by, sql=compiled.sql, params=compiled.params, settings=query_settings("query"))


def _entity_list(value: Any, attr: str) -> list[dict[str, Any]]:
    if value in (None, "", []):
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid(f"Must be a list of {attr} filters.", attr)
    return value


def _action_id(entity: dict[str, Any]) -> int | None:
    ref = entity.get("id")
    if isinstance(ref, str) and ref.isdigit():
        ref = int(ref)
    return ref if isinstance(ref, int) and not isinstance(ref, bool) and 0 < ref < 2**63 else None


def _entity_conditions(builder: _Builder, params: dict[str, Any]) -> list[str]:
    """One HogQL condition per entity of `events` then `actions`: the event (or action) and its properties."""
    conditions = []
    for attr, kind in (("events", "events"), ("actions", "actions")):
        for entity in _entity_list(params.get(attr), attr):
            if entity.get("type", kind) != kind:
                raise _invalid(f"Unsupported entity type '{entity.get('type')}' in {attr}: must be '{kind}'.", attr)
            parts = []
            if kind == "events":
                name = entity.get("id")
                if name is not None and not isinstance(name, str):
                    raise _invalid("An event filter's id must be an event name or null (any event).", attr)
                if name:
                    parts.append(f"event = {builder.value(name)}")
            else:
                action_id = _action_id(entity)
                if action_id is None:
                    raise _invalid("An action filter's id must be an action id.", attr)
                lookup = registry.reference_lookup("action")
                if lookup is None or lookup(builder.team.pk, action_id) is None:
                    raise _invalid(f"Action {action_id} does not exist.", attr)
                parts.append(f"matchesAction({action_id})")
            properties = builder.filters(entity.get("properties"), attr)
            if properties:
                parts.append(f"({properties})")
            conditions.append(" AND ".join(parts) or "true")
    return conditions


def _split_properties(value: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`properties` → (the filters on events, the filters on the person)."""
    if value in (None, "", []):
        return [], []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _invalid("Must be a list of property filters.", "properties")
    on_events, on_person = [], []
    for item in value:
        kind = item.get("type", "event")
        if kind in EVENT_TYPES:
            on_events.append(item)
        elif kind in PERSON_TYPES:
            on_person.append(item)
        else:
            supported = ", ".join(EVENT_TYPES + PERSON_TYPES)
            raise _invalid(
                f"Filtering recordings by '{kind}' property filters is not supported (supported: {supported}).",
                "properties",
            )
    return on_events, on_person


def session_subqueries(
    team: Team, params: dict[str, Any], date_from: dt.datetime | None, date_to: dt.datetime | None
) -> tuple[tuple[SessionSubquery, ...], str]:
    """The subqueries the list's `events`, `actions` and `properties` ask for, and the operand joining them."""
    operand = params.get("operand") or "AND"
    if operand not in OPERANDS:
        raise _invalid("Must be AND or OR.", "operand")
    events_builder = _Builder(team)
    entities = _entity_conditions(events_builder, params)
    on_events, on_person = _split_properties(params.get("properties"))
    subqueries = []
    event_filter = events_builder.filters(on_events, "properties") if on_events else None
    if entities or event_filter:
        where = ["`$session_id` != ''"]
        if date_from is not None:
            where.append(f"timestamp >= toDateTime64({events_builder.value(ch_time(date_from))}, 6, 'UTC')")
        if date_to is not None:
            where.append(f"timestamp <= toDateTime64({events_builder.value(ch_time(date_to))}, 6, 'UTC')")
        if event_filter:
            entities = [f"({entity}) AND ({event_filter})" for entity in entities] or [event_filter]
        where.append(" OR ".join(f"({entity})" for entity in entities))
        conditions = " AND ".join(f"({condition})" for condition in where)
        hogql = f"SELECT `$session_id` FROM events WHERE {conditions} GROUP BY `$session_id`"
        if len(entities) > 1:
            joined = f" {operand} ".join(f"countIf({entity}) > 0" for entity in entities)
            hogql += f" HAVING {joined}"
        attr = "events" if params.get("events") else "actions" if params.get("actions") else "properties"
        subqueries.append(events_builder.compile(hogql, attr, by="session_id"))
    if on_person:
        person_builder = _Builder(team)
        condition = person_builder.filters(on_person, "properties") or "true"
        hogql = f"SELECT distinct_id FROM person_distinct_ids WHERE {condition}"
        subqueries.append(person_builder.compile(hogql, "properties", by="distinct_id"))
    return tuple(subqueries), operand
