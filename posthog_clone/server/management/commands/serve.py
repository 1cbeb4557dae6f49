"""Run the production server: granian or gunicorn (WEB_SERVER; WEB_CONCURRENCY processes of WEB_THREADS
threads) and, when chDB is the store, the engine process that owns it.

Embedded default: `manage.py clickhouse_engine` owns the chDB directory (chDB allows one process per
directory) and runs the migrations, the ingestion worker and the export scheduler; the web processes
capture into the spool and reach chDB through it. serve restarts the engine if it dies while serving.
A stop (SIGTERM, or Ctrl-C) stops the web processes first, then the engine, which finishes the batch
being written (the rest stays in the spool for the next start) and is never restarted; the engine also
dies with serve (PDEATHSIG), so a killed server never leaves chDB locked.
Scale mode (a ClickHouse server): no engine; ingestion runs in Celery workers, or in the one web
process when INGEST_WORKER_IN_PROCESS is set. Celery on chDB: the Celery worker owns chDB, one web process.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from posthog_clone.clickhouse.engine import engine_address
from posthog_clone.env import env_choice, env_int
from posthog_clone.server import http
from posthog_clone.server.startup import use_multiprocess_metrics

logger = logging.getLogger("serve")
PR_SET_PDEATHSIG = 1
# the engine's exit after a stop it was asked for (SIGALRM: its exit hung and its alarm ended it, see
# clickhouse_engine.EXIT_WITHIN_SECONDS)
STOPPED = (0, -signal.SIGTERM, -signal.SIGINT, -signal.SIGALRM)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class EngineSupervisor:
    """Keep one `manage.py clickhouse_engine` running beside gunicorn, until serve stops it.

    The engine runs in its own session: a terminal's Ctrl-C (SIGINT to the foreground process group) reaches
    serve and its web processes but not the engine, which serve stops last, after the web processes, so a
    request being answered can still reach chDB. It restarts only an engine that died while serve runs.
    """

    def __init__(self) -> None:
        self._owner = os.getpid()
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:  # one thread spawns every engine: PDEATHSIG follows the thread that forked
        manage = [sys.executable, sys.argv[0] if sys.argv[0].endswith("manage.py") else "manage.py"]
        while True:
            with self._lock:  # stop() either sees this engine or keeps it from starting
                if self._stopping.is_set():
                    return
                try:  # the engine finds its address from the same chDB path
                    self._proc = subprocess.Popen(
                        [*manage, "clickhouse_engine"], preexec_fn=_die_with_parent, start_new_session=True
                    )
                except OSError as exc:
                    self._proc, code = None, str(exc)
            if self._proc is not None:
                code = self._proc.wait()
                if code == -signal.SIGALRM:
                    logger.warning("clickhouse engine hung on its way out; its exit alarm ended it")
            if self._stopping.is_set():
                return
            if code in STOPPED:  # told to stop by someone else (a service manager signals every process): so is serve
                logger.info("clickhouse engine was stopped; serve stops too", extra={"returncode": code})
                os.kill(self._owner, signal.SIGTERM)
                return
            logger.error("clickhouse engine exited; restarting it", extra={"returncode": code})
            self._stopping.wait(1.0)

    def stop(self, timeout: float = 40.0) -> None:
        """Stop the engine (SIGTERM: it finishes the batch being written) and start no other."""
        if os.getpid() != self._owner:
            # a gunicorn web process leaving serve's handle() (forked with a copy of this object): the engine
            # is not its child, and stopping it is the master's job
            return
        with self._lock:
            self._stopping.set()
            proc = self._proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.terminate()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.error("clickhouse engine did not stop; killing it", extra={"timeout": timeout})
            proc.kill()
            self._thread.join()


class Command(BaseCommand):
    help = "Serve HTTP (WEB_SERVER: granian or gunicorn) on HOST:PORT (default 127.0.0.1:8000)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))

    def execute(self, *args: Any, **options: Any) -> Any:
        # before the system checks import the URLs (and the metrics with them), and before any process starts:
        # one /_metrics scrape shows them all
        use_multiprocess_metrics(instance=str(options["port"]))
        return super().execute(*args, **options)

    def handle(self, *args: Any, **options: Any) -> None:
        engine, chdb = None, settings.CLICKHOUSE.backend.value == "chdb"
        if chdb and settings.INGEST_QUEUE == "spool":
            # the web processes (forked below, with these settings) reach chDB through the engine
            settings.CLICKHOUSE_ENGINE_ADDRESS = engine_address(settings.CLICKHOUSE.path)
            engine = EngineSupervisor()
            engine.start()
            workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
        elif chdb or settings.INGEST_WORKER_IN_PROCESS:
            # chDB with Celery: the Celery worker owns it; one web process, opening it only if asked to.
            # An in-process worker must be alone too.
            workers = 1
        else:
            workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
        try:
            self._serve(options, workers)
        finally:
            if engine is not None:
                engine.stop()

    def _serve(self, options: dict[str, Any], workers: int) -> None:
        http.run(
            env_choice("WEB_SERVER", http.SERVERS, default="granian"),
            host=options["host"],
            port=options["port"],
            workers=workers,
            threads=env_int("WEB_THREADS", 8, minimum=1),
            access_log=os.environ.get("ACCESS_LOG") == "true",
        )
