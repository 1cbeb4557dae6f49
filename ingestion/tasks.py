"""Scale mode: capture publishes one Celery message per request (Redis broker); `celery -A posthog_clone
worker` runs ``ingest_events`` through the same pipeline as the embedded worker.

Late acknowledgement (settings: acks_late, reject_on_worker_lost): a worker killed mid-batch leaves the
message unacknowledged, the broker redelivers it, and the insert deduplication token — derived from the
message's event uuids — makes the replayed insert a no-op in ClickHouse.

Batching: one message is one request (SDKs send up to 100 events per request), written as one insert.
ClickHouse ``async_insert`` (server side) is the lever for many small inserts against a ClickHouse
server; with chDB it does not batch anything, so it is not turned on here.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.db import close_old_connections

from ingestion.envelope import CapturedEvent
from ingestion.pipeline import ingest_batch
from posthog_clone.celery import app
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger("ingestion")


def publish(events: list[CapturedEvent]) -> None:
    """Send one task message for a request's events; raises if the broker did not take it (no retry)."""
    ingest_events.apply_async(args=[[e.to_dict() for e in events]], retry=False)


def batch_token(envelopes: list[CapturedEvent]) -> str:
    digest = hashlib.sha256("\n".join(e.uuid for e in envelopes).encode()).hexdigest()[:32]
    return f"celery-{digest}"


@app.task(
    bind=True,
    name="ingestion.tasks.ingest_events",
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
