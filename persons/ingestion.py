"""Person processing for a whole ingestion batch (capture reference §12): one bulk read of every distinct id
the batch mentions, the merges and property updates applied in memory in event order, then bulk writes to
the Django database and one mirror insert per ClickHouse table (rows with a higher version).

Ingestion calls ``persons_process`` once per batch, as it calls ``definitions.ingestion``; this module knows
nothing of ingestion: it reads the events through ``IngestedEvent`` and hands the batch's warnings to the
caller's ``record_warnings`` inside its write transaction.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from django.conf import settings
from django.db import connection, transaction

from persons.models import Person, PersonDistinctId
from posthog_clone.clickhouse import get_client, table
from posthog_clone.utils import uuid7

logger = logging.getLogger(__name__)

_ILLEGAL_CI = {
    "anonymous", "guest", "distinctid", "distinct_id", "id", "not_authenticated", "email", "undefined", "true", "false",
}  # fmt: skip
_ILLEGAL_CS = {"[object Object]", "NaN", "None", "none", "null", "0", "undefined"}
_PERSONLESS_NS = uuidlib.UUID("5f3c1b2e-9a57-4d3e-8f0a-4b7c2d1e6a90")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class IngestedEvent(Protocol):
    """What persons need of an ingested event (ingestion's ``NormalizedEvent`` is one)."""

    @property
    def uuid(self) -> str: ...
    @property
    def team_id(self) -> int: ...
    @property
    def event(self) -> str: ...
    @property
    def distinct_id(self) -> str: ...
    @property
    def timestamp(self) -> datetime: ...
    @property
    def properties(self) -> dict[str, Any]: ...
    @property
    def personless(self) -> bool: ...
    @property
    def set_props(self) -> dict[str, Any]: ...
    @property
    def set_once_props(self) -> dict[str, Any]: ...
    @property
    def unset_keys(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class ResolvedPerson:
    """An event's person as the batch leaves it: what the event row carries."""

    person_id: str
    properties: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PersonWarning:
    """An ingestion warning about an event's person (a merge refused, an illegal distinct id)."""

    team_id: int
    type: str
    details: dict[str, Any]


RecordWarnings = Callable[[list[PersonWarning]], None]


def is_illegal_distinct_id(value: str) -> bool:
    text = value.strip()
    if not text:
        return True
    candidates = {text}
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        candidates.add(text[1:-1])
    return any(c.lower() in _ILLEGAL_CI or c in _ILLEGAL_CS for c in candidates)


def personless_person_id(team_id: int, distinct_id: str) -> str:
    return str(uuidlib.uuid5(_PERSONLESS_NS, f"{team_id}:{distinct_id}"))


class _Person:
    """A person as the batch sees it (a plain object: model instances cost ~40 µs each to load).

    ``properties`` is never changed in place (every change builds a new dict), so the dict can be shared
    with the cache and with the per-event snapshots."""

    __slots__ = ("pk", "uuid", "team_id", "properties", "is_identified", "created_at", "version", "resolved")

    def __init__(self, pk, uuid, team_id, properties, is_identified, created_at, version):  # type: ignore[no-untyped-def]
        self.pk: int | None = pk
        self.uuid: uuidlib.UUID = uuid
        self.team_id: int = team_id
        self.properties: dict[str, Any] = properties
        self.is_identified: bool = is_identified
        self.created_at: datetime = created_at
        self.version: int = version
        self.resolved: ResolvedPerson | None = None  # snapshot for events, dropped on every change


class _Mapping:
    __slots__ = ("pk", "team_id", "distinct_id", "person", "version")

    def __init__(self, pk: int | None, team_id: int, distinct_id: str, person: _Person | None, version: int):
        self.pk, self.team_id, self.distinct_id, self.person, self.version = pk, team_id, distinct_id, person, version


# (team_id, distinct_id) → (mapping pk, mapping version, person pk, uuid, properties, is_identified, created_at,
# person version): what the database held after the last batch that saw it. Used only after one cheap read
# confirms each person still exists with that uuid and version (another worker or the persons API may
# have changed it), so it spares the full read, never the truth. At most settings.INGEST_PERSONS_CACHE_SIZE
# entries, the least recently seen dropped first.
_cache: dict[tuple[int, str], tuple[Any, ...]] = {}
_cache_lock = threading.Lock()
_IN_CHUNK = 5_000  # ids per IN (…) list: SQLite allows 32,766 variables


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


@dataclass
class _State:
    """Persons and mappings of one batch, changed in memory, written at the end."""

    persons: dict[int, _Person] = field(default_factory=dict)  # id(person) → person
    by_did: dict[tuple[int, str], _Person] = field(default_factory=dict)
    pdi: dict[tuple[int, str], _Mapping] = field(default_factory=dict)
    dirty_persons: set[int] = field(default_factory=set)
    dirty_pdi: set[tuple[int, str]] = field(default_factory=set)
    deleted: list[_Person] = field(default_factory=list)
    merged_into: dict[int, _Person] = field(default_factory=dict)  # id(merged-away person) → person it joined
    warnings: list[PersonWarning] = field(default_factory=list)

    def touch(self, person: _Person) -> None:
        self.persons[id(person)] = person
        self.dirty_persons.add(id(person))
        person.resolved = None

    def assign(self, team_id: int, distinct_id: str, person: _Person) -> None:
        key = (team_id, distinct_id)
        self.by_did[key] = person
        mapping = self.pdi.get(key)
        if mapping is None:
            mapping = self.pdi[key] = _Mapping(None, team_id, distinct_id, None, 0)
        elif mapping.person is person and person.pk is not None:
            return
        else:
            mapping.version += 1
        mapping.person = person
        self.dirty_pdi.add(key)


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + _IN_CHUNK] for i in range(0, len(values), _IN_CHUNK)]


