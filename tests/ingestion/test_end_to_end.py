"""Acceptance 1: events posted over HTTP in every capture encoding are, after flush, in `events` with the
right timestamp, distinct_id, person_id, properties and $session_id."""

from __future__ import annotations

import gzip

import orjson
import pytest
from django.test import Client

from ingestion.worker import flush
from persons.models import Person, PersonDistinctId
from tests.capture.helpers import ENCODINGS, send
from tests.ingestion.helpers import events_rows

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_every_encoding_lands_in_events_after_flush(project, encoding):
    team = project.team
    body = {
        "api_key": team.api_token,
        "batch": [
            {
                "event": "$pageview",
                "uuid": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                "timestamp": "2026-05-01T10:00:00.250Z",
                "properties": {"distinct_id": f"user-{encoding}", "$session_id": "s-1", "plan": "pro ü"},
            }
        ],
    }
    response = send(Client(REMOTE_ADDR="127.0.0.1"), "/batch/", ENCODINGS[encoding](orjson.dumps(body)))
    assert response.status_code == 200
    assert flush() == 1
    [row] = events_rows(team.pk)
    person = PersonDistinctId.objects.get(team=team, distinct_id=f"user-{encoding}").person
    assert row["uuid"] == "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
    assert row["event"] == "$pageview"
    assert row["timestamp"] == "2026-05-01 10:00:00.250000"
    assert row["distinct_id"] == f"user-{encoding}"
    assert row["person_id"] == str(person.uuid)
    assert row["session_id"] == "s-1"
    assert row["properties"]["plan"] == "pro ü"
    assert row["properties"]["$ip"] == "127.0.0.1"
    assert row["person_mode"] == "full"


def test_flush_twice_writes_nothing_more_and_marks_the_team_ingested(project):
    team = project.team
    events = [{"event": "e", "properties": {"distinct_id": f"d{i}"}} for i in range(50)]
    payload = gzip.compress(orjson.dumps({"api_key": team.api_token, "batch": events}))
    response = Client().post("/batch/?compression=gzip", payload, content_type="text/plain")
    assert response.status_code == 200
    assert flush() == 50
    assert flush() == 0
    assert len(events_rows(team.pk)) == 50
    assert Person.objects.filter(team=team).count() == 50
    team.refresh_from_db()
    assert team.ingested_event is True


def test_personless_events_create_no_person(project):
    team = project.team
    event = {"event": "e", "properties": {"distinct_id": "anon", "$process_person_profile": False}}
    assert (
        Client().post("/e/", orjson.dumps({**event, "api_key": team.api_token}), "application/json").status_code == 200
    )
    flush()
    [row] = events_rows(team.pk)
    assert row["person_mode"] == "propertyless"
    assert not Person.objects.filter(team=team).exists()
