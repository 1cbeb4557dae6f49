"""Scale mode's queue from outside a worker: how deep it is, and a synchronous drain of what it holds now.

``drain`` is ``flush()`` on the broker (``manage.py ingest_flush``, tests, bench): it takes the messages
of the ingestion queue one at a time, writes each through the same path as ``ingestion.tasks`` in the
calling thread, and acknowledges a message only after its write. A failure puts the message back on the
queue and propagates, so nothing is lost; a replay is deduplicated by the insert token. With chDB this
must run in the process that owns the chDB directory, like a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.conf import settings
from kombu.exceptions import ChannelError
from kombu.message import Message
from kombu.simple import SimpleQueue

from ingestion.tasks import ingest_events, ingest_payload
from posthog_clone.celery import app

logger = logging.getLogger("ingestion")


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


def drain() -> int:
    """Write every message queued now; the number of events written."""
    events = 0
    for message in queued_messages():
        task = app.tasks.get(message.headers.get("task"))
        if task is None:  # as a worker does with a task it does not know
            logger.error("unregistered task on the ingestion queue, rejected", extra={"task": message.headers})
            message.reject(requeue=False)
            continue
        args, kwargs, _embed = message.decode()  # Celery task protocol 2
        try:
            if task.name == ingest_events.name:  # in this thread, without the task's connection clean-up
                events += ingest_payload(*args, **kwargs)
            else:
                task(*args, **kwargs)
        except Exception:
            message.requeue()
            logger.exception("broker drain failed; the message is back on the queue")
            raise
        message.ack()
    return events
