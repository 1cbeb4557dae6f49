"""What a server process does once before serving.

Three roles: the engine process of the embedded default (`manage.py clickhouse_engine`: it owns chDB,
so ClickHouse migrations, the ingestion worker and the export scheduler live there); a web process of
`serve` on chDB (only GC tuning: it reaches chDB through the engine); and a web process with a
ClickHouse server (migrations, and the in-process worker when INGEST_WORKER_IN_PROCESS asks for it).
"""

from __future__ import annotations

import logging
from importlib import import_module

from django.conf import settings

logger = logging.getLogger(__name__)


def _tune_gc() -> None:
    # Every server process, once, before its threads start: the start-up heap frozen out of collections and
    # fewer young-generation collections (a 100-event capture request allocates thousands of objects; the
    # worker ~10 per event).
    import_module("ingestion.worker").tune_gc()


def _background_work() -> None:
    if settings.INGEST_WORKER_IN_PROCESS:
        import_module("ingestion.worker").start_background_worker()
        logger.info("embedded ingestion worker started")
    if not settings.CELERY_BROKER_URL:  # scale mode runs the expiry job on Celery beat instead
        import_module("exports.worker").start_scheduler()


def on_engine_start() -> None:
    """The process owning chDB: migrations, then the worker and the scheduler."""
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        from posthog_clone.clickhouse.migrations import migrate

        migrate()
    _tune_gc()
    _background_work()


def on_server_start() -> None:
    """A gunicorn web process."""
    if settings.CLICKHOUSE_ENGINE_ADDRESS:  # the engine process migrates, ingests and schedules
        _tune_gc()
        return
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        from posthog_clone.clickhouse.migrations import migrate

        migrate()
    _tune_gc()
    _background_work()
