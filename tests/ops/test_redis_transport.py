"""posthog_clone/redis_transport.py against the real Redis: a message is never out of Redis unrecorded, so a
consumer that dies right after taking one causes a redelivery, not a loss."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.utils.json import loads

import posthog_clone.celery  # noqa: F401  (registers the transport for redis://)
from posthog_clone.redis_transport import Transport, inflight_key
from tests.conftest import require_service

REDIS_DB = 9  # other Celery and Redis tests use 2, 3 and 10-15
URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


@dataclass
class Broker:
    """Keys of this test only (queues and the unacknowledged set), so concurrent runs never meet."""

    redis: object
    prefix: str

    def q(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def counts(self, queue: str) -> tuple[int, int, int]:
        """(waiting, in flight, unacknowledged) for ``queue``."""
        r = self.redis
        return r.llen(self.q(queue)), r.llen(inflight_key(self.q(queue))), r.hlen(self.q("unacked"))

    def connection(self) -> Connection:
        keys = {name: self.q(name) for name in ("unacked", "unacked_index", "unacked_mutex")}
        options = {f"{name}_key": key for name, key in keys.items()}
        return Connection(URL, transport_options={"visibility_timeout": 1, **options})


@pytest.fixture
def broker() -> Iterator[Broker]:
    require_service("redis", "127.0.0.1", 6379)
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    prefix = f"t{uuid.uuid4().hex[:8]}."
    yield Broker(client, prefix)
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name, "direct"), routing_key=name)


def _publish(conn: Connection, queue: str, body: dict) -> None:
    q = _queue(queue)
    Producer(conn.channel()).publish(body, exchange=q.exchange, routing_key=queue, declare=[q], serializer="json")


def _consume(conn: Connection, names: list[str], count: int) -> list[dict]:
    """Bodies of the first ``count`` messages a blocking consumer of ``names`` receives (each acknowledged)."""
    received: list[dict] = []

    def on_message(body, message):
        received.append(body)
        message.ack()

    with Consumer(conn, [_queue(name) for name in names], callbacks=[on_message], accept=["json"]):
        deadline = time.monotonic() + 10
        while len(received) < count and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=1)
    return received


def test_a_redis_url_selects_this_transport():
    with Connection(URL) as conn:
        assert isinstance(conn.transport, Transport)


def test_a_message_whose_taker_died_before_recording_it_is_redelivered(broker):
    q = broker.q("q")
    with broker.connection() as dying:
        _publish(dying, q, {"n": 1})
        dying.default_channel._get(q)  # taken; the process "dies" before recording it as unacknowledged
        assert broker.counts("q") == (0, 1, 0)

    with broker.connection() as survivor:
        queue = survivor.SimpleQueue(q)
        channel = queue.channel
        channel.basic_consume(q, False, lambda m: None, "tag")  # the survivor consumes the queue
        assert channel.qos.adopt_stranded() == 1
        assert broker.counts("q") == (0, 0, 1)
        time.sleep(1.1)  # the visibility timeout
        channel.qos.restore_visible(interval=1)
        message = queue.get(block=False)
        assert message.payload == {"n": 1}
        assert message.headers.get("redelivered") is True
        message.ack()
    assert broker.counts("q") == (0, 0, 0)


def test_a_consumed_and_acknowledged_message_leaves_nothing_behind(broker):
    with broker.connection() as conn:
        _publish(conn, broker.q("q"), {"n": 2})
        message = conn.SimpleQueue(broker.q("q")).get(block=False)
        assert broker.counts("q") == (0, 0, 1)
        message.ack()
    assert broker.counts("q") == (0, 0, 0)


def test_a_no_ack_get_leaves_nothing_in_flight(broker):
    with broker.connection() as conn:
        _publish(conn, broker.q("q"), {"n": 3})
        assert conn.SimpleQueue(broker.q("q"), no_ack=True).get(block=False).payload == {"n": 3}
    assert broker.counts("q") == (0, 0, 0)


def test_a_blocking_consumer_of_two_queues_receives_from_both_and_acks_clean(broker):
    with broker.connection() as conn:
        for n in range(3):
            _publish(conn, broker.q("a"), {"q": "a", "n": n})
            _publish(conn, broker.q("b"), {"q": "b", "n": n})
        received = _consume(conn, [broker.q(name) for name in "ab"], 6)
    assert sorted((m["q"], m["n"]) for m in received) == [(q, n) for q in "ab" for n in range(3)]
    assert broker.counts("a") == broker.counts("b") == (0, 0, 0)


def test_a_consumer_of_two_queues_never_waits_on_the_empty_one_while_the_other_has_messages(broker, monkeypatch):
    import redis.connection

    sent: list[str] = []
    real_send = redis.connection.Connection.send_command

    def send(self, *args, **kwargs):
        if any(broker.prefix in str(arg) for arg in args[1:]):  # this test's queues, not another consumer's
            sent.append(str(args[0]))
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_command", send)
    with broker.connection() as conn:
        for n in range(20):
            _publish(conn, broker.q("busy"), {"n": n})
        received = _consume(conn, [broker.q("busy"), broker.q("idle")], 20)
        takes = [c for c in sent if c in ("BLMOVE", "EVAL")]
    assert sorted(m["n"] for m in received) == list(range(20))
    assert takes[:20] == ["EVAL"] * 20  # each message came from the non-blocking pass, no 0.2 s wait on "idle"
    assert broker.counts("busy") == (0, 0, 0)


def _taken(items: list[bytes]) -> list[tuple[str, dict]]:
    """(delivery tag, body) of raw items taken from a queue."""
    import base64

    out = []
    for item in items:
        message = loads(item)
        out.append((message["properties"]["delivery_tag"], loads(base64.b64decode(message["body"]))))
    return out


def test_take_many_records_each_message_as_unacknowledged_in_the_same_step_and_ack_many_forgets_them(broker):
    q = broker.q("q")
    with broker.connection() as conn:
        for n in range(3):
            _publish(conn, q, {"n": n})
        channel = conn.default_channel
        taken = _taken(channel.take_many(q, 2))
        assert [body["n"] for _, body in taken] == [0, 1]  # the oldest first
        assert broker.counts("q") == (1, 0, 2)  # never in an in-flight list: recorded at once
        channel.ack_many([tag for tag, _ in taken])
    assert broker.counts("q") == (1, 0, 0)


def test_requeue_many_puts_messages_back_at_the_head_in_taking_order_except_those_a_sweep_restored(broker):
    q = broker.q("q")
    with broker.connection() as conn:
        for n in range(4):
            _publish(conn, q, {"n": n})
        channel = conn.default_channel
        items = channel.take_many(q, 3)
        tags = [tag for tag, _ in _taken(items)]
        channel.qos.restore_by_tag(tags[1])  # the visibility-timeout sweep got there first
        assert channel.requeue_many(q, list(zip(tags, items, strict=True))) == 2
        again = _taken(channel.take_many(q, 10))
    assert [body["n"] for _, body in again] == [0, 2, 1, 3]  # each message once
    assert broker.counts("q") == (0, 0, 4)


def test_messages_a_bulk_taker_held_when_it_died_come_back_after_the_visibility_timeout(broker):
    q = broker.q("q")
    with broker.connection() as dying:
        for n in range(2):
            _publish(dying, q, {"n": n})
        assert len(dying.default_channel.take_many(q, 5)) == 2  # the process dies holding both
    assert broker.counts("q") == (0, 0, 2)

    time.sleep(1.1)  # the visibility timeout
    with broker.connection() as survivor:
        survivor.default_channel.qos.restore_visible(interval=1)
        assert broker.counts("q") == (2, 0, 0)
        again = [loads(item) for item in survivor.default_channel.take_many(q, 5)]
    assert [m["headers"]["redelivered"] for m in again] == [True, True]
