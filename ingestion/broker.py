"""Scale mode's queue, the broker side: capture's ``publish`` (one Celery message per request), how deep
the ingestion queue is, and its messages read from outside a worker. The consumers (the Celery task and the
synchronous ``drain``) are in ``ingestion.tasks``; this module names the task and needs none of them, so
capture publishes without loading the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from kombu.exceptions import ChannelError
from kombu.message import Message
from kombu.simple import SimpleQueue

from ingestion.envelope import CapturedEvent
from posthog_clone.celery import app

INGEST_TASK = "ingestion.tasks.ingest_events"  # ``ingestion.tasks.ingest_events`` is registered under this name


def publish(events: list[CapturedEvent]) -> None:
    """Send one task message for a request's events; raises if the broker did not take it (no retry)."""
    app.send_task(INGEST_TASK, args=[[e.to_dict() for e in events]], retry=False)


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
