"""The embedded default's retention thread (scale mode: Celery beat runs ``replay.tasks``): once an hour,
``services.expired_recordings_delete`` in the process that owns ClickHouse writes."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections

from replay import services

logger = logging.getLogger("replay")
INTERVAL_SECONDS = 3600.0
FIRST_RUN_SECONDS = 60.0
_stop = threading.Event()
_thread: threading.Thread | None = None
_lock = threading.Lock()


def _loop() -> None:
    wait = FIRST_RUN_SECONDS
    while not _stop.wait(wait):
        try:
            services.expired_recordings_delete()
        except Exception:
            logger.exception("replay retention run failed, will retry")
        finally:
            close_old_connections()
        wait = INTERVAL_SECONDS


def start_background_worker() -> threading.Thread:
    global _thread
    with _lock:
        if _thread is None or not _thread.is_alive():
            _stop.clear()
            _thread = threading.Thread(target=_loop, name="replay-retention", daemon=True)
            _thread.start()
        return _thread


def stop_background_worker(timeout: float) -> None:
    _stop.set()
    if _thread is not None:
        _thread.join(timeout)
