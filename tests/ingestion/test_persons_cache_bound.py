"""Issue 26: what the ingestion worker keeps of persons between batches is bounded by INGEST_PERSONS_CACHE_SIZE
(with 100 new users a second it grew the engine ~6 MB a minute), the least recently seen dropped first, and
dropping a person from it never changes which person an event gets."""

from __future__ import annotations

import pytest
from django.test import override_settings

from ingestion import processing
from ingestion.queue import enqueue
from ingestion.worker import flush
from persons import ingestion as persons_ingestion
from persons.models import Person, PersonDistinctId
from tests.ingestion.conftest import envelope
from tests.ingestion.helpers import events_rows

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _empty_person_caches():
    persons_ingestion.cache_clear()
    processing._person_texts.clear()
    yield
    persons_ingestion.cache_clear()
    processing._person_texts.clear()


def _batch(team, dids: list[str]) -> None:
    enqueue([envelope(team, "$pageview", did, {"$set": {"email": f"{did}@example.com"}}) for did in dids])
    flush()


def _cached(team) -> set[str]:
    return {did for (team_id, did) in persons_ingestion._cache if team_id == team.pk}


@override_settings(INGEST_PERSONS_CACHE_SIZE=50)
def test_the_persons_kept_between_batches_never_exceed_the_bound_and_the_oldest_go_first(team):
    batches = [[f"b{b}-u{i}" for i in range(40)] for b in range(4)]
    for dids in batches:
        _batch(team, dids)
        assert len(persons_ingestion._cache) <= 50
        assert len(processing._person_texts) <= 50
    # the last batch's 40 and the 10 most recent of the batch before
    assert _cached(team) == set(batches[3]) | set(batches[2][-10:])
    assert Person.objects.filter(team=team).count() == 160

    # a person dropped from the cache long ago is read back from the database: the same person, no new one
    person = str(PersonDistinctId.objects.get(team=team, distinct_id="b0-u0").person.uuid)
    _batch(team, ["b0-u0"])
    assert Person.objects.filter(team=team).count() == 160
    assert [r["person_id"] for r in events_rows(team.pk) if r["distinct_id"] == "b0-u0"] == [person, person]
    assert "b0-u0" in _cached(team) and len(persons_ingestion._cache) <= 50


@override_settings(INGEST_PERSONS_CACHE_SIZE=0)
def test_a_bound_of_zero_keeps_no_person_between_batches(team):
    _batch(team, [f"u{i}" for i in range(30)])
    _batch(team, [f"u{i}" for i in range(30)])  # every one read from the database again: the same persons
    assert persons_ingestion._cache == {} and processing._person_texts == {}
    assert Person.objects.filter(team=team).count() == 30
    persons: dict[str, set[str]] = {}
    for row in events_rows(team.pk):
        persons.setdefault(row["distinct_id"], set()).add(row["person_id"])
    assert len(persons) == 30 and all(len(ids) == 1 for ids in persons.values())
