"""What ingestion tells the plumbing about itself: the queue's readiness (/_readyz) and its depth
(/_metrics), registered from ``IngestionConfig.ready()``."""

from __future__ import annotations

from django.conf import settings
from kombu import Connection

from ingestion import broker
from ingestion.metrics import QUEUE_DEPTH, QUEUE_MESSAGES
from ingestion.queue import get_spool


def queue_ready() -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"ok": True, "kind": "spool", "depth": get_spool().depth()}
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "kind": "celery"}


def queue_depth_refresh() -> None:
    if settings.INGEST_QUEUE == "spool":
        QUEUE_DEPTH.set(get_spool().depth())
        return
    try:
        QUEUE_MESSAGES.set(broker.depth())
    except Exception:  # a broker that is down: no number rather than a stale one (/_readyz says why)
        QUEUE_MESSAGES.set(float("nan"))
        raise
