"""Scale mode's batching consumer (ingestion.consumer, ingestion.batching) on the real Redis broker, with the
real pipeline and chDB: many messages are one insert, each message is acknowledged only after the insert
holding it, a failed insert acknowledges nothing and its messages come back, a poison row is a dead letter
while the rest lands, and a redelivered message is never written twice, whatever batch it comes back in."""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
import pytest

from ingestion import broker
from ingestion.batching import BatchWriter, Limits, batch_token, collect
from ingestion.broker import INGEST_TASK
from ingestion.consumer import IngestionConsumer, drain, open_source
from ingestion.models import DeadLetter
from ingestion.pipeline import ingest_batch, process_batch
from posthog_clone.celery import app
from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.client import ClickHouseClient
from posthog_clone.clickhouse.errors import ClickHouseError
from posthog_clone.redis_transport import inflight_key
from tests.conftest import require_service
from tests.ingestion.conftest import envelope
from tests.ingestion.helpers import events_insert_answer_lost, events_rows
from tests.queues import broker_at

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]
OWN_REDIS_DB = 10  # when the run is not on the broker already (test_broker.py's too: each test has its own queue)
LIMITS = Limits(events=1000, messages=1000, interval=0.05)


@dataclass
class RedisQueue:
    """The test's own ingestion queue on the real Redis, and what Redis holds of it."""

    redis: object
    name: str

    def waiting(self) -> list[dict]:
        """The messages on the queue, head (next taken) first."""
        return [orjson.loads(item) for item in reversed(self.redis.lrange(self.name, 0, -1))]

    def unacked(self) -> int:
        """This queue's messages taken and not yet acknowledged."""
        return sum(1 for record in self.redis.hvals("unacked") if orjson.loads(record)[2] == self.name)


@pytest.fixture
def queue(settings) -> Iterator[RedisQueue]:
    require_service("redis", "127.0.0.1", 6379)
    import redis

    if settings.INGEST_QUEUE != "celery":
        settings.INGEST_QUEUE = "celery"
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:6379/{OWN_REDIS_DB}"
    settings.CELERY_TASK_DEFAULT_QUEUE = name = f"ingestion-test-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    with broker_at(settings.CELERY_BROKER_URL):
        yield RedisQueue(client, name)
    client.delete(name, inflight_key(name), f"_kombu.binding.{name}", f"_kombu.binding_permanent.{name}")


@pytest.fixture
def inserts(monkeypatch, queue) -> list[dict]:
    """Every insert into ``events`` (ClickHouse is the edge: the real insert runs), with what the broker held
    at that moment."""
    real, seen = ClickHouseClient.insert_json_rows, []

    def spy(self, target, body, **kwargs):
        if target == table("events"):
            seen.append({"token": kwargs["dedup_token"], "rows": body.count(b"],[") + 1,
                         "waiting": len(queue.waiting()), "unacked": queue.unacked()})  # fmt: skip
        return real(self, target, body, **kwargs)

    monkeypatch.setattr(ClickHouseClient, "insert_json_rows", spy)
    return seen


def _publish(team, messages: int, events: int = 3) -> list[list]:
    sent = [[envelope(team, "e", f"u{m}-{i}") for i in range(events)] for m in range(messages)]
    for batch in sent:
        broker.publish(batch)
    return sent


def _uuids(sent: list[list]) -> list[str]:
    return sorted(e.uuid for batch in sent for e in batch)


def _counts(team_id: int) -> tuple[int, int]:
    sql = f"SELECT count(), uniqExact(uuid) FROM {table('events')} WHERE team_id = {{t:Int64}}"
    return get_client().query(sql, {"t": team_id}).rows[0]


def test_many_messages_are_one_insert_and_each_is_acknowledged_only_after_it(team, queue, inserts):
    sent = _publish(team, 5)

    assert drain(LIMITS) == 15
    assert [(i["rows"], i["waiting"], i["unacked"]) for i in inserts] == [(15, 0, 5)]  # all held during the insert
    assert queue.waiting() == [] and queue.unacked() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == _uuids(sent)


