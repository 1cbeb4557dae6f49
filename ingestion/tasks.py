"""Scale mode's consumers: `celery -A posthog_clone worker` runs ``ingest_events`` for each message capture
published (``ingestion.broker.publish``), and ``drain`` writes the messages queued now from outside a
worker; both through the one pipeline (``ingestion.pipeline.ingest_batch``), one message as one batch.

Late acknowledgement (settings: acks_late, reject_on_worker_lost): a worker killed mid-batch leaves the
message unacknowledged, the broker redelivers it, and the insert deduplication token — derived from the
message's event uuids — makes the replayed insert a no-op in ClickHouse.

Batching: one message is one request (SDKs send up to 100 events per request), written as one insert.
ClickHouse ``async_insert`` (server side) is the lever for many small inserts against a ClickHouse
server; with chDB it does not batch anything, so it is not turned on here.

``drain`` is ``flush()`` on the broker (``manage.py ingest_flush``, tests, bench): it takes the messages
of the ingestion queue one at a time, writes each in the calling thread, and acknowledges a message only
after its write. A failure puts the message back on the queue and propagates, so nothing is lost; a
replay is deduplicated by the insert token. With chDB this must run in the process that owns the chDB
directory, like a worker.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import close_old_connections

from ingestion.broker import INGEST_TASK, queued_messages
from ingestion.envelope import CapturedEvent
from ingestion.pipeline import ingest_batch
from posthog_clone.celery import app
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger("ingestion")


def batch_token(envelopes: list[CapturedEvent]) -> str:
    digest = hashlib.sha256("\n".join(e.uuid for e in envelopes).encode()).hexdigest()[:32]
    return f"celery-{digest}"


@app.task(
    bind=True,
    name=INGEST_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=8,
)
def ingest_events(self: Any, payload: list[dict[str, Any]]) -> int:
    try:
        return ingest_payload(payload)
    except ClickHouseError as exc:  # only retryable ones reach here (ingest_batch dead-letters the rest)
        logger.warning("retryable ClickHouse error in task", extra={"error": str(exc), "retries": self.request.retries})
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    finally:
        close_old_connections()


def ingest_payload(payload: list[dict[str, Any]]) -> int:
    """One message's events through the shared pipeline, with the message's own dedup token."""
    envelopes = [CapturedEvent.from_dict(raw) for raw in payload]
    ingest_batch(envelopes, token=batch_token(envelopes))
    return len(envelopes)


def drain() -> int:
    """Write every message queued now on the ingestion queue; the number of events written."""
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
