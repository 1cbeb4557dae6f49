"""Definitions from traffic: event definitions, property definitions (with detected types) and
event↔property pairs, upserted in bulk once per ingestion batch.

An in-process cache remembers what the database already holds (names, the hour of ``last_seen_at``,
whether a type is set), so a steady stream of known names costs no database writes. It also remembers
"shapes" (team, event, property names, person property names) with nothing left to learn: every property
typed and every event↔property pair recorded. An event of such a shape only refreshes ``last_seen_at``,
so a steady stream of known shapes skips the per-property work too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from definitions.models import EventDefinition, EventProperty, PropertyDefinition
from definitions.type_detection import detect_property_type

SKIPPED_KEYS = frozenset({"$set", "$set_once", "$unset", "$groups", *(f"$group_{i}" for i in range(5))})
SKIPPED_EVENTS = frozenset({"$$plugin_metrics"})
MAX_PROPERTIES_PER_EVENT = 10_000
MAX_SHAPES = 100_000  # the shape cache starts over past this (high-cardinality property names)
EVENT, PERSON = PropertyDefinition.Type.EVENT, PropertyDefinition.Type.PERSON


class Seen(Protocol):
    """What definitions need of an ingested event (ingestion's ``NormalizedEvent`` is one)."""

    @property
    def team_id(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def properties(self) -> dict[str, Any]: ...
    @property
    def person_properties(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class SeenEvent:
    team_id: int
    event: str
    timestamp: datetime
    properties: dict[str, Any]
    person_properties: dict[str, Any]  # $set and $set_once contents


_lock = threading.Lock()
_event_hours: dict[tuple[int, str], datetime] = {}
_typed_props: set[tuple[int, str, int]] = set()
_known_props: set[tuple[int, str, int]] = set()
_pairs: set[tuple[int, str, str]] = set()
_done_shapes: set[tuple[int, str, tuple[str, ...], tuple[str, ...]]] = set()


def cache_clear() -> None:
    with _lock:
        _event_hours.clear()
        _typed_props.clear()
        _known_props.clear()
        _pairs.clear()
        _done_shapes.clear()


def _hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _props(items: Iterable[tuple[str, Any]]) -> Iterable[tuple[str, Any]]:
    return ((k, v) for k, v in items if k not in SKIPPED_KEYS and 0 < len(k) <= 400)


def definitions_ingest(*, events: Iterable[Seen]) -> int:
    """Upsert the definitions a batch implies; returns the number of database statements issued."""
    now_hour = _hour(datetime.now(UTC))
    hours: dict[tuple[int, str], datetime] = {}
    types: dict[tuple[int, str, int], str | None] = {}
    pairs: set[tuple[int, str, str]] = set()
    shapes: set[tuple[int, str, tuple[str, ...], tuple[str, ...]]] = set()
    for ev in events:
        if ev.event in SKIPPED_EVENTS or not ev.event or len(ev.event) > 400:
            continue
        key = (ev.team_id, ev.event)
        hours[key] = max(hours.get(key, now_hour), now_hour)
        if len(ev.properties) > MAX_PROPERTIES_PER_EVENT:
            continue
        person_properties = ev.person_properties
        shape = (ev.team_id, ev.event, tuple(ev.properties), tuple(person_properties))
        if shape in _done_shapes:
            continue
        shapes.add(shape)
        for parent, items in ((EVENT, ev.properties.items()), (PERSON, person_properties.items())):
            for name, value in _props(items):
                pkey = (ev.team_id, name, int(parent))
                if types.get(pkey) is None:
                    types[pkey] = detect_property_type(name, value)
                if parent == EVENT:
                    pairs.add((ev.team_id, ev.event, name))
    with _lock:
        new_events = {k: h for k, h in hours.items() if _event_hours.get(k) is None}
        stale_events = {k: h for k, h in hours.items() if k not in new_events and _event_hours[k] < h}
        new_props = {k: t for k, t in types.items() if k not in _known_props}
        untyped = {k: t for k, t in types.items() if k in _known_props and t and k not in _typed_props}
        new_pairs = pairs - _pairs
    writes = 0
    if new_events:
        EventDefinition.objects.bulk_create(
            [EventDefinition(team_id=t, name=n, created_at=h, last_seen_at=h) for (t, n), h in new_events.items()],
            ignore_conflicts=True,
        )
        writes += 1
    for (team_id, name), hour in {**new_events, **stale_events}.items():  # first sight per process, then hourly
        EventDefinition.objects.filter(team_id=team_id, name=name, last_seen_at__lt=hour).update(last_seen_at=hour)
        writes += 1
    if new_props:  # read first: the ones that exist already keep their row, and get a type below if they lack one
        existing: dict[tuple[int, str, int], str | None] = {}
        for team_id in {k[0] for k in new_props}:
            names = [k[1] for k in new_props if k[0] == team_id]
            rows = PropertyDefinition.objects.filter(team_id=team_id, name__in=names, group_type_index=None)
            for name, parent, current in rows.values_list("name", "type", "property_type"):
                existing[(team_id, name, parent)] = current
            writes += 1
        PropertyDefinition.objects.bulk_create(
            [
                PropertyDefinition(team_id=t, name=n, type=p, property_type=ty, is_numerical=ty == "Numeric")
                for (t, n, p), ty in new_props.items()
                if (t, n, p) not in existing
            ],
            ignore_conflicts=True,
        )
        writes += 1
        for key, current in existing.items():
            if current is None and key in new_props and new_props[key]:
                untyped[key] = new_props[key]
    for (team_id, name, parent), detected in untyped.items():
        if detected:  # the first non-null type sticks: fill only where the row has none
            PropertyDefinition.objects.filter(
                team_id=team_id, name=name, type=parent, group_type_index=None, property_type__isnull=True
            ).update(property_type=detected, is_numerical=detected == "Numeric")
            writes += 1
    if new_pairs:
        EventProperty.objects.bulk_create(
            [EventProperty(team_id=t, event=e, property=p) for t, e, p in new_pairs], ignore_conflicts=True
        )
        writes += 1
    with _lock:
        _event_hours.update(hours)
        _known_props.update(types)
        _typed_props.update(k for k, t in types.items() if t)
        _pairs.update(pairs)
        if len(_done_shapes) > MAX_SHAPES:
            _done_shapes.clear()
        _done_shapes.update(shape for shape in shapes if _nothing_to_learn(shape))
    return writes


def _nothing_to_learn(shape: tuple[int, str, tuple[str, ...], tuple[str, ...]]) -> bool:
    """Every property of ``shape`` is typed and paired with its event (call with ``_lock`` held)."""
    team_id, event, names, person_names = shape
    for parent, keys in ((EVENT, names), (PERSON, person_names)):
        for name, _ in _props((key, None) for key in keys):
            if (team_id, name, int(parent)) not in _typed_props:
                return False
            if parent == EVENT and (team_id, event, name) not in _pairs:
                return False
    return True
