"""Scale mode's ingestion batching, whatever the broker: many messages (capture requests) per ClickHouse insert.

``collect`` takes messages from a ``Source`` until the batch holds ``Limits.events`` events or
``Limits.messages`` messages, or ``Limits.interval`` seconds have passed since its first message (a backlog
fills batches by count; a trickle is written within the interval). ``BatchWriter`` writes a batch through the
shared pipeline (``process_batch``, ``Insert``) as ONE insert and acknowledges each of its messages only after
that insert succeeded:

- the insert's deduplication token derives from the batch's event uuids, so a batch written again exactly as
  it was is a no-op in ClickHouse;
- a message delivered again (its worker died before acknowledging it, or an insert failed) may be in
  ClickHouse already, perhaps in a batch made of other messages: for a batch holding such messages, the
  events whose uuid ``events`` already has are dropped first (one query, only then), persons included, and
  the rest is written under a token of its own (``pipeline.replay_token``: a chDB attempt killed mid-insert
  can leave its token logged without its rows);
- ClickHouse refusing a batch for good: row by row, with dead letters for the rows it never takes (the
  pipeline's rule, as in the embedded worker); a retryable failure puts the batch's messages back on the
  queue, marked as delivered again, and propagates;
- while the insert of one batch runs on the insert thread (ClickHouse holds no GIL), the next batch is
  collected and processed; its persons are applied before the first insert is known to have landed. If that
  insert fails, both batches go back and are written again, their person updates applied again in order
  (as after a crash), converging on the same persons, as in the embedded worker.

Messages of other tasks found on the ingestion queue run at once in the consuming thread, as the old
per-message drain ran them; a message that cannot be read is rejected with an error log, as Celery does.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ingestion.broker import INGEST_TASK, message_events
from ingestion.envelope import CapturedEvent
from ingestion.pipeline import Insert, Processed, process_batch, replay_token, without_written
from posthog_clone.celery import app

logger = logging.getLogger("ingestion")
TAKE_CHUNK = 100  # messages per take: one Redis script call holds the server for about a millisecond
FIRST_TAKE = 1  # … and the first of a batch, before the size of a message is known
IDLE_POLL = 0.05  # seconds between looks at an empty queue before a batch has started
FILL_POLL = 0.01  # … once a batch has started and waits for more within its interval
IDLE_RETURN = 1.0  # an empty ``collect`` returns after this long, so its caller can do its periodic work


@dataclass(slots=True)
class Delivery:
    """One message taken from the broker, unacknowledged until its source acks or requeues it."""

    handle: Any  # the source's own (a Redis delivery tag and item, a kombu Message)
    events: list[CapturedEvent]
    redelivered: bool = False  # the broker delivered it before: its events may be in ClickHouse already
    task: str = INGEST_TASK  # another task's message on the ingestion queue runs as that task
    body: bytes = b""  # that task's body
    error: str = ""  # unreadable: rejected


def delivery(handle: Any, body: bytes, headers: dict[str, Any], *, redelivered: bool) -> Delivery:
    """A message as its source read it: an ingestion message's envelopes, or what else it is."""
    name = headers.get("task")
    if name != INGEST_TASK:
        return Delivery(handle, [], redelivered, task=str(name), body=body)
    try:
        return Delivery(handle, message_events(body), redelivered)
    except Exception as exc:  # a message that cannot be read never stops the consumer
        return Delivery(handle, [], redelivered, error=f"{type(exc).__name__}: {exc}")


class Source(Protocol):
    """A broker queue seen by the batching: take without waiting, then settle what was taken."""

    def take(self, limit: int) -> list[Delivery]: ...  # what is there now, at most ``limit`` messages
    def ack(self, deliveries: list[Delivery]) -> None: ...
    def requeue(self, deliveries: list[Delivery], *, maybe_written: bool) -> None: ...  # back, delivered again


@dataclass(frozen=True, slots=True)
class Limits:
    events: int  # INGEST_BATCH_SIZE
    messages: int  # INGEST_BATCH_MESSAGES
    interval: float  # seconds, INGEST_FLUSH_INTERVAL_MS

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(settings.INGEST_BATCH_SIZE, settings.INGEST_BATCH_MESSAGES, settings.INGEST_FLUSH_INTERVAL_MS / 1000)


