"""The embedded ingestion worker: a daemon thread in the server process draining the spool in batches
(at INGEST_BATCH_SIZE events or INGEST_FLUSH_INTERVAL_MS, whichever comes first).

While a backlog lasts, the ClickHouse insert of one batch runs on a second thread beside the processing
(persons, definitions, rows) of the next: the insert holds no GIL, so the two overlap (the persons mirror's
own chDB inserts wait for it: one chDB handle takes one call at a time). A batch is completed in the spool
only after its insert returned, in order; both are recorded as in flight until then, so a crash replays
each: its events ClickHouse holds already are dropped, the rest is written under a new token. The next
batch's persons are applied before the insert of the one before is known to have landed: if that insert
fails, both batches replay and their person updates are applied again in order (as after a crash),
converging on the same persons.

The steps of a batch and its insert are the pipeline's (``process_batch``, ``Insert``), as for Celery and
the broker drain; this module only schedules them and keeps the spool's books.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections

from ingestion import tasks
from ingestion.pipeline import Insert, Processed, process_batch, unwritten
from ingestion.queue import get_spool
from ingestion.spool import Batch, Spool
from posthog_clone.clickhouse.errors import ClickHouseError

logger = logging.getLogger("ingestion")
_thread: threading.Thread | None = None
_start_lock = threading.Lock()
_drain_lock = threading.Lock()
_stopping = threading.Event()
_inserters: dict[int, ThreadPoolExecutor] = {}  # by process id: an executor used before a fork is dead in the child


def _inserter() -> ThreadPoolExecutor:
    with _start_lock:
        executor = _inserters.get(os.getpid())
        if executor is None:
            executor = _inserters[os.getpid()] = ThreadPoolExecutor(1, thread_name_prefix="ingestion-insert")
        return executor


class _Writing:
    """A batch whose events insert is under way on the insert thread."""

    def __init__(self, batch: Batch, processed: Processed | None, token: str):
        self.batch = batch
        self.insert = None if processed is None else Insert(processed, token=token, executor=_inserter())

    def finish(self, spool: Spool) -> int:
        """Wait for the insert (a batch ClickHouse refuses for good goes row by row here, on the caller's
        thread and database connection), then forget the batch; the number of events handled."""
        if self.insert is not None:
            self.insert.wait()
        spool.complete(self.batch)
        return len(self.batch.events)


def drain(max_events: int | None = None, *, max_batches: int | None = None, whole: bool = False) -> int:
    """Write the batches queued now (crash-left in-flight batches first, without the events ClickHouse holds),
    the insert of each beside the processing of the next; stops early once the worker is stopping. ``whole``:
    after the first batch, only whole ones (a batch's cost per event grows as it shrinks: the rest waits for
    more). Events handled."""
    spool, size, total, taken = get_spool(), max_events or settings.INGEST_BATCH_SIZE, 0, 0
    with _drain_lock:
        writing: _Writing | None = None
        try:
            while not _stopping.is_set() and (max_batches is None or taken < max_batches):
                after_id = writing.batch.last_id if writing else 0
                if whole and taken and spool.depth(after_id=after_id) < size:
                    break
                batch = spool.next_batch(size, after_id=after_id)
                if batch is None:
                    break
                taken += 1
                # a batch taken before and never completed may have landed: pipeline.unwritten drops what did
                events, token = unwritten(batch.events, batch.token, maybe_written=batch.replayed)
                processed = process_batch(events) if events else None
                if writing is not None:
                    done, writing = writing, None
                    total += done.finish(spool)
                writing = _Writing(batch, processed, token)
        except BaseException:
            if writing is not None:  # a batch ClickHouse took is forgotten all the same; the first error wins
                try:
                    writing.finish(spool)
                except Exception:
                    logger.exception("the batch being inserted failed too; both stay in flight")
            raise
        if writing is not None:
            total += writing.finish(spool)
    return total


def drain_once(max_events: int | None = None) -> int:
    """Write one batch (the crash-left in-flight batch first); the number of events handled."""
    return drain(max_events, max_batches=1)


def flush() -> int:
    """Drain everything queued now, synchronously (tests, bench, `manage.py ingest_flush`): the spool, or
    in scale mode the broker's ingestion queue (run it where ClickHouse is writable: with chDB, the owner)."""
    if settings.INGEST_QUEUE == "celery":
        return tasks.drain()
    return drain()  # it runs until the spool has nothing past the batches it took


def _loop() -> None:
    spool = get_spool()
    interval = settings.INGEST_FLUSH_INTERVAL_MS / 1000
    backoff = 0.2
    while not _stopping.is_set():
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and spool.depth() < settings.INGEST_BATCH_SIZE:
            time.sleep(min(0.05, interval))
        try:
            drain(whole=True)
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


def start_background_worker() -> threading.Thread:
    """Start the worker thread once per process (idempotent)."""
    global _thread
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _stopping.clear()
            _thread = threading.Thread(target=_loop, name="ingestion-worker", daemon=True)
            _thread.start()
        return _thread


def stop_background_worker(timeout: float) -> None:
    """Before the process exits: start no other batch and wait for the ones being written, if any."""
    _stopping.set()
    _drain_lock.acquire(timeout=timeout)
