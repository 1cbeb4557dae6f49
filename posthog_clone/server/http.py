"""The HTTP servers `manage.py serve` can run the WSGI app under: granian (the default) or gunicorn.

Both run ``workers`` forked web processes of ``threads`` threads each, call ``on_server_start`` once in
every web process before it serves, stop gracefully on SIGTERM/SIGINT (requests being answered finish,
then the processes exit) and log each request when ``access_log`` is set. ``WEB_SERVER`` picks one.

Why granian by default (bench.capture, same machine, same run): its HTTP layer is Rust (hyper) and hands the
app a request whose body is already read, at 79–124 µs a do-nothing request against 300–360 µs for
gunicorn's gthread worker; docs/performance.md has the numbers. Malformed HTTP (bad chunk sizes, bodies cut
short) is answered 400 by hyper before the app sees it.
"""

from __future__ import annotations

import copy
import logging
import os
import signal
from multiprocessing.util import Finalize
from typing import Any

from django.conf import settings

from posthog_clone.server.startup import on_server_start, on_web_process_exit

SERVERS = ("granian", "gunicorn")
GRACEFUL_TIMEOUT = 10


def web_application() -> Any:
    """granian's factory, called once in each web process: start-up work, then the app."""
    # Ctrl-C signals the terminal's whole process group; a granian worker that gets SIGINT and then its
    # master's SIGTERM hangs until killed (10 s; SIGTERM alone stops it at once). Blocked here, before the
    # worker's threads start, SIGINT reaches only the master, which stops the workers with SIGTERM.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    on_server_start()
    # granian's master has no child-exit hook, and a worker leaves through multiprocessing (no atexit): its
    # finalizers run when the worker stops, so each web process marks its own live gauges dead
    Finalize(None, on_web_process_exit, args=(os.getpid(),), exitpriority=0)
    from posthog_clone.wsgi import application

    return application


def run_granian(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    Server(
        "posthog_clone.server.http:web_application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        backlog=2048,
        websockets=False,
        factory=True,
        log_dictconfig=_granian_logging(),
        log_access=access_log,
        log_access_format='%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).3f ms',
        respawn_failed_workers=True,
        workers_kill_timeout=GRACEFUL_TIMEOUT,
    ).serve()


class IntendedThreadsFilter(logging.Filter):
    """Drop granian's start-up warning that WEB_THREADS exceeds 2 × cores + 1: a web thread mostly waits
    (the spool's fsync, the engine's socket, the database), and the threads are what lets requests arriving
    during one fsync share the next (capture's group commit)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


def _granian_logging() -> dict[str, Any]:
    """The project's structured logging for granian's own loggers too (its server and access logs)."""
    config = copy.deepcopy(settings.LOGGING)
    config["filters"] = {**config.get("filters", {}), "intended_threads": {"()": IntendedThreadsFilter}}
    config["loggers"] = {
        **config.get("loggers", {}),
        "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False, "filters": ["intended_threads"]},
        "granian.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
    }
    return config


def run_gunicorn(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in _gunicorn_options(host, port, workers, threads, access_log).items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from posthog_clone.wsgi import application

            return application

    _Gunicorn().run()


def _gunicorn_options(host: str, port: int, workers: int, threads: int, access_log: bool) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 120,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": 5,
        "accesslog": "-" if access_log else None,
        "post_worker_init": lambda worker: on_server_start(),
        "child_exit": lambda arbiter, worker: on_web_process_exit(worker.pid),
        # gunicorn's runtime control socket is one path per user (~/.gunicorn/gunicorn.ctl) that every
        # server on the host would share; nothing here uses it.
        "control_socket_disable": True,
    }


def run(server: str, **options: Any) -> None:
    (run_granian if server == "granian" else run_gunicorn)(**options)
