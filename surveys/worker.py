"""The embedded default's survey job: a thread in the process that owns ClickHouse (started through the
registry's background workers) running `stop_surveys_reached_target` every STOP_INTERVAL_SECONDS."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from surveys.services import surveys_stop_reached_target

logger = logging.getLogger(__name__)

STOP_INTERVAL_SECONDS = 60.0
_lock = threading.Lock()
_stop = threading.Event()
_thread: threading.Thread | None = None


def _loop(interval: float, stop: threading.Event) -> None:
    while not stop.wait(interval):
        try:
            surveys_stop_reached_target()
        except Exception:
            logger.exception("stopping surveys that reached their responses limit failed")
        finally:
            close_old_connections()


def start_background_worker(interval: float = STOP_INTERVAL_SECONDS) -> threading.Thread:
    """Start the loop once per process (idempotent)."""
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=_loop, args=(interval, _stop), name="surveys-limits", daemon=True)
            _thread.start()
        return _thread


def stop_background_worker(timeout: float = 5) -> None:
    _stop.set()
    if _thread is not None:
        _thread.join(timeout)