def _load(events: list[IngestedEvent]) -> _State:
    state = _State()
    wanted: dict[int, set[str]] = {}
    for ev in events:
        ids = wanted.get(ev.team_id)
        if ids is None:
            ids = wanted[ev.team_id] = set()
        ids.add(ev.distinct_id)
        if ev.event in ("$identify", "$create_alias", "$merge_dangerously"):
            for key in ("$anon_distinct_id", "alias"):
                other = ev.properties.get(key)
                if isinstance(other, str | int):
                    ids.add(str(other))
    by_pk: dict[int, _Person] = {}

    def add(team_id: int, did: str, row: tuple[Any, ...]) -> None:
        pdi_pk, pdi_version, pk, uuid, properties, is_identified, created_at, version = row
        person = by_pk.get(pk)
        if person is None:
            person = by_pk[pk] = _Person(pk, uuid, team_id, properties, is_identified, created_at, version)
            state.persons[id(person)] = person
        state.by_did[(team_id, did)] = person
        state.pdi[(team_id, did)] = _Mapping(pdi_pk, team_id, did, person, pdi_version)

    with _cache_lock:
        cached = {(t, did): _cache.get((t, did)) for t, ids in wanted.items() for did in ids}
    hits = {key: row for key, row in cached.items() if row is not None}
    valid = _existing_versions(list({row[2] for row in hits.values()}))
    missing: dict[int, list[str]] = {}
    for (team_id, did), row in cached.items():
        if row is not None and (row[2], row[3].hex, row[7]) in valid:
            add(team_id, did, row)
        else:
            missing.setdefault(team_id, []).append(did)
    fields = ("pk", "version", "person_id", "person__uuid", "person__properties", "person__is_identified",
              "person__created_at", "person__version")  # fmt: skip
    for team_id, dids in missing.items():
        for chunk in _chunks(dids):
            rows = PersonDistinctId.objects.filter(team_id=team_id, distinct_id__in=chunk)
            for did, *row in rows.values_list("distinct_id", *fields):
                add(team_id, did, tuple(row))
    return state


