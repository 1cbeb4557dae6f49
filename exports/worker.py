"""The embedded default's export worker: a small thread pool in the server process (chDB belongs to this
process) running the Celery task functions directly, and a scheduler thread for the expiry job."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from exports.tasks import delete_expired_assets, export_asset

logger = logging.getLogger(__name__)

WORKERS = 2
EXPIRY_INTERVAL_SECONDS = 3600
_pool: ThreadPoolExecutor | None = None
_scheduler: threading.Thread | None = None
_lock = threading.Lock()
_stop = threading.Event()


class Job:
    def __init__(self, future: Future) -> None:
        self.future = future

    def wait(self, timeout: float) -> bool:
        try:
            self.future.result(timeout=timeout)
        except FutureTimeout:
            return False
        except Exception:  # recorded on the asset by the task; nothing to add here
            return True
        return True


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="exports")
        return _pool


def submit(asset_id: int) -> Job:
    return Job(_executor().submit(export_asset, asset_id))


def run_expiry_once() -> int:
    return delete_expired_assets()


def _schedule_loop(interval: float, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            deleted = run_expiry_once()
            if deleted:
                logger.info("expired exports deleted", extra={"count": deleted})
        except Exception:
            logger.exception("expired exports cleanup failed")
        stop.wait(interval)


def start_scheduler(interval: float = EXPIRY_INTERVAL_SECONDS) -> threading.Thread:
    """Start the expiry scheduler once per process (idempotent)."""
    global _scheduler
    with _lock:
        if _scheduler is None or not _scheduler.is_alive():
            _stop.clear()
            _scheduler = threading.Thread(
                target=_schedule_loop, args=(interval, _stop), name="exports-expiry", daemon=True
            )
            _scheduler.start()
        return _scheduler


def stop_scheduler(timeout: float = 5) -> None:
    _stop.set()
    if _scheduler is not None:
        _scheduler.join(timeout)
