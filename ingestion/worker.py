"""The embedded ingestion worker: a daemon thread in the server process draining the spool in batches
(at INGEST_BATCH_SIZE events or INGEST_FLUSH_INTERVAL_MS, whichever comes first)."""

from __future__ import annotations

import gc
import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from ingestion.pipeline import ingest_batch
from ingestion.queue import get_spool
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger("ingestion")
_thread: threading.Thread | None = None
_start_lock = threading.Lock()
_drain_lock = threading.Lock()


def drain_once(max_events: int | None = None) -> int:
    """Write one batch (the crash-left in-flight batch first); the number of events handled."""
    spool = get_spool()
    with _drain_lock:
        batch = spool.next_batch(max_events or settings.INGEST_BATCH_SIZE)
        if batch is None:
            return 0
        ingest_batch(batch.events, token=batch.token)
        spool.complete(batch)
        return len(batch.events)


def flush() -> int:
    """Drain everything queued now, synchronously (tests, bench, `manage.py ingest_flush`): the spool, or
    in scale mode the broker's ingestion queue (run it where ClickHouse is writable: with chDB, the owner)."""
    if settings.INGEST_QUEUE == "celery":
        from ingestion.broker import drain

        return drain()
    total = 0
    while n := drain_once():
        total += n
    return total


def _loop() -> None:
    spool = get_spool()
    interval = settings.INGEST_FLUSH_INTERVAL_MS / 1000
    backoff = 0.2
    while True:
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and spool.depth() < settings.INGEST_BATCH_SIZE:
            time.sleep(min(0.05, interval))
        try:
            while drain_once():
                pass
            backoff = 0.2
        except ClickHouseError as exc:
            logger.warning("ingestion batch failed, will retry", extra={"error": str(exc), "backoff_s": backoff})
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
        except Exception:
            logger.exception("ingestion worker error, will retry")
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
        finally:
            close_old_connections()


# A batch allocates ~10 objects per event; at Python's default first threshold (700) the collector runs
# hundreds of times a batch and its older generations walk the whole app: measured 40% of a batch's CPU.
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """Fewer collections for an ingesting process, and the start-up heap frozen out of them."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def start_background_worker() -> threading.Thread:
    """Start the worker thread once per process (idempotent)."""
    global _thread
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_loop, name="ingestion-worker", daemon=True)
            _thread.start()
        return _thread


def stop_background_worker(timeout: float) -> None:
    """Before the process exits: wait for the batch being written, if any, and start no other."""
    _drain_lock.acquire(timeout=timeout)
