"""Scale mode's Celery side of ingestion: the ``ingest_events`` task capture's messages name
(``ingestion.broker.publish``), the worker bootstep that batches them, and ``drain``.

A `celery -A posthog_clone worker` consuming the ingestion queue does not run ``ingest_events`` once per
message: the ``IngestionBatching`` bootstep registered here takes the queue from Celery's task consumer and
writes many messages per ClickHouse insert, acknowledging each message after the insert holding it
(``ingestion.consumer``, ``ingestion.batching``). The task stays the message's name and runs a message on its
own wherever the bootstep does not (one message, one insert, with the message's own dedup token); late
acknowledgement (settings: acks_late, reject_on_worker_lost) makes a killed worker's message come back, and
then (or on a retry) the events ClickHouse holds are dropped and the rest written under a new token.

``drain`` is ``flush()`` on the broker (``manage.py ingest_flush``, tests, bench): the batching, in the
calling process, until the queue is empty. With chDB this must run in the process that owns the chDB
directory, like a worker.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import close_old_connections

from ingestion import consumer
from ingestion.batching import batch_token
from ingestion.broker import INGEST_TASK, payload_events
from ingestion.pipeline import ingest_batch, unwritten
from posthog_clone.celery import app
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger("ingestion")
app.steps["worker"].add(consumer.IngestionBatching)


@app.task(
    bind=True,
    name=INGEST_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    # no limit: a task out of retries is acknowledged and its events lost, so a ClickHouse outage longer than
    # the retries (8 of them were ~4 minutes) lost data; the countdown stays capped at 60 s
    max_retries=None,
)
def ingest_events(self: Any, payload: str | list[dict[str, Any]]) -> int:
    try:
        return ingest_payload(payload, maybe_written=maybe_written(self.request))
    except ClickHouseError as exc:  # only retryable ones reach here (ingest_batch dead-letters the rest)
        logger.warning("retryable ClickHouse error in task", extra={"error": str(exc), "retries": self.request.retries})
        raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
    finally:
        close_old_connections()


def maybe_written(request: Any) -> bool:
    """Whether an earlier attempt of this message may have reached ClickHouse: the broker delivered it before
    (RabbitMQ's flag, or the mark kombu's Redis restore puts in its headers and delivery info), or it is a retry."""
    info = getattr(request, "delivery_info", None) or {}
    headers = getattr(request, "headers", None) or {}
    again = info.get("redelivered") or headers.get("redelivered") or getattr(request, "redelivered", None)
    return bool(again or getattr(request, "retries", 0))


def ingest_payload(payload: str | list[dict[str, Any]], *, maybe_written: bool = False) -> int:
    """One message's events through the shared pipeline, with the message's own dedup token. A message an
    earlier attempt may have written (``maybe_written``) loses the events ``events`` holds and is written under
    a new token, as the batching consumer does (``pipeline.replay_token``: a crash can leave the first token
    spent without its rows)."""
    envelopes = payload_events(payload)
    to_write, token = unwritten(envelopes, batch_token(envelopes), maybe_written=maybe_written)
    if to_write:
        ingest_batch(to_write, token=token)
    return len(envelopes)


def drain() -> int:
    """Write every message queued now on the ingestion queue; the events of the messages written."""
    return consumer.drain()
