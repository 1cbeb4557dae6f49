"""What capture queued, whichever queue the settings chose: the spool's rows (embedded default) or the
broker's messages (scale mode). Read through the real queue, not a stand-in.

On the broker, reading a message takes it off the queue, so the probe keeps what it took and answers
cumulatively, as ``Spool.all_events`` does.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from ingestion import broker
from ingestion.envelope import CapturedEvent
from ingestion.queue import get_spool
from ingestion.tasks import ingest_events


def broker_purge(queue: str | None = None) -> None:
    """Empty a queue on the broker (by default the ingestion queue, at the start of every test in scale mode)."""
    from posthog_clone.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue or broker.queue_name())


def _take_from_broker() -> list[CapturedEvent]:
    taken: list[CapturedEvent] = []
    for message in broker.queued_messages():
        assert message.headers["task"] == ingest_events.name, message.headers
        (payload,), _kwargs, _embed = message.decode()
        taken += [CapturedEvent.from_dict(raw) for raw in payload]
        message.ack()
    return taken


class QueueProbe:
    def __init__(self) -> None:
        self._taken: list[CapturedEvent] = []

    def all_events(self) -> list[CapturedEvent]:
        if settings.INGEST_QUEUE == "spool":
            return get_spool().all_events()
        self._taken += _take_from_broker()
        return list(self._taken)

    def depth(self) -> int:
        return len(self.all_events())


@contextmanager
def broker_at(url: str) -> Iterator[str]:
    """Point the Celery app at another broker URL for a while, then back."""
    from posthog_clone.celery import app

    def reset_pools() -> None:  # dropped, not closed: kombu keeps one shared pool per URL
        app._pool = None
        app.amqp._producer_pool = None

    saved = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    app.conf.broker_url = url
    os.environ["CELERY_BROKER_URL"] = url  # Celery's conf prefers the environment variable to its setting
    reset_pools()
    try:
        yield url
    finally:
        app.conf.broker_url = saved[0]
        if saved[1] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[1]
        reset_pools()


@contextmanager
def broker_unreachable() -> Iterator[str]:
    """A broker that is down: a port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    with broker_at(dead):
        yield dead