def test_a_batch_ends_at_its_message_or_event_bound(team, queue, inserts):
    _publish(team, 5)
    assert drain(dataclasses.replace(LIMITS, messages=2)) == 15
    assert [i["rows"] for i in inserts] == [6, 6, 3]

    inserts.clear()
    _publish(team, 5)
    assert drain(dataclasses.replace(LIMITS, events=7)) == 15  # a message is never split: 3 + 3 + 3 ≥ 7
    assert [i["rows"] for i in inserts] == [9, 6]


def test_the_worker_thread_writes_a_partial_batch_once_its_interval_is_over(team, queue, inserts):
    consumer = IngestionConsumer(queue.name, dataclasses.replace(LIMITS, interval=0.2))
    consumer.start()
    try:
        sent = _publish(team, 3)
        deadline = time.monotonic() + 30
        while consumer.events < 9 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        consumer.stop()
    assert consumer.events == 9
    assert sum(i["rows"] for i in inserts) == 9
    assert queue.waiting() == [] and queue.unacked() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == _uuids(sent)


def test_a_failed_insert_acknowledges_nothing_and_its_messages_come_back_marked_redelivered(
    team, queue, monkeypatch, merges_stopped
):
    sent = _publish(team, 3)
    with events_insert_answer_lost(monkeypatch), pytest.raises(ClickHouseError):
        drain(LIMITS)
    back = queue.waiting()
    assert queue.unacked() == 0 and len(back) == 3
    assert [m["headers"]["redelivered"] for m in back] == [True] * 3
    assert [broker.message_events(_body(m))[0].uuid for m in back] == [batch[0].uuid for batch in sent]  # in order

    assert drain(LIMITS) == 9
    assert _counts(team.pk) == (9, 9)  # the insert that landed is not repeated
    assert queue.waiting() == [] and queue.unacked() == 0


def test_a_batch_failing_to_process_while_one_is_inserted_lets_that_one_be_acknowledged(
    team, queue, inserts, monkeypatch
):
    _publish(team, 3)
    built: list[int] = []

    def second_fails(envelopes):
        built.append(len(envelopes))
        if len(built) == 2:
            raise RuntimeError("the database went away")
        return process_batch(envelopes)

    with monkeypatch.context() as patch:
        patch.setattr("ingestion.batching.process_batch", second_fails)
        with pytest.raises(RuntimeError, match="went away"):
            drain(dataclasses.replace(LIMITS, messages=1))
    assert _counts(team.pk) == (3, 3)  # the first message was written and acknowledged
    assert len(queue.waiting()) == 2 and queue.unacked() == 0  # the second is back, the third never taken

    assert drain(LIMITS) == 6, inserts
    assert _counts(team.pk) == (9, 9)


def test_a_poison_row_is_a_dead_letter_while_the_rest_of_the_batch_lands(team, queue, inserts):
    bad = dataclasses.replace(envelope(team, "bad", "u-bad"), uuid="not-a-uuid")
    good = [envelope(team, "ok", f"u{i}") for i in range(4)]
    broker.publish([good[0], bad, good[1]])
    broker.publish(good[2:])

    assert drain(LIMITS) == 5
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == sorted(e.uuid for e in good)
    assert [letter.payload["uuid"] for letter in DeadLetter.objects.all()] == ["not-a-uuid"]
    assert inserts[0]["rows"] == 5  # the batch was tried whole first, then row by row
    assert queue.waiting() == [] and queue.unacked() == 0


def test_messages_a_dead_worker_wrote_come_back_and_are_not_written_again_in_other_batches(
    team, queue, inserts, merges_stopped, monkeypatch
):
    monkeypatch.setattr("ingestion.pipeline.UUIDS_A_QUERY", 5)  # their uuids looked for in several queries
    sent = _publish(team, 4)
    with app.connection_for_read() as conn:
        source = open_source(conn, queue.name)
        taken = collect(source, LIMITS, wait=False)
        envelopes = [e for d in taken for e in d.events]
        ingest_batch(envelopes, token=batch_token(envelopes))  # written; the worker dies before acknowledging
        assert queue.unacked() == 4
        for d in taken:  # what the sweep does once the visibility timeout is over
            source.channel.qos.restore_by_tag(d.handle[0])
    assert len(queue.waiting()) == 4

    assert drain(dataclasses.replace(LIMITS, messages=3)) == 12  # other batches, other tokens
    assert _counts(team.pk) == (12, 12)
    assert len(inserts) == 1  # the dead worker's: the redelivered events were found written
    assert queue.waiting() == [] and queue.unacked() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == _uuids(sent)


