"""What capture queued, whichever queue the settings chose: the spool's rows (embedded default) or the
broker's messages (scale mode). Read through the real queue, not a stand-in.

On the broker, reading a message takes it off the queue, so the probe keeps what it took and answers
cumulatively, as ``Spool.all_events`` does.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

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
        taken += broker.message_events(message.body)
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


_worker: ExitStack | None = None


def celery_worker() -> None:
    """Scale mode: the one Celery worker of this test process (Celery's embedded test worker, solo pool),
    consuming the task queues the apps route to (`exports`, `cohorts`); started at first need, stopped by
    `stop_celery_worker` when the session ends. In this process because the chDB directory the tasks read
    belongs to it.

    One for the whole session, never one per test: stopping Celery's test worker sets the worker module's
    global `should_terminate`, which ends every worker thread of the process, not only its own."""
    global _worker
    if _worker is not None:
        return
    from celery.contrib.testing.worker import start_worker  # Celery's worker machinery, only in scale mode

    from cohorts.tasks import COHORTS_QUEUE
    from exports.tasks import EXPORTS_QUEUE
    from posthog_clone.celery import app

    queues = [EXPORTS_QUEUE, COHORTS_QUEUE]
    for name in queues:
        broker_purge(name)
    stack = ExitStack()
    stack.enter_context(start_worker(app, pool="solo", perform_ping_check=False, queues=queues, loglevel="WARNING"))
    _worker = stack


def stop_celery_worker() -> None:
    global _worker
    if _worker is not None:
        _worker.close()
        _worker = None
