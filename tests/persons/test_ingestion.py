"""Acceptance 2: identify / alias / merge scenarios give the right persons and mappings in the Django
database and in ClickHouse (argMax by version)."""

from __future__ import annotations

import pytest

from ingestion.models import IngestionWarning
from ingestion.queue import enqueue
from ingestion.worker import flush
from persons.ingestion import is_illegal_distinct_id
from persons.models import Person, PersonDistinctId
from tests.ingestion.conftest import envelope
from tests.ingestion.helpers import ch_distinct_ids, ch_persons, events_rows

DB = pytest.mark.django_db(transaction=True)


def _ingest(*envelopes):
    for env in envelopes:  # one request each, one batch for all: merges happen inside a batch
        enqueue([env])
    flush()


def _db_mapping(team):
    return {
        m.distinct_id: str(m.person.uuid) for m in PersonDistinctId.objects.filter(team=team).select_related("person")
    }


def _assert_db_matches_clickhouse(team):
    assert ch_distinct_ids(team.pk) == _db_mapping(team)
    db_persons = {
        str(p.uuid): {"properties": p.properties, "is_identified": p.is_identified}
        for p in Person.objects.filter(team=team)
    }
    assert ch_persons(team.pk) == db_persons


@pytest.mark.clickhouse
@DB
def test_anonymous_then_identified_becomes_one_person_with_merged_properties(team):
    _ingest(
        envelope(team, "$pageview", "anon-1", {"$set_once": {"first": "a"}, "$set": {"plan": "free"}}),
        envelope(team, "$identify", "user@x.io", {"$anon_distinct_id": "anon-1", "$set": {"plan": "pro"}}),
        envelope(team, "$pageview", "user@x.io", {"$set_once": {"first": "ignored"}, "$unset": ["plan"]}),
    )
    [person] = Person.objects.filter(team=team)
    assert person.is_identified
    assert person.properties == {"first": "a"}
    assert _db_mapping(team) == {"anon-1": str(person.uuid), "user@x.io": str(person.uuid)}
    assert {r["person_id"] for r in events_rows(team.pk)} == {str(person.uuid)}
    _assert_db_matches_clickhouse(team)


@pytest.mark.clickhouse
@DB
def test_anonymous_person_from_an_earlier_batch_is_merged_into_the_identified_one(team):
    _ingest(envelope(team, "$pageview", "anon-2", {"$set": {"a": 1}}))
    _ingest(envelope(team, "$pageview", "known", {"$set": {"b": 2}}))
    _ingest(envelope(team, "$identify", "known", {"$anon_distinct_id": "anon-2"}))
    [person] = Person.objects.filter(team=team)
    assert person.properties == {"a": 1, "b": 2}
    assert set(_db_mapping(team)) == {"anon-2", "known"}
    _assert_db_matches_clickhouse(team)


@pytest.mark.clickhouse
@DB
def test_create_alias_links_the_alias_to_the_same_person(team):
    _ingest(envelope(team, "$pageview", "main"), envelope(team, "$create_alias", "main", {"alias": "other"}))
    [person] = Person.objects.filter(team=team)
    assert _db_mapping(team) == {"main": str(person.uuid), "other": str(person.uuid)}
    _assert_db_matches_clickhouse(team)


@pytest.mark.clickhouse
@DB
def test_identify_refuses_to_merge_two_identified_persons(team):
    _ingest(
        envelope(team, "$identify", "alice", {"$set": {"n": "alice"}}),
        envelope(team, "$identify", "bob", {"$set": {"n": "bob"}}),
    )
    _ingest(envelope(team, "$identify", "alice", {"$anon_distinct_id": "bob"}))
    assert Person.objects.filter(team=team).count() == 2
    mapping = _db_mapping(team)
    assert mapping["alice"] != mapping["bob"]
    assert IngestionWarning.objects.filter(team=team, type="cannot_merge_already_identified").count() == 1
    _assert_db_matches_clickhouse(team)


@pytest.mark.clickhouse
@DB
def test_merge_dangerously_merges_two_identified_persons(team):
    _ingest(
        envelope(team, "$identify", "alice", {"$set": {"a": 1}}), envelope(team, "$identify", "bob", {"$set": {"b": 2}})
    )
    _ingest(envelope(team, "$merge_dangerously", "alice", {"alias": "bob"}))
    [person] = Person.objects.filter(team=team)
    assert person.properties == {"a": 1, "b": 2}
    assert _db_mapping(team) == {"alice": str(person.uuid), "bob": str(person.uuid)}
    _assert_db_matches_clickhouse(team)


@pytest.mark.clickhouse
@DB
@pytest.mark.parametrize("illegal", ["anonymous", "[object Object]", "'undefined'", "0"])
def test_illegal_ids_are_never_merged_but_the_event_is_ingested(team, illegal):
    _ingest(
        envelope(team, "$pageview", "real-user"),
        envelope(team, "$identify", "real-user", {"$anon_distinct_id": illegal}),
    )
    assert illegal not in _db_mapping(team)
    warning = IngestionWarning.objects.get(team=team, type="cannot_merge_with_illegal_distinct_id")
    assert warning.details["illegalDistinctId"] == illegal
    assert len(events_rows(team.pk)) == 2
    _assert_db_matches_clickhouse(team)


