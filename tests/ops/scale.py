"""Scale-mode processes for tests: a Django database of its own (a fresh PostgreSQL database when the
suite runs on PostgreSQL, else SQLite in the test's VAR_DIR), gunicorn with several worker processes,
and real `celery worker` processes over the real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.server import ROOT, wait_healthy
from posthog_clone.redis_transport import inflight_key

REDIS = ("127.0.0.1", 6379)


def redis_client(db: int):
    import redis

    return redis.Redis(host=REDIS[0], port=REDIS[1], db=db)


def queue_drained(db: int, queue: str = "ingestion") -> bool:
    """Nothing waiting in the queue, nothing taken by a worker and nothing delivered but unacknowledged
    (posthog_clone/redis_transport.py's three places for a message)."""
    r = redis_client(db)
    return r.llen(queue) == 0 and r.llen(inflight_key(queue)) == 0 and r.hlen("unacked") == 0


@contextmanager
def django_database(var_dir: Path) -> Iterator[str]:
    """A DATABASE_URL nobody else uses: a throwaway PostgreSQL database if the suite runs on PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{var_dir / 'django.sqlite3'}"
        return
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_gunicorn(env: dict[str, str], workers: int, access_log: Path) -> subprocess.Popen:
    """The project's WSGI app under gunicorn with ``workers`` processes; the access log records the pid
    of the worker that served each request. (`manage.py serve` keeps one process while chDB is the store,
    since a web process could open it for queries; these tests only capture.)"""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "posthog_clone.wsgi:application",
            "--bind",
            f"127.0.0.1:{env['PORT']}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--access-logfile",
            str(access_log),
            "--access-logformat",
            "%(p)s %(s)s %(U)s",
            "--no-control-socket",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return wait_healthy(proc, env["PORT"])


def start_celery_worker(env: dict[str, str]) -> subprocess.Popen:
    """The compose file's worker command; --pool solo because chDB belongs to one process."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "posthog_clone",
            "worker",
            "-Q",
            "ingestion,exports,cohorts,surveys,replay",
            "--pool",
            "solo",
            "-l",
            "warning",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def worker_pids(master: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def has_chdb_loaded(pid: int) -> bool:
    return "chdb" in Path(f"/proc/{pid}/maps").read_text()
