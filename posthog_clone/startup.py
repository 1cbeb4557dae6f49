"""What a server process does once before serving: ClickHouse migrations and, in the embedded
default, the in-process ingestion worker (one process owns chDB, so the worker lives here)."""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings

logger = logging.getLogger(__name__)


def on_server_start() -> None:
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        from posthog_clone.clickhouse.migrations import migrate

        migrate()
    if settings.INGEST_WORKER_IN_PROCESS:
        worker = import_module("ingestion.worker")
        worker.start_background_worker()
        logger.info("embedded ingestion worker started")
    if not settings.CELERY_BROKER_URL:  # scale mode runs the expiry job on Celery beat instead
        import_module("exports.worker").start_scheduler()
