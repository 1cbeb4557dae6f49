"""Person processing for a whole batch (capture reference §12): one bulk read of every distinct id the
batch mentions, the merges and property updates applied in memory in event order, then bulk writes to
the Django database and one mirror insert per ClickHouse table (rows with a higher version).
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from django.db import transaction

from ingestion.models import IngestionWarning, Person, PersonDistinctId
from ingestion.processing import NormalizedEvent, ResolvedPerson, ch_datetime
from posthog_clone.clickhouse import get_client, table
from posthog_clone.utils import uuid7

logger = logging.getLogger(__name__)

_ILLEGAL_CI = {
    "anonymous", "guest", "distinctid", "distinct_id", "id", "not_authenticated", "email", "undefined", "true", "false",
}  # fmt: skip
_ILLEGAL_CS = {"[object Object]", "NaN", "None", "none", "null", "0", "undefined"}
_PERSONLESS_NS = uuidlib.UUID("5f3c1b2e-9a57-4d3e-8f0a-4b7c2d1e6a90")


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


@dataclass
class _State:
    """Persons and mappings of one batch, changed in memory, written at the end."""

    persons: dict[int, Person] = field(default_factory=dict)  # id(person) → person
    by_did: dict[tuple[int, str], Person] = field(default_factory=dict)
    pdi: dict[tuple[int, str], PersonDistinctId] = field(default_factory=dict)
    dirty_persons: set[int] = field(default_factory=set)
    dirty_pdi: set[tuple[int, str]] = field(default_factory=set)
    deleted: list[Person] = field(default_factory=list)
    warnings: list[IngestionWarning] = field(default_factory=list)

    def touch(self, person: Person) -> None:
        self.persons[id(person)] = person
        self.dirty_persons.add(id(person))

    def assign(self, team_id: int, distinct_id: str, person: Person) -> None:
        key = (team_id, distinct_id)
        self.by_did[key] = person
        mapping = self.pdi.get(key)
        if mapping is None:
            mapping = self.pdi[key] = PersonDistinctId(team_id=team_id, distinct_id=distinct_id, version=0)
        elif mapping.person_id is not None and mapping.person is person:
            return
        else:
            mapping.version += 1
        mapping.person = person
        self.dirty_pdi.add(key)


def _load(events: list[NormalizedEvent]) -> _State:
    state = _State()
    wanted: dict[int, set[str]] = {}
    for ev in events:
        ids = wanted.setdefault(ev.team_id, set())
        ids.add(ev.distinct_id)
        for key in ("$anon_distinct_id", "alias"):
            other = ev.properties.get(key)
            if isinstance(other, str | int) and ev.event in ("$identify", "$create_alias", "$merge_dangerously"):
                ids.add(str(other))
    by_pk: dict[int, Person] = {}
    for team_id, ids in wanted.items():
        rows = PersonDistinctId.objects.filter(team_id=team_id, distinct_id__in=list(ids)).select_related("person")
        for mapping in rows:
            person = by_pk.setdefault(mapping.person.pk, mapping.person)
            mapping.person = person
            state.persons[id(person)] = person
            state.by_did[(team_id, mapping.distinct_id)] = person
            state.pdi[(team_id, mapping.distinct_id)] = mapping
    return state


def _new_person(state: _State, ev: NormalizedEvent) -> Person:
    person = Person(team_id=ev.team_id, uuid=uuid7(), properties={}, created_at=ev.timestamp, version=0)
    state.touch(person)
    return person


def _warn(state: _State, ev: NormalizedEvent, kind: str, details: dict[str, Any]) -> None:
    state.warnings.append(IngestionWarning(team_id=ev.team_id, type=kind, details={**details, "eventUuid": ev.uuid}))


def _merge(state: _State, ev: NormalizedEvent, other_id: str, *, force: bool) -> None:
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
        state.dirty_persons.discard(id(source))
    assert target is not None
    if not target.is_identified:
        target.is_identified = True
    state.touch(target)


def _apply_properties(person: Person, ev: NormalizedEvent) -> bool:
    props = person.properties
    before = dict(props)
    props.update(ev.set_props)
    for key, value in ev.set_once_props.items():
        props.setdefault(key, value)
    for key in ev.unset_keys:
        props.pop(key, None)
    return props != before


def persons_process(events: list[NormalizedEvent]) -> list[ResolvedPerson]:
    """Resolve (and update) the person of every event; returns one ResolvedPerson per event, in order."""
    state = _load(events)
    resolved_ids: list[tuple[NormalizedEvent, Person | None]] = []
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
    _write(state)
    out = []
    for ev, person in resolved_ids:
        if person is None:
            out.append(
                ResolvedPerson(personless_person_id(ev.team_id, ev.distinct_id), {}, datetime(1970, 1, 1, tzinfo=UTC))
            )
        else:
            out.append(ResolvedPerson(str(person.uuid), dict(person.properties), person.created_at))
    return out


def _write(state: _State) -> None:
    dirty = [state.persons[i] for i in state.dirty_persons]
    for person in dirty:
        person.version += 1
    deleted = [p for p in state.deleted if p.pk is not None]
    with transaction.atomic():
        new = [p for p in dirty if p.pk is None]
        existing = [p for p in dirty if p.pk is not None]  # (not `p not in new`: Model.__eq__ makes that O(n²))
        Person.objects.bulk_create(new)
        Person.objects.bulk_update(existing, ["properties", "is_identified", "created_at", "version"])
        mappings = [state.pdi[k] for k in state.dirty_pdi]
        for mapping in mappings:
            mapping.person_id = mapping.person.pk
        PersonDistinctId.objects.bulk_create([m for m in mappings if m.pk is None])
        PersonDistinctId.objects.bulk_update([m for m in mappings if m.pk is not None], ["person", "version"])
        if deleted:
            Person.objects.filter(pk__in=[p.pk for p in deleted]).delete()
        IngestionWarning.objects.bulk_create(state.warnings)
    _mirror(dirty, deleted, mappings)
    for warning in state.warnings:
        logger.warning("ingestion warning %s team=%s %s", warning.type, warning.team_id, warning.details)


def _mirror(persons: list[Person], deleted: list[Person], mappings: list[PersonDistinctId]) -> None:
    client = get_client()
    rows = [_person_row(p, is_deleted=0) for p in persons] + [_person_row(p, is_deleted=1) for p in deleted]
    if rows:
        client.insert_json_rows(table("person"), b"\n".join(orjson.dumps(r) for r in rows))
    if mappings:
        body = b"\n".join(
            orjson.dumps(
                {
                    "team_id": m.team_id,
                    "distinct_id": m.distinct_id,
                    "person_id": str(m.person.uuid),
                    "is_deleted": 0,
                    "version": m.version,
                }
            )  # fmt: skip
            for m in mappings
        )
        client.insert_json_rows(table("person_distinct_id2"), body)


def _person_row(person: Person, *, is_deleted: int) -> dict[str, Any]:
    return {
        "id": str(person.uuid),
        "created_at": ch_datetime(person.created_at)[:23],
        "team_id": person.team_id,
        "properties": orjson.dumps(person.properties).decode(),
        "is_identified": int(person.is_identified),
        "is_deleted": is_deleted,
        "version": person.version + (1 if is_deleted else 0),
    }
