"""What a server process does once before serving, and before it exits.

Three roles: the engine process of the embedded default (`manage.py clickhouse_engine`: it owns chDB, so
the ClickHouse migrations and the apps' background workers run there); a web process of `serve` on chDB
(only GC tuning: it reaches chDB through the engine); and a web process with a ClickHouse server
(migrations, and the background workers that are enabled there). The workers are the ones apps register in
``posthog_clone.registry`` (the ingestion worker, the export scheduler, …).
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from posthog_clone import METRICS_DIR_ENV, metrics_process_id, registry, use_metrics_dir
from posthog_clone.clickhouse.migrations import migrate

# Fewer collections: a 100-event capture request allocates thousands of objects and the ingestion worker ~10
# per event; at Python's default first threshold (700) the collector ran hundreds of times a batch and its
# older generations walked the whole app: measured 40% of a batch's CPU.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Every server process, once, before its threads start: the start-up heap frozen out of collections
    and fewer collections."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def on_engine_start() -> None:
    """The process owning chDB: migrations, then the background workers."""
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        migrate()
    tune_gc()
    registry.start_background_workers()


def on_engine_stop(timeout: float = 30) -> None:
    """Between two batches: start no new work, finish what was started (a batch cut short is replayed with
    the same token anyway, but needlessly)."""
    registry.stop_background_workers(timeout)


def on_server_start() -> None:
    """A web process (granian or gunicorn)."""
    if settings.CLICKHOUSE_ENGINE_ADDRESS:  # the engine process migrates and runs the workers
        tune_gc()
        return
    if settings.CLICKHOUSE_MIGRATE_ON_START:
        migrate()
    tune_gc()
    registry.start_background_workers()


def use_multiprocess_metrics(instance: str) -> None:
    """Before `serve` starts any process: each process it starts (web processes, the engine) writes its
    metrics under one directory, and a scrape of any web process reads them all (posthog_clone/metrics.py).

    An operator's PROMETHEUS_MULTIPROC_DIR is used as it is (the compose file shares one between the web and
    worker containers); otherwise it is VAR_DIR/metrics/<instance> (serve's port: two servers sharing a
    VAR_DIR keep apart), emptied at every start (an earlier run's counters are not this run's).
    """
    if os.environ.get(METRICS_DIR_ENV):  # posthog_clone/__init__.py chose it before any metric was made
        Path(os.environ[METRICS_DIR_ENV]).mkdir(parents=True, exist_ok=True)
        return
    if "prometheus_client.values" in sys.modules:  # metrics made before now would stay in this process
        raise ImproperlyConfigured("prometheus_client was imported before serve chose the metrics directory")
    path = Path(settings.VAR_DIR) / "metrics" / instance
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[METRICS_DIR_ENV] = str(path)
    use_metrics_dir()


def on_web_process_exit(pid: int) -> None:
    """In serve's master when a web process is gone: its live gauges stop counting."""
    from prometheus_client import multiprocess  # not at import: serve picks the metrics directory first

    multiprocess.mark_process_dead(metrics_process_id(pid))