def collect(
    source: Source,
    limits: Limits,
    *,
    wait: bool,
    stopping: threading.Event | None = None,
    writer: BatchWriter | None = None,
) -> list[Delivery]:
    """One batch's messages. ``wait``: wait for the first message (at most ``IDLE_RETURN`` seconds), then
    for more until a limit or the interval; else only what is queued now. Meanwhile ``writer`` settles its
    insert under way as soon as it is done, and waits for it whenever the queue is found empty: a message is
    held no longer than it takes to collect, process and insert its batch."""
    taken: list[Delivery] = []
    events = 0
    started = time.monotonic()
    deadline: float | None = None
    while len(taken) < limits.messages and events < limits.events:
        room = min(limits.messages - len(taken), TAKE_CHUNK if taken else FIRST_TAKE)
        if taken:  # by the messages so far, about as many as the events bound leaves room for
            room = min(room, max(1, (limits.events - events) * len(taken) // max(events, 1)))
        got = source.take(room)
        taken += got
        events += sum(len(d.events) for d in got)
        idle = not got and wait and not (stopping is not None and stopping.is_set())
        if writer is not None:
            try:
                writer.settle(block=idle)
            except BaseException:
                source.requeue(taken, maybe_written=False)
                raise
        if got:
            if deadline is None:
                deadline = time.monotonic() + limits.interval
            continue
        if not idle:
            break
        now = time.monotonic()
        if deadline is None:
            if now - started >= IDLE_RETURN:
                break
            pause = IDLE_POLL
        elif now >= deadline:
            break
        else:
            pause = min(FILL_POLL, deadline - now)
        if stopping is not None:
            stopping.wait(pause)
        else:
            time.sleep(pause)
    return taken


def batch_token(envelopes: list[CapturedEvent]) -> str:
    digest = hashlib.sha256("\n".join(e.uuid for e in envelopes).encode()).hexdigest()[:32]
    return f"celery-{digest}"


@dataclass(slots=True)
class _Writing:
    deliveries: list[Delivery]
    events: int
    insert: Insert


class BatchWriter:
    """Writes collected batches, the insert of one beside the processing of the next (``executor``: the
    insert thread), and settles each batch's messages after its insert. ``events``: the events of the
    messages acknowledged so far (``on_acked`` is told each time)."""

    def __init__(self, source: Source, *, executor: Executor, on_acked: Callable[[int], None] | None = None):
        self.source, self.executor, self.on_acked = source, executor, on_acked
        self.events = 0
        self._writing: _Writing | None = None

    def _acked(self, batch: list[Delivery], events: int) -> None:
        self.source.ack(batch)
        self.events += events
        if self.on_acked is not None:
            self.on_acked(events)

    def write(self, deliveries: list[Delivery]) -> None:
        """Process a batch, settle the one before it, start this one's insert. On an error, every batch not
        acknowledged is back on the queue and the error propagates."""
        batch = [d for d in deliveries if d.task == INGEST_TASK and not d.error]
        for other in (d for d in deliveries if d.task != INGEST_TASK or d.error):
            self._run_other(other)
        if not batch:
            return
        try:
            envelopes = self._not_written(batch)
            processed = process_batch(envelopes) if envelopes else None
        except BaseException:
            self.settle_after_error()
            self.source.requeue(batch, maybe_written=False)
            raise
        try:
            self.settle()
        except BaseException:
            self.source.requeue(batch, maybe_written=False)
            raise
        events = sum(len(d.events) for d in batch)
        if processed is None:  # every event was written before: nothing to insert
            self._acked(batch, events)
            return
        token = batch_token(envelopes)
        if any(d.redelivered for d in batch):  # an earlier attempt may have left this token without its rows
            token = replay_token(token)
        self._start(batch, events, processed, token)

    def _start(self, batch: list[Delivery], events: int, processed: Processed, token: str) -> None:
        try:
            insert = Insert(processed, token=token, executor=self.executor)
        except BaseException:
            self.source.requeue(batch, maybe_written=False)
            raise
        self._writing = _Writing(batch, events, insert)

    def settle(self, *, block: bool = True) -> None:
        """Wait for the insert under way (``block=False``: only if it is done), then acknowledge its messages;
        if it failed they go back to the queue (marked as delivered again: it may have landed) and the error
        propagates."""
        writing = self._writing
        if writing is None or not (block or writing.insert.done()):
            return
        self._writing = None
        try:
            writing.insert.wait()
        except BaseException:
            self.source.requeue(writing.deliveries, maybe_written=True)
            raise
        self._acked(writing.deliveries, writing.events)

    def settle_after_error(self) -> None:
        """``settle`` when another error is propagating already: the first error wins."""
        try:
            self.settle()
        except Exception:
            logger.exception("the batch being inserted failed too; its messages are back on the queue")

    def _not_written(self, batch: list[Delivery]) -> list[CapturedEvent]:
        envelopes = [e for d in batch for e in d.events]
        again = [e for d in batch if d.redelivered for e in d.events]
        if not again:
            return envelopes
        self.settle()  # the insert under way may hold them (a sweep gave back messages held too long)
        return without_written(envelopes, looked_up=again)

    def _run_other(self, other: Delivery) -> None:
        task = app.tasks.get(other.task)
        if other.error or task is None:
            logger.error("unreadable message on the ingestion queue, rejected", extra={"task": other.task,
                         "error": other.error})  # fmt: skip
        else:
            try:
                args, kwargs, _embed = orjson.loads(other.body)
                task(*args, **kwargs)
            except Exception:  # as a worker acknowledges a failed task (late acknowledgement)
                logger.exception("task on the ingestion queue failed", extra={"task": other.task})
        self.source.ack([other])
