"""What a server process does once before serving: ClickHouse migrations, in the embedded default the
in-process ingestion worker (one process owns chDB, so the worker lives here), and GC tuning."""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings

logger = logging.getLogger(__name__)


def on_server_start() -> None:
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        from posthog_clone.clickhouse.migrations import migrate

        migrate()
    worker = import_module("ingestion.worker")
    # Every server process (also scale mode, without a worker), once, before its threads start: the start-up
    # heap frozen out of collections and fewer young-generation collections (a 100-event capture request
    # allocates thousands of objects; the worker ~10 per event).
    worker.tune_gc()
    if settings.INGEST_WORKER_IN_PROCESS:
        worker.start_background_worker()
        logger.info("embedded ingestion worker started")
    if not settings.CELERY_BROKER_URL:  # scale mode runs the expiry job on Celery beat instead
        import_module("exports.worker").start_scheduler()
