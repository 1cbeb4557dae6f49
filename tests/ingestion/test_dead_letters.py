"""Rows ClickHouse can never take become dead letters (the rest of the batch is written); the management
commands list them and replay them; ingestion warnings are listed per project."""

from __future__ import annotations

import dataclasses
from io import StringIO

import pytest
from django.core.management import call_command
from prometheus_client import REGISTRY

from ingestion.models import DeadLetter
from ingestion.queue import enqueue
from ingestion.worker import flush
from tests.ingestion.conftest import envelope
from tests.ingestion.helpers import events_rows
from tests.queues import QueueProbe

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


def dropped(reason: str) -> float:
    return REGISTRY.get_sample_value("ingestion_events_dropped_total", {"reason": reason}) or 0.0


def test_an_unwritable_row_is_dead_lettered_and_the_rest_of_the_batch_written(team):
    good = envelope(team, "ok", "u1")
    bad = dataclasses.replace(envelope(team, "bad", "u2"), uuid="not-a-uuid")
    before = dropped("dead_letter")
    enqueue([good, bad])
    assert flush() == 2
    assert dropped("dead_letter") == before + 1
    assert QueueProbe().depth() == 0
    assert [r["uuid"] for r in events_rows(team.pk)] == [good.uuid]
    [letter] = DeadLetter.objects.all()
    assert letter.payload["uuid"] == "not-a-uuid" and letter.team_id == team.pk
    out = StringIO()
    call_command("dead_letters", "--project", str(team.pk), stdout=out)
    assert f"{letter.id}\t{team.pk}" in out.getvalue()


def test_replay_puts_dead_letters_back_on_the_queue(team):
    letter = DeadLetter.objects.create(team_id=team.pk, payload=envelope(team, "again", "u").to_dict(), error="x")
    call_command("dead_letters", "--replay", stdout=StringIO())
    assert flush() == 1
    assert [r["event"] for r in events_rows(team.pk)] == ["again"]
    letter.refresh_from_db()
    assert letter.replayed_at is not None


def test_ingestion_warnings_are_listed_per_project(team, other_project):
    enqueue([envelope(team, "$identify", "user", {"$anon_distinct_id": "null"})])
    enqueue([envelope(other_project.team, "$identify", "user", {"$anon_distinct_id": "guest"})])
    flush()
    out = StringIO()
    call_command("ingestion_warnings", "--project", str(team.pk), stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and "cannot_merge_with_illegal_distinct_id" in lines[0] and '"null"' in lines[0]


def test_ingest_flush_command_drains_the_queue(team):
    enqueue([envelope(team, "e", "u")])
    out = StringIO()
    call_command("ingest_flush", stdout=out)
    assert out.getvalue().strip() == "1 events ingested"
    assert len(events_rows(team.pk)) == 1