@pytest.mark.parametrize(
    ("value", "illegal"),
    [
        ("anonymous", True), ("GUEST", True), ("Distinct_Id", True), ("not_authenticated", True), ("email", True),
        ("True", True), ("[object Object]", True), ("NaN", True), ("nan", False), ("None", True), ("NONE", False),
        ("null", True), ("0", True), ('"undefined"', True), ("'guest'", True), ("", True), ("  ", True),
        ("user-1", False), ("00", False),
    ],
)  # fmt: skip
def test_illegal_distinct_id_list(value, illegal):
    assert is_illegal_distinct_id(value) is illegal


def _hogql(project, sql):
    from tests.query.conftest import run

    response = run(project, sql)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _assert_no_mapping_points_at_a_deleted_person(team):
    live = set(ch_persons(team.pk))
    assert set(ch_distinct_ids(team.pk).values()) <= live
    assert {str(m.person.uuid) for m in PersonDistinctId.objects.filter(team=team).select_related("person")} <= live


@pytest.mark.clickhouse
@DB
def test_merge_moves_every_distinct_id_of_the_merged_person_even_ones_not_in_the_batch(project, team):
    _ingest(
        envelope(team, "$pageview", "d1", {"$set": {"from_b": 1, "shared": "b"}}),
        envelope(team, "$create_alias", "d1", {"alias": "d2"}),
        envelope(team, "$pageview", "d2"),
        envelope(team, "$identify", "a-user", {"$set": {"shared": "a"}}),
    )
    b_uuid = str(PersonDistinctId.objects.get(team=team, distinct_id="d2").person.uuid)
    d2_version = PersonDistinctId.objects.get(team=team, distinct_id="d2").version

    _ingest(envelope(team, "$merge_dangerously", "a-user", {"alias": "d1"}))  # d2 is not in this batch

    [person] = Person.objects.filter(team=team)
    a_uuid = str(person.uuid)
    assert a_uuid != b_uuid
    assert person.properties == {"from_b": 1, "shared": "a"}
    assert _db_mapping(team) == {"a-user": a_uuid, "d1": a_uuid, "d2": a_uuid}
    assert PersonDistinctId.objects.get(team=team, distinct_id="d2").version > d2_version
    assert ch_distinct_ids(team.pk)["d2"] == a_uuid
    assert b_uuid not in ch_persons(team.pk)
    _assert_no_mapping_points_at_a_deleted_person(team)
    _assert_db_matches_clickhouse(team)
    rows = _hogql(
        project, "SELECT distinct_id, person_id, person.properties.shared FROM events WHERE distinct_id = 'd2'"
    )
    assert rows == [["d2", a_uuid, "a"]]

    _ingest(envelope(team, "$pageview", "d2", {"$set": {"later": True}}))  # the cache knows d2 belongs to A now
    assert list(Person.objects.filter(team=team).values_list("uuid", flat=True)) == [person.uuid]
    assert Person.objects.get(team=team).properties["later"] is True
    assert {r["person_id"] for r in events_rows(team.pk) if r["distinct_id"] == "d2"} >= {a_uuid}
    _assert_db_matches_clickhouse(team)


@pytest.mark.clickhouse
@DB
def test_chained_merges_in_one_batch_move_unseen_distinct_ids_to_the_final_person(project, team):
    _ingest(
        envelope(team, "$create_alias", "b1", {"alias": "b2"}),
        envelope(team, "$create_alias", "c1", {"alias": "c2"}),
        envelope(team, "$identify", "a-user", {"$set": {"who": "a"}}),
    )
    _ingest(
        envelope(team, "$merge_dangerously", "c1", {"alias": "b1"}),  # B → C
        envelope(team, "$merge_dangerously", "a-user", {"alias": "c1"}),  # C (holding B) → A
    )
    [person] = Person.objects.filter(team=team)
    a_uuid = str(person.uuid)
    assert _db_mapping(team) == dict.fromkeys(["a-user", "b1", "b2", "c1", "c2"], a_uuid)
    _assert_no_mapping_points_at_a_deleted_person(team)
    _assert_db_matches_clickhouse(team)
    rows = _hogql(project, "SELECT DISTINCT person_id FROM events")
    assert rows == [[a_uuid]]


@pytest.mark.clickhouse
@DB
def test_moving_unseen_distinct_ids_costs_the_same_queries_for_two_merges_as_for_twenty(team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def merges(n, prefix):
        _ingest(*[envelope(team, "$create_alias", f"{prefix}{i}-a", {"alias": f"{prefix}{i}-b"}) for i in range(n)])
        enqueue([envelope(team, "$merge_dangerously", f"{prefix}{i}-x", {"alias": f"{prefix}{i}-a"}) for i in range(n)])
        with CaptureQueriesContext(connection) as ctx:  # one request, so one batch on the spool and on the broker
            flush()
        return len(ctx.captured_queries)

    merges(1, "warm-up")  # the first flush also loads the team, its token and definition caches
    assert merges(2, "small") == merges(20, "big")
    mapping = _db_mapping(team)
    assert all(mapping[f"big{i}-b"] == mapping[f"big{i}-x"] for i in range(20))
    _assert_no_mapping_points_at_a_deleted_person(team)
    _assert_db_matches_clickhouse(team)
