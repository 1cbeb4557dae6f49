"""Run the production server (gunicorn, threaded) with start-up tasks and the embedded worker.

Embedded default: one process (it owns chDB) with WEB_THREADS threads and the ingestion worker.
Scale mode: WEB_CONCURRENCY processes; ingestion runs in Celery workers.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from posthog_clone.env import env_int


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from posthog_clone.wsgi import application

        return application


def _post_worker_init(worker: Any) -> None:
    from posthog_clone.startup import on_server_start

    on_server_start()


class Command(BaseCommand):
    help = "Serve HTTP with gunicorn on HOST:PORT (default 127.0.0.1:8000)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))

    def handle(self, *args: Any, **options: Any) -> None:
        embedded = settings.INGEST_WORKER_IN_PROCESS or settings.CLICKHOUSE.backend.value == "chdb"
        workers = 1 if embedded else env_int("WEB_CONCURRENCY", 2, minimum=1)
        _Gunicorn(
            {
                "bind": f"{options['host']}:{options['port']}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": env_int("WEB_THREADS", 8, minimum=1),
                "timeout": 120,
                "graceful_timeout": 10,
                "keepalive": 5,
                "accesslog": "-" if os.environ.get("ACCESS_LOG") == "true" else None,
                "post_worker_init": _post_worker_init,
                # gunicorn's runtime control socket is one path per user (~/.gunicorn/gunicorn.ctl) that
                # every server on the host would share; nothing here uses it.
                "control_socket_disable": True,
            }
        ).run()
