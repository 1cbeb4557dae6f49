"""Scale mode: capture publishes one Celery message per request (Redis broker); `celery -A posthog_clone
worker` runs ``ingest_events`` through the same pipeline as the embedded worker.

Batching (measured by ``python -m bench.celery_batching``: one insert per message ran at 1/5 of the rate
of 50 messages per insert; ``async_insert`` with wait brought 1.8x, not 5x): ``ingest_events`` is a
celery-batches task, so a worker buffers messages and writes them as one batch, at
ceil(INGEST_BATCH_SIZE / 100) messages or INGEST_FLUSH_INTERVAL_MS, whichever comes first.

Late acknowledgement: the buffered messages are acknowledged only after the batch returned, i.e. after
their events are in ClickHouse (or re-queued for a retry, or dead-lettered). A worker killed mid-batch
leaves them unacknowledged and the broker redelivers them, possibly grouped differently, so the insert
token alone cannot deduplicate them: a batch holding a redelivered or retried message first drops the
uuids ClickHouse already has. The batch never raises (celery-batches acknowledges a failed batch):
a retryable failure re-publishes each message with a backoff, and a message out of retries becomes a
dead letter.
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from celery_batches import Batches, SimpleRequest
from django.conf import settings
from django.db import close_old_connections

from ingestion.envelope import CapturedEvent
from ingestion.pipeline import dead_letter, ingest_batch
from posthog_clone.celery import app
from posthog_clone.clickhouse import get_client, table

logger = logging.getLogger("ingestion")
MAX_RETRIES = 8
MESSAGES_PER_BATCH = math.ceil(settings.INGEST_BATCH_SIZE / 100)  # SDK requests carry up to 100 events


def publish(events: list[CapturedEvent]) -> None:
    """Send one task message for a request's events; raises if the broker did not take it (no retry)."""
    ingest_events.apply_async(args=[[e.to_dict() for e in events]], retry=False)


def batch_token(envelopes: list[CapturedEvent]) -> str:
    digest = hashlib.sha256("\n".join(e.uuid for e in envelopes).encode()).hexdigest()[:32]
    return f"celery-{digest}"


def _already_stored(envelopes: list[CapturedEvent]) -> set[str]:
    res = get_client().query(
        f"SELECT DISTINCT toString(uuid) FROM {table('events')} "
        "WHERE team_id IN {teams:Array(Int64)} AND toString(uuid) IN {uuids:Array(String)}",
        {"teams": sorted({e.team_id for e in envelopes}), "uuids": [e.uuid for e in envelopes]},
    )
    return {row[0] for row in res.rows}


def _is_replay(request: SimpleRequest) -> bool:
    return bool((request.delivery_info or {}).get("redelivered")) or request.kwargs.get("retries", 0) > 0


def write_batch(requests: list[SimpleRequest]) -> int:
    """Write the events of ``requests`` as one batch; the number of events written."""
    envelopes = [CapturedEvent.from_dict(raw) for request in requests for raw in request.args[0]]
    if any(_is_replay(r) for r in requests):
        stored = _already_stored(envelopes)
        envelopes = [e for e in envelopes if e.uuid not in stored]
    if envelopes:
        ingest_batch(envelopes, token=batch_token(envelopes))
    return len(envelopes)


def _retry_or_dead_letter(requests: list[SimpleRequest], exc: Exception) -> None:
    for request in requests:
        retries = request.kwargs.get("retries", 0)
        if retries >= MAX_RETRIES:
            dead_letter([CapturedEvent.from_dict(raw) for raw in request.args[0]], f"out of retries: {exc}")
            continue
        ingest_events.apply_async(
            args=request.args, kwargs={"retries": retries + 1}, countdown=min(2**retries, 60), retry=True
        )


@app.task(
    base=Batches,
    name="ingestion.tasks.ingest_events",
    acks_late=True,
    reject_on_worker_lost=True,
    flush_every=MESSAGES_PER_BATCH,
    flush_interval=settings.INGEST_FLUSH_INTERVAL_MS / 1000,
)
def ingest_events(requests: list[SimpleRequest]) -> int:
    try:
        return write_batch(requests)
    except Exception as exc:  # noqa: BLE001 - a raising batch would be acknowledged and lost
        logger.warning("ingestion batch failed, re-queued", extra={"error": str(exc), "messages": len(requests)})
        _retry_or_dead_letter(requests, exc)
        return 0
    finally:
        close_old_connections()


def _as_request(message: Any) -> SimpleRequest:
    args, kwargs, _embed = message.payload
    return SimpleRequest(
        id=message.headers.get("id", ""), name=message.headers.get("task", ""), args=tuple(args), kwargs=kwargs,
        delivery_info=message.delivery_info, hostname="flush", ignore_result=True, reply_to=None,
        correlation_id=None, request_dict=message.headers,
    )  # fmt: skip


def drain() -> int:
    """Write everything queued on the broker now, in this process and thread, the way a worker does:
    batches of MESSAGES_PER_BATCH through ``ingest_events``, each message acknowledged after its batch
    returned (`manage.py ingest_flush`, tests and bench in scale mode). The number of events written."""
    total = 0
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(settings.CELERY_TASK_DEFAULT_QUEUE)
        try:
            while True:
                messages = []
                while len(messages) < MESSAGES_PER_BATCH:
                    try:
                        messages.append(queue.get(block=False))
                    except queue.Empty:
                        break
                if not messages:
                    return total
                total += ingest_events([_as_request(m) for m in messages])
                for message in messages:
                    message.ack()
        finally:
            queue.close()
