"""The hand-off from capture to ingestion. ``enqueue`` returns only once the events are durable:
committed to the local spool (embedded default) or accepted by the Celery broker (scale mode).
"""

from __future__ import annotations

import threading
from functools import lru_cache

from django.conf import settings

from ingestion import broker
from ingestion.envelope import CapturedEvent
from ingestion.spool import Spool, SpoolUnavailable


class QueueUnavailable(Exception):
    """The queue could not take the events; nothing was stored. Capture answers 503."""


_spool_lock = threading.Lock()


@lru_cache(maxsize=4)
def _spool_for(path: str, fsync: bool, min_free_mb: int) -> Spool:
    return Spool(path, fsync=fsync, min_free_bytes=min_free_mb * 2**20)


def get_spool() -> Spool:
    with _spool_lock:
        return _spool_for(str(settings.SPOOL_PATH), settings.SPOOL_FSYNC, settings.SPOOL_MIN_FREE_MB)


def enqueue(events: list[CapturedEvent]) -> None:
    if not events:
        return
    if settings.INGEST_QUEUE == "celery":
        try:
            broker.publish(events)
        except Exception as exc:  # kombu/redis raise many types; all mean "not stored"
            raise QueueUnavailable(str(exc)) from exc
        return
    try:
        get_spool().append(events)
    except SpoolUnavailable as exc:
        raise QueueUnavailable(str(exc)) from exc