def _existing_versions(pks: list[int]) -> set[tuple[int, str, int]]:
    """(pk, uuid hex, version) of those persons that still exist. Plain SQL: the ORM's UUID conversion costs
    ~11 µs a row on SQLite, most of a batch's person work."""
    found: set[tuple[int, str, int]] = set()
    quote = connection.ops.quote_name
    sql = f"SELECT {quote('id')}, {quote('uuid')}, {quote('version')} FROM {quote(Person._meta.db_table)} WHERE "
    with connection.cursor() as cursor:
        for chunk in _chunks(pks):
            cursor.execute(sql + f"{quote('id')} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            for pk, uuid, version in cursor.fetchall():  # uuid: 32 hex digits (SQLite) or a UUID (PostgreSQL)
                found.add((pk, uuid.hex if isinstance(uuid, uuidlib.UUID) else str(uuid).replace("-", ""), version))
    return found


def _remember(state: _State) -> None:
    """After a successful write: the batch's final persons and mappings, for the next batches."""
    deleted = {id(p) for p in state.deleted}
    with _cache_lock:
        for key, m in state.pdi.items():
            p = m.person
            _cache.pop(key, None)  # re-inserted last: the dict's order is the LRU order
            if p is not None and p.pk is not None and m.pk is not None and id(p) not in deleted:
                _cache[key] = (m.pk, m.version, p.pk, p.uuid, p.properties, p.is_identified, p.created_at, p.version)
        excess = len(_cache) - settings.INGEST_PERSONS_CACHE_SIZE
        if excess > 0:  # one pass: deleting the oldest one at a time rescans the dict's emptied front each time
            for key in list(itertools.islice(_cache, excess)):
                del _cache[key]


def _new_person(state: _State, ev: IngestedEvent) -> _Person:
    person = _Person(None, uuid7(), ev.team_id, {}, False, ev.timestamp, 0)
    state.touch(person)
    return person


def _warn(state: _State, ev: IngestedEvent, kind: str, details: dict[str, Any]) -> None:
    state.warnings.append(PersonWarning(ev.team_id, kind, {**details, "eventUuid": ev.uuid}))


def _merge(state: _State, ev: IngestedEvent, other_id: str, *, force: bool) -> None:
    """Merge ``other_id`` (anon id / alias) into the person of ``ev.distinct_id``."""
    team = ev.team_id
    for candidate in (ev.distinct_id, other_id):
        if is_illegal_distinct_id(candidate):
            other = other_id if candidate == ev.distinct_id else ev.distinct_id
            details = {"illegalDistinctId": candidate, "otherDistinctId": other}
            _warn(state, ev, "cannot_merge_with_illegal_distinct_id", details)
            return
    target = state.by_did.get((team, ev.distinct_id))
    source = state.by_did.get((team, other_id))
    if target is None and source is None:
        target = _new_person(state, ev)
        state.assign(team, ev.distinct_id, target)
        state.assign(team, other_id, target)
    elif target is None:
        target = source
        state.assign(team, ev.distinct_id, source)
    elif source is None:
        state.assign(team, other_id, target)
    elif source is not target:
        if source.is_identified and not force:
            _warn(state, ev, "cannot_merge_already_identified",
                  {"sourcePersonDistinctId": other_id, "targetPersonDistinctId": ev.distinct_id})  # fmt: skip
            return
        target.properties = {**source.properties, **target.properties}
        target.created_at = min(target.created_at, source.created_at)
        for key, person in list(state.by_did.items()):
            if person is source:
                state.assign(key[0], key[1], target)
        state.deleted.append(source)
        state.merged_into[id(source)] = target
        state.dirty_persons.discard(id(source))
    assert target is not None
    if not target.is_identified:
        target.is_identified = True
    state.touch(target)


def _apply_properties(person: _Person, ev: IngestedEvent) -> bool:
    if not (ev.set_props or ev.set_once_props or ev.unset_keys):
        return False
    before = person.properties
    props = {**before, **ev.set_props}  # a new dict: the old one may be shared (cache, snapshots)
    for key, value in ev.set_once_props.items():
        props.setdefault(key, value)
    for key in ev.unset_keys:
        props.pop(key, None)
    if props == before:
        return False
    person.properties = props
    return True


def persons_process(events: list[IngestedEvent], *, record_warnings: RecordWarnings) -> list[ResolvedPerson]:
    """Resolve (and update) the person of every event; returns one ResolvedPerson per event, in order.
    ``record_warnings`` gets the batch's warnings (if any) inside the transaction that writes its persons."""
    state = _load(events)
    resolved_ids: list[tuple[IngestedEvent, _Person | None]] = []
    for ev in events:
        key = (ev.team_id, ev.distinct_id)
        if ev.personless:
            resolved_ids.append((ev, state.by_did.get(key)))
            continue
        if ev.event in ("$identify", "$create_alias", "$merge_dangerously"):
            other = ev.properties.get("$anon_distinct_id" if ev.event == "$identify" else "alias")
            if isinstance(other, str | int) and str(other) != ev.distinct_id:
                _merge(state, ev, str(other), force=ev.event == "$merge_dangerously")
            elif ev.event == "$identify" and is_illegal_distinct_id(ev.distinct_id):
                _warn(state, ev, "cannot_merge_with_illegal_distinct_id", {"illegalDistinctId": ev.distinct_id})
        person = state.by_did.get(key)
        if person is None:
            person = _new_person(state, ev)
            state.assign(ev.team_id, ev.distinct_id, person)
        if ev.event == "$identify" and not person.is_identified and not is_illegal_distinct_id(ev.distinct_id):
            person.is_identified = True
            state.touch(person)
        if _apply_properties(person, ev):
            state.touch(person)
        resolved_ids.append((ev, person))
    try:
        _write(state, record_warnings)
    except BaseException:
        cache_clear()
        raise
    _remember(state)
    out: list[ResolvedPerson] = []
    for ev, person in resolved_ids:  # every event carries its person as the batch leaves it
        if person is None:
            out.append(ResolvedPerson(personless_person_id(ev.team_id, ev.distinct_id), {}, _EPOCH))
        else:
            if person.resolved is None:  # one snapshot per person (its properties are never changed in place)
                person.resolved = ResolvedPerson(str(person.uuid), person.properties, person.created_at)
            out.append(person.resolved)
    return out


def _write(state: _State, record_warnings: RecordWarnings) -> None:
    dirty = [state.persons[i] for i in state.dirty_persons]
    for person in dirty:
        person.version += 1
    deleted = [p for p in state.deleted if p.pk is not None]
    with transaction.atomic():
        new = [p for p in dirty if p.pk is None]
        existing = [p for p in dirty if p.pk is not None]
        created = Person.objects.bulk_create([
            Person(team_id=p.team_id, uuid=p.uuid, properties=p.properties, is_identified=p.is_identified,
                   created_at=p.created_at, version=p.version)
            for p in new
        ])  # fmt: skip
        for person, model in zip(new, created, strict=True):
            person.pk = model.pk
        Person.objects.bulk_update(
            [
                Person(pk=p.pk, properties=p.properties, is_identified=p.is_identified, created_at=p.created_at,
                       version=p.version)
                for p in existing
            ],
            ["properties", "is_identified", "created_at", "version"],
        )  # fmt: skip
        if deleted:
            _adopt_unseen_mappings(state, deleted)
        mappings = [state.pdi[k] for k in state.dirty_pdi]
        fresh = [m for m in mappings if m.pk is None]
        known = [m for m in mappings if m.pk is not None]
        rows = PersonDistinctId.objects.bulk_create([
            PersonDistinctId(team_id=m.team_id, distinct_id=m.distinct_id, person_id=m.person.pk, version=m.version)
            for m in fresh
        ])  # fmt: skip
        for mapping, model in zip(fresh, rows, strict=True):
            mapping.pk = model.pk
        PersonDistinctId.objects.bulk_update(
            [PersonDistinctId(pk=m.pk, person_id=m.person.pk, version=m.version) for m in known],
            ["person", "version"],
        )
        if deleted:
            Person.objects.filter(pk__in=[p.pk for p in deleted]).delete()
        if state.warnings:
            record_warnings(state.warnings)
    _mirror(dirty, deleted, mappings)
    for warning in state.warnings:
        logger.warning("ingestion warning %s team=%s %s", warning.type, warning.team_id, warning.details)


def _adopt_unseen_mappings(state: _State, deleted: list[_Person]) -> None:
    """Re-point the distinct ids of merged-away persons that this batch never saw (older ids of the same
    person) to the person each was merged into, one version up; otherwise deleting the person would
    cascade them away in the database and leave them on a deleted person in ClickHouse. Runs inside the
    write transaction: the merged-away persons are locked first (PostgreSQL), so a mapping another worker
    adds meanwhile fails its foreign key instead of vanishing silently."""
    by_pk = {p.pk: p for p in deleted}
    fields = ("pk", "team_id", "distinct_id", "version", "person_id")
    for chunk in _chunks(list(by_pk)):
        if connection.features.has_select_for_update:
            list(Person.objects.select_for_update().filter(pk__in=chunk).values_list("pk", flat=True))
        for pk, team_id, did, version, person_pk in PersonDistinctId.objects.filter(person_id__in=chunk).values_list(
            *fields
        ):
            key = (team_id, did)
            if key in state.pdi:  # seen by the batch: already re-pointed by the merge itself
                continue
            target = by_pk[person_pk]
            while id(target) in state.merged_into:  # B → C → A in one batch: follow to the surviving person
                target = state.merged_into[id(target)]
            state.pdi[key] = _Mapping(pk, team_id, did, target, version + 1)
            state.by_did[key] = target
            state.dirty_pdi.add(key)


def _mirror(persons: list[_Person], deleted: list[_Person], mappings: list[_Mapping]) -> None:
    client = get_client()
    rows = [_person_row(p, is_deleted=0) for p in persons] + [_person_row(p, is_deleted=1) for p in deleted]
    if rows:
        client.insert_json_rows(table("person"), orjson.dumps(rows))  # JSONEachRow takes an array of rows
    if mappings:
        body = orjson.dumps(
            [
                {
                    "team_id": m.team_id,
                    "distinct_id": m.distinct_id,
                    "person_id": str(m.person.uuid),
                    "is_deleted": 0,
                    "version": m.version,
                }
                for m in mappings
            ]
        )
        client.insert_json_rows(table("person_distinct_id2"), body)


def _person_row(person: _Person, *, is_deleted: int) -> dict[str, Any]:
    return {
        "id": str(person.uuid),
        "created_at": person.created_at.astimezone(UTC).isoformat(" ", "milliseconds")[:23],
        "team_id": person.team_id,
        "properties": orjson.dumps(person.properties).decode(),
        "is_identified": int(person.is_identified),
        "is_deleted": is_deleted,
        "version": person.version + (1 if is_deleted else 0),
    }
