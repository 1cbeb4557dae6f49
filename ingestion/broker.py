"""Scale mode's queue, the broker side: capture's ``publish`` (one Celery message per request), what such a
message holds (``message_events``), how deep the ingestion queue is, and its messages read from outside a
worker. The consumers (the Celery worker's batching consumer, the synchronous drain, the plain task) are in
``ingestion.consumer`` and ``ingestion.tasks``; this module names the task and needs none of them, so capture
publishes without loading the pipeline.

A message is a plain Celery task message for ``ingest_events`` whose one argument is the request's envelopes
``pack``-ed (compact arrays, LZ4, base64): a worker without the batching consumer still runs it as a task, and
the batching consumer reads the body without Celery's decoding of each message.
"""

from __future__ import annotations

from collections.abc import Iterator

import orjson
from django.conf import settings
from kombu.exceptions import ChannelError
from kombu.message import Message
from kombu.simple import SimpleQueue

from ingestion.envelope import CapturedEvent, pack, unpack
from posthog_clone.celery import app

INGEST_TASK = "ingestion.tasks.ingest_events"  # ``ingestion.tasks.ingest_events`` is registered under this name


def publish(events: list[CapturedEvent]) -> None:
    """Send one task message for a request's events; raises if the broker did not take it (no retry)."""
    app.send_task(INGEST_TASK, args=[pack(events)], queue=queue_name(), retry=False)


def payload_events(payload: str | list[dict]) -> list[CapturedEvent]:
    """The task's argument as envelopes: ``pack``-ed text, or the keyed objects of messages published before."""
    if isinstance(payload, str):
        return unpack(payload)
    return [CapturedEvent.from_dict(raw) for raw in payload]


def message_events(body: bytes | str) -> list[CapturedEvent]:
    """The envelopes of an ``ingest_events`` message from its raw JSON body (Celery's task protocol 2:
    ``[args, kwargs, embed]``); raises ValueError (or KeyError, TypeError) on anything else."""
    args, kwargs, _embed = orjson.loads(body)
    return payload_events(args[0] if args else kwargs["payload"])


def queue_name() -> str:
    return settings.CELERY_TASK_DEFAULT_QUEUE


def depth() -> int:
    """Messages waiting on the ingestion queue (not those a worker holds unacknowledged)."""
    with app.connection_for_read() as conn:
        try:
            return conn.default_channel.queue_declare(queue_name(), passive=True).message_count
        except ChannelError:  # never declared; on Redis also an empty queue (its list does not exist)
            return 0


def queued_messages() -> Iterator[Message]:
    """The messages on the ingestion queue now, one at a time and unacknowledged: the caller acks each."""
    with app.connection_for_read() as conn, SimpleQueue(conn, queue_name(), no_ack=False) as queue:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return
            yield message