def test_a_message_whose_token_a_dead_worker_left_without_rows_is_written_when_it_comes_back(team, queue, inserts):
    """A chDB worker killed inside an insert, after the table logged the token and before the part was in
    place: the token is spent and the rows are nowhere (built here by deleting the rows the insert wrote).
    The redelivered message, unwritten, must not go under that token again."""
    sent = _publish(team, 1)  # one message: it comes back as the same batch
    with app.connection_for_read() as conn:
        source = open_source(conn, queue.name)
        taken = collect(source, LIMITS, wait=False)
        envelopes = [e for d in taken for e in d.events]
        ingest_batch(envelopes, token=batch_token(envelopes))
        get_client().command(
            f"ALTER TABLE {table('events')} DELETE WHERE team_id = {team.pk} SETTINGS mutations_sync = 2"
        )
        for d in taken:
            source.channel.qos.restore_by_tag(d.handle[0])
    assert _counts(team.pk) == (0, 0)

    assert drain(LIMITS) == 3

    assert _counts(team.pk) == (3, 3)
    assert inserts[-1]["token"] != batch_token(envelopes)
    assert queue.waiting() == [] and queue.unacked() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == _uuids(sent)


def test_messages_a_sweep_gives_back_while_their_insert_runs_are_not_written_twice(
    team, queue, monkeypatch, merges_stopped
):
    sent = _publish(team, 3)
    real, gate = ClickHouseClient.insert_json_rows, threading.Event()

    def slow(self, target, body, **kwargs):  # ClickHouse is the edge: a slow insert, then the real one
        if target == table("events"):
            gate.wait(10)
        return real(self, target, body, **kwargs)

    monkeypatch.setattr(ClickHouseClient, "insert_json_rows", slow)
    with app.connection_for_read() as conn, ThreadPoolExecutor(1) as pool:
        source = open_source(conn, queue.name)
        writer = BatchWriter(source, executor=pool)
        taken = collect(source, LIMITS, wait=False)
        writer.write(taken)  # its insert is under way
        for d in taken:  # held past the visibility timeout: a sweep gives them back
            source.channel.qos.restore_by_tag(d.handle[0])
        again = collect(source, LIMITS, wait=False)
        assert len(again) == 3 and all(d.redelivered for d in again)
        threading.Timer(0.2, gate.set).start()
        writer.write(again)  # waits for the insert under way before looking for its events
        writer.settle()
    assert _counts(team.pk) == (9, 9)
    assert queue.waiting() == [] and queue.unacked() == 0
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == _uuids(sent)


def test_a_redelivered_message_not_written_before_is_written(team, queue, merges_stopped):
    [batch] = _publish(team, 1)
    with app.connection_for_read() as conn:
        source = open_source(conn, queue.name)
        [taken] = collect(source, LIMITS, wait=False)  # the worker dies before writing it
        source.channel.qos.restore_by_tag(taken.handle[0])

    assert drain(LIMITS) == 3
    assert _counts(team.pk) == (3, 3)
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == sorted(e.uuid for e in batch)


def test_messages_published_before_the_compact_form_are_still_written(team, queue):
    events = [envelope(team, "old", f"u{i}") for i in range(2)]
    app.send_task(INGEST_TASK, args=[[e.to_dict() for e in events]], queue=queue.name)
    new = _publish(team, 1)

    assert drain(LIMITS) == 5
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == sorted([e.uuid for e in events] + _uuids(new))


def test_an_unreadable_message_is_rejected_and_the_others_are_written(team, queue):
    app.send_task(INGEST_TASK, args=["not a packed batch"], queue=queue.name)
    sent = _publish(team, 2)

    assert drain(LIMITS) == 6, inserts
    assert sorted(r["uuid"] for r in events_rows(team.pk)) == _uuids(sent)
    assert queue.waiting() == [] and queue.unacked() == 0


def _body(message: dict) -> bytes:
    return base64.b64decode(message["body"])
