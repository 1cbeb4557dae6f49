"""Scale mode's ingestion consumer: in each `celery worker` process that consumes the ingestion queue, one
thread takes that queue's messages in batches and writes each batch as one ClickHouse insert
(``ingestion.batching``); Celery's own consumer keeps the other queues (exports, cohorts).

``IngestionBatching`` is the worker bootstep (registered by ``ingestion.tasks``): when the worker was asked
to consume the ingestion queue it takes that queue away from Celery's task consumer and runs an
``IngestionConsumer`` beside it, started after the pool and stopped before it (a warm shutdown finishes the
batch under way; what was taken and not written goes back to the queue, or comes back after the visibility
timeout if the worker is killed). ``drain`` is the same batching for `manage.py ingest_flush`, until the queue
is empty.

Sources, by broker:
- Redis (``posthog_clone.redis_transport``): ``RedisSource`` takes up to a hundred messages in one script call,
  each recorded as unacknowledged in the same atomic step, and acknowledges a batch in one round trip; it also
  sweeps messages of dead workers back onto the queue after the visibility timeout.
- any other kombu transport (RabbitMQ over amqp://, memory://): ``KombuSource`` gets and acknowledges messages
  one by one (a round trip per message taken), with the same batching and settling.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from celery import bootsteps
from django.db import close_old_connections
from kombu import Connection

from ingestion.batching import BatchWriter, Delivery, Limits, Source, collect, delivery
from ingestion.broker import queue_name
from posthog_clone import redis_transport
from posthog_clone.celery import app
from posthog_clone.clickhouse.errors import ClickHouseError
from posthog_clone.server.startup import tune_gc

logger = logging.getLogger("ingestion")
SWEEP_INTERVAL = 5.0  # seconds between looks for messages of dead workers (restored once past the timeout)


class RedisSource:
    """The ingestion queue on Redis, taken in bulk (``Channel.take_many``), settled in one call a batch."""

    def __init__(self, channel: redis_transport.Channel, queue: str):
        self.channel, self.queue = channel, queue

    def take(self, limit: int) -> list[Delivery]:
        return [self._read(item) for item in self.channel.take_many(self.queue, limit)]

    def _read(self, item: bytes) -> Delivery:
        try:
            message = orjson.loads(item)
            props = message["properties"]
            body = message["body"]
            body = base64.b64decode(body) if props.get("body_encoding") == "base64" else str(body).encode()
            headers = message.get("headers") or {}
            again = headers.get("redelivered") or (props.get("delivery_info") or {}).get("redelivered")
            tag = props["delivery_tag"]
        except Exception as exc:  # not a kombu message: the take recorded nothing, it is dropped
            return Delivery((None, item), [], error=f"{type(exc).__name__}: {exc}")
        return delivery((tag if isinstance(tag, str) else None, item), body, headers, redelivered=bool(again))

    def ack(self, deliveries: list[Delivery]) -> None:
        self.channel.ack_many([d.handle[0] for d in deliveries if d.handle[0]])

    def requeue(self, deliveries: list[Delivery], *, maybe_written: bool) -> None:
        taken = [(tag, _redelivered(item) if maybe_written else item) for tag, item in (d.handle for d in deliveries)]
        self.channel.requeue_many(self.queue, [(tag, item) for tag, item in taken if tag])

    def sweep(self) -> None:
        """Messages of dead workers past the visibility timeout back onto their queues (kombu's restore)."""
        self.channel.qos.restore_visible(num=1000, interval=1)


def _redelivered(item: bytes) -> bytes:
    """A taken message marked as delivered before, as kombu marks the messages it restores."""
    message = orjson.loads(item)
    message.setdefault("headers", {})["redelivered"] = True
    message["properties"].setdefault("delivery_info", {})["redelivered"] = True
    return orjson.dumps(message)


class KombuSource:
    """The ingestion queue on any other broker: one ``basic_get`` a message, acks and requeues one by one."""

    def __init__(self, channel: Any, queue: str):
        self.queue = app.amqp.queues[queue](channel)  # Celery's own declaration of the queue
        self.queue.declare()

    def take(self, limit: int) -> list[Delivery]:
        taken: list[Delivery] = []
        while len(taken) < limit:
            message = self.queue.get(no_ack=False)
            if message is None:
                break
            headers = message.headers or {}
            again = headers.get("redelivered") or message.delivery_info.get("redelivered")
            taken.append(delivery(message, message.body, headers, redelivered=bool(again)))
        return taken

    def ack(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            d.handle.ack()

    def requeue(self, deliveries: list[Delivery], *, maybe_written: bool) -> None:
        for d in reversed(deliveries):  # the broker marks them redelivered itself
            d.handle.requeue()

    def sweep(self) -> None:
        """The broker redelivers a dead consumer's messages itself."""


def open_source(conn: Connection, queue: str) -> RedisSource | KombuSource:
    channel = conn.default_channel
    if isinstance(channel, redis_transport.Channel):
        return RedisSource(channel, queue)
    return KombuSource(channel, queue)


def drain(limits: Limits | None = None) -> int:
    """Write every message queued now on the ingestion queue, in batches, each message acknowledged after the
    insert holding it; on an error, what was not written is back on the queue and the error propagates. The
    events of the messages acknowledged."""
    limits = limits or Limits.from_settings()
    with app.connection_for_read() as conn, ThreadPoolExecutor(1, thread_name_prefix="ingestion-insert") as pool:
        source = open_source(conn, queue_name())
        writer = BatchWriter(source, executor=pool)
        try:
            while batch := collect(source, limits, wait=False, writer=writer):
                writer.write(batch)
        except BaseException:
            writer.settle_after_error()
            raise
        writer.settle()
    return writer.events


class IngestionConsumer:
    """The batching thread of a worker process: its own broker connection and insert thread; reconnects and
    backs off on errors (what it held is back on the queue, or comes back after the visibility timeout)."""

    def __init__(self, queue: str, limits: Limits):
        self.queue, self.limits = queue, limits
        self.stopping = threading.Event()
        self.events = 0  # of the messages acknowledged since the start
        self._thread: threading.Thread | None = None

    def _acked(self, events: int) -> None:
        self.events += events

    def start(self) -> None:
        self.stopping.clear()
        self._thread = threading.Thread(target=self.run, name="ingestion-batching", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60) -> None:
        """Start no other batch; wait for the one being written."""
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def terminate(self) -> None:
        """A cold shutdown: a few seconds for the batch under way (what is not acknowledged comes back)."""
        self.stop(timeout=5)

    def run(self) -> None:
        backoff = 0.2
        with ThreadPoolExecutor(1, thread_name_prefix="ingestion-insert") as pool:
            while not self.stopping.is_set():
                try:
                    with app.connection_for_read() as conn:
                        self._consume(open_source(conn, self.queue), pool)
                    backoff = 0.2
                except Exception as exc:
                    if isinstance(exc, ClickHouseError):
                        logger.warning("ingestion batch failed, will retry", extra={"error": str(exc)})
                    else:
                        logger.exception("ingestion consumer error, will retry")
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
                finally:
                    close_old_connections()

    def _consume(self, source: RedisSource | KombuSource, pool: ThreadPoolExecutor) -> None:
        writer = BatchWriter(source, executor=pool, on_acked=self._acked)
        swept = 0.0
        try:
            while not self.stopping.is_set():
                if time.monotonic() - swept >= SWEEP_INTERVAL:
                    source.sweep()
                    swept = time.monotonic()
                writer.write(collect(source, self.limits, wait=True, stopping=self.stopping, writer=writer))
                close_old_connections()
        except BaseException:
            writer.settle_after_error()
            raise
        writer.settle()


class IngestionBatching(bootsteps.StartStopStep):
    """A `celery worker` consuming the ingestion queue does so through an ``IngestionConsumer``."""

    label = "Ingestion batching"
    requires = ("celery.worker.components:Pool",)

    def include_if(self, worker: Any) -> bool:
        return queue_name() in worker.app.amqp.queues.consume_from

    def create(self, worker: Any) -> IngestionConsumer:
        worker.app.amqp.queues.deselect([queue_name()])  # Celery's task consumer leaves it to the batching
        limits = Limits.from_settings()
        logger.info("ingestion queue consumed in batches", extra={"queue": queue_name(), "events": limits.events,
                    "messages": limits.messages, "interval_ms": round(limits.interval * 1000)})  # fmt: skip
        return IngestionConsumer(queue_name(), limits)

    def start(self, worker: Any) -> None:
        tune_gc()  # the start-up heap out of collections, fewer collections: as every server process
        super().start(worker)


__all__ = ["IngestionBatching", "IngestionConsumer", "KombuSource", "RedisSource", "Source", "drain"]
