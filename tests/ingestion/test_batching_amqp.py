"""The batching consumer on RabbitMQ (amqp://, kombu's generic path: a get and an acknowledgement per message):
the same batches, the same acknowledgement after the insert, the same redelivery without duplicates.
Runs where a RabbitMQ listens on 127.0.0.1:5672 (guest account); CI runs none, so it skips there."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest

from ingestion import broker
from ingestion.batching import Limits
from ingestion.consumer import IngestionConsumer, KombuSource, drain, open_source
from posthog_clone.celery import app
from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.client import ClickHouseClient
from posthog_clone.clickhouse.errors import ClickHouseError
from tests.conftest import service_reachable
from tests.ingestion.conftest import envelope
from tests.ingestion.helpers import events_insert_answer_lost
from tests.queues import broker_at

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
LIMITS = Limits(events=1000, messages=1000, interval=0.05)


@pytest.fixture
def rabbitmq(settings) -> Iterator[str]:
    if not service_reachable("127.0.0.1", 5672):
        pytest.skip("RabbitMQ not reachable at 127.0.0.1:5672")
    settings.INGEST_QUEUE = "celery"
    settings.CELERY_BROKER_URL = AMQP_URL
    settings.CELERY_TASK_DEFAULT_QUEUE = name = f"ingestion-test-{uuid.uuid4().hex[:8]}"
    with broker_at(AMQP_URL):
        yield name
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(name)
            conn.default_channel.exchange_delete(name)


def _counts(team_id: int) -> tuple[int, int]:
    sql = f"SELECT count(), uniqExact(uuid) FROM {table('events')} WHERE team_id = {{t:Int64}}"
    return get_client().query(sql, {"t": team_id}).rows[0]


def _publish(team, messages: int) -> None:
    for m in range(messages):
        broker.publish([envelope(team, "e", f"u{m}-{i}") for i in range(3)])


def test_on_rabbitmq_many_messages_are_one_insert_and_all_are_acknowledged(team, rabbitmq, monkeypatch):
    _publish(team, 4)
    real, rows = ClickHouseClient.insert_json_rows, []

    def spy(self, target, body, **kwargs):
        if target == table("events"):
            rows.append(body.count(b"],[") + 1)
        return real(self, target, body, **kwargs)

    monkeypatch.setattr(ClickHouseClient, "insert_json_rows", spy)
    with app.connection_for_read() as conn:
        assert isinstance(open_source(conn, rabbitmq), KombuSource)

    assert drain(LIMITS) == 12
    assert rows == [12]
    assert broker.depth() == 0
    assert _counts(team.pk) == (12, 12)


def test_on_rabbitmq_a_failed_insert_puts_every_message_back_and_the_retry_writes_each_event_once(
    team, rabbitmq, monkeypatch, merges_stopped
):
    _publish(team, 3)
    with events_insert_answer_lost(monkeypatch), pytest.raises(ClickHouseError):
        drain(dataclasses.replace(LIMITS, messages=2))
    assert broker.depth() == 3

    assert drain(dataclasses.replace(LIMITS, messages=1)) == 9  # other batches: the uuids find them written
    assert _counts(team.pk) == (9, 9)
    assert broker.depth() == 0


def test_on_rabbitmq_the_worker_thread_writes_what_arrives(team, rabbitmq):
    consumer = IngestionConsumer(rabbitmq, dataclasses.replace(LIMITS, interval=0.2))
    consumer.start()
    try:
        _publish(team, 3)
        deadline = time.monotonic() + 30
        while consumer.events < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        consumer.stop()
    assert consumer.events == 9
    assert _counts(team.pk) == (9, 9)
    assert broker.depth() == 0
