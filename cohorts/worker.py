"""The embedded default's cohort worker: a thread started through the registry's background workers (in the
process that owns ClickHouse writes: the engine of `serve`) and a small pool running the Celery task
functions' bodies (`cohorts.calculation.calculate`) in-process.

Web processes do not talk to it: a create or an edit saves `is_calculating = true`, and the loop polls for
such cohorts every second (an edit in this same process wakes it at once). Every minute it also runs the
scheduler's choice (`cohorts.scheduler`). A cohort with a run of its own in flight, here or in another
process (a `CohortCalculation` unfinished for less than `RUN_TIMEOUT`), is left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cohorts import calculation, scheduler
from cohorts.models import Cohort, CohortCalculation

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
SCHEDULE_SECONDS = 60.0
WORKERS = 2  # calculations at once (chDB runs one statement at a time anyway)
RUN_TIMEOUT = dt.timedelta(minutes=20)  # longer than ClickHouse's 600 s limit: an older unfinished run died

_lock = threading.Lock()
_stop = threading.Event()
_wake = threading.Event()
_thread: threading.Thread | None = None
_pool: ThreadPoolExecutor | None = None
_in_flight: set[int] = set()
_finished = 0  # runs the pool has finished in this process (tests and the bench wait on it)


def runs_in_flight() -> QuerySet[CohortCalculation]:
    """Runs started here or in another process and not finished, younger than ``RUN_TIMEOUT`` (older ones died)."""
    return CohortCalculation.objects.filter(finished_at__isnull=True, started_at__gte=timezone.now() - RUN_TIMEOUT)


def requested() -> list[int]:
    """Cohorts waiting for a run: flagged calculating, live, something to calculate, no run in flight."""
    running = runs_in_flight().filter(cohort=OuterRef("pk"))
    return list(
        Cohort.objects.filter(is_calculating=True, deleted=False)
        .filter(Q(is_static=False) | Q(query__isnull=False))
        .exclude(Exists(running))
        .order_by("id")
        .values_list("pk", flat=True)
    )


def run_pending() -> int:
    """Calculate every waiting cohort now, in this thread (tests, `manage.py shell`); how many ran."""
    ran = 0
    for cohort_id in requested():
        ran += calculation.calculate(cohort_id) is not None
    return ran


def _run(cohort_id: int, trigger: str) -> None:
    try:
        calculation.calculate(cohort_id, trigger=trigger)
    except Exception:
        logger.exception("cohort calculation crashed", extra={"cohort": cohort_id})
    finally:
        global _finished
        with _lock:
            _in_flight.discard(cohort_id)
            _finished += 1
        close_old_connections()
        _wake.set()  # an edit during the run left it flagged: look again now


def submit(cohort_id: int, trigger: str = "edit") -> bool:
    """Hand a cohort to the pool unless it is already there; whether it was handed over."""
    global _pool
    with _lock:
        if cohort_id in _in_flight or _stop.is_set():
            return False
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="cohort-calc")
        _in_flight.add(cohort_id)
        _pool.submit(_run, cohort_id, trigger)
        return True


def _tick(next_schedule: float) -> float:
    if time.monotonic() >= next_schedule:
        for cohort_id in scheduler.mark_calculating(scheduler.due_cohorts()):
            submit(cohort_id, "schedule")
        next_schedule = time.monotonic() + SCHEDULE_SECONDS
    for cohort_id in requested():
        submit(cohort_id)
    return next_schedule


def _loop() -> None:
    next_schedule = 0.0
    while not _stop.is_set():
        try:
            next_schedule = _tick(next_schedule)
        except Exception:
            logger.exception("cohort worker tick failed")
        finally:
            close_old_connections()
        _wake.wait(POLL_SECONDS)
        _wake.clear()


def finished() -> int:
    """How many runs the pool has finished in this process so far."""
    return _finished


def wake() -> None:
    """Look for waiting cohorts now (no-op when the loop runs in another process)."""
    _wake.set()


def start_background_worker() -> threading.Thread:
    """Start the loop once per process (idempotent)."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=_loop, name="cohort-worker", daemon=True)
            _thread.start()
        return _thread


def stop_background_worker(timeout: float = 5) -> None:
    """Start nothing new; wait up to `timeout` for the loop and the runs in flight."""
    global _pool
    _stop.set()
    _wake.set()
    deadline = time.monotonic() + timeout
    if _thread is not None:
        _thread.join(max(0.0, deadline - time.monotonic()))
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
        while _in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
