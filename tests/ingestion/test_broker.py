"""Scale mode's drain (`flush()` with CELERY_BROKER_URL set) against the real Redis broker: every queued
message is written once and acknowledged after its write; a failed write leaves the message queued."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion import broker
from ingestion.queue import enqueue
from ingestion.worker import flush
from posthog_clone.clickhouse.client import ClickHouseClient
from posthog_clone.clickhouse.errors import ClickHouseError
from tests.conftest import require_service
from tests.ingestion.conftest import envelope
from tests.ingestion.helpers import events_rows
from tests.queues import broker_at, broker_purge

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db]


OWN_REDIS_DB = 10  # when the run is not on the broker already (other Celery tests use 2 and 11-15)


@pytest.fixture(autouse=True)
def _on_the_broker(settings) -> Iterator[None]:
    require_service("redis", "127.0.0.1", 6379)
    if settings.INGEST_QUEUE == "celery":
        yield
        return
    settings.INGEST_QUEUE = "celery"
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:6379/{OWN_REDIS_DB}"
    with broker_at(settings.CELERY_BROKER_URL):
        broker_purge()
        yield


def test_flush_writes_every_queued_message_and_empties_the_queue(team):
    sent = [[envelope(team, f"e{m}", f"u{m}") for _ in range(3)] for m in range(4)]
    for events in sent:
        enqueue(events)
    assert broker.depth() == 4

    assert flush() == 12
    assert broker.depth() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == sorted(e.uuid for batch in sent for e in batch)
    assert flush() == 0


def test_a_failed_write_leaves_the_message_queued_and_a_retry_writes_it_once(team, monkeypatch):
    events = [envelope(team, "kept", "u1"), envelope(team, "kept", "u2")]
    enqueue(events)

    def unavailable(self, *args, **kwargs):  # ClickHouse itself is the edge: a server that is overloaded
        raise ClickHouseError("Too many simultaneous queries", code=202, retryable=True)

    with monkeypatch.context() as patch:
        patch.setattr(ClickHouseClient, "insert_json_rows", unavailable)
        patch.setattr("ingestion.pipeline.time.sleep", lambda s: None)
        with pytest.raises(ClickHouseError):
            flush()
    assert broker.depth() == 1
    assert events_rows(team.pk) == []

    assert flush() == 2
    assert flush() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == sorted(e.uuid for e in events)
