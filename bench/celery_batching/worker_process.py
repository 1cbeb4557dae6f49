"""The bench's first case: a real `celery -A posthog_clone worker --pool solo` process (the compose worker's
command, chDB owned by it) over a Redis broker, timed from the moment a backlog of messages appears on its
queue until every message is acknowledged.

The worker has a VAR_DIR (SQLite + chDB) of its own, a queue and unacknowledged set of its own (so nothing
else using the Redis database is counted or disturbed), and is warmed with 20 messages first. The measured
messages are published to a staging list and renamed onto the queue at once: the time is the worker's,
not the publisher's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.server import ROOT, clickhouse_rows, kill, manage, server_env

# The worker's command line, with the queue and unacknowledged keys of this run set before Celery reads them.
WORKER = """
import sys, django
django.setup()
from django.conf import settings
queue = sys.argv[1]
settings.CELERY_TASK_DEFAULT_QUEUE = queue
settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    **{f"{key}_key": f"{queue}.{key}" for key in ("unacked", "unacked_index", "unacked_mutex")}}
from posthog_clone.celery import app
app.worker_main(["worker", "-Q", queue, "--pool", "solo", "-l", "warning", "--without-mingle", "--without-gossip"])
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(broker: str, messages: int, make: Callable[[str, int, int], list[list]], var_dir: Path) -> tuple[float, float]:
    """Events/s of the worker process over ``messages`` messages of 100 events (``make(token, team, n)``), and
    its CPU seconds meanwhile."""
    import redis

    from ingestion.broker import INGEST_TASK
    from ingestion.envelope import pack
    from posthog_clone.celery import app

    queue = f"bench-worker-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(broker)
    env = server_env(var_dir, 0, CELERY_BROKER_URL=broker, CLICKHOUSE_MIGRATE_ON_START="false", LOG_LEVEL="WARNING",
                     DJANGO_SETTINGS_MODULE="posthog_clone.settings")  # fmt: skip
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "migrate_clickhouse")
    keys = orjson.loads(manage(env, "bootstrap", "--json"))

    def publish(target: str, n: int) -> None:
        for msg in make(keys["project_api_key"], keys["project_id"], n):
            app.send_task(INGEST_TASK, args=[pack(msg)], queue=target, retry=False)

    def drained() -> bool:
        return client.llen(queue) == 0 and client.hlen(f"{queue}.unacked") == 0

    with (var_dir / "worker.log").open("ab") as log:
        worker = subprocess.Popen([sys.executable, "-c", WORKER, queue], cwd=ROOT, env=env, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        publish(queue, 20)  # warm: persons and definitions caches as a running worker has them
        deadline = time.monotonic() + 120
        while not drained() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        assert drained(), (var_dir / "worker.log").read_text()[-3000:]
        publish(f"{queue}.staged", messages)
        cpu = cpu_seconds(worker.pid)
        client.rename(f"{queue}.staged", queue)
        started = time.perf_counter()
        while not drained() and worker.poll() is None:
            time.sleep(0.005)
        rate = messages * 100 / (time.perf_counter() - started)
        cpu = cpu_seconds(worker.pid) - cpu
    finally:
        kill(worker, 15)  # warm shutdown: the worker closes chDB
        client.delete(*(f"{queue}{suffix}" for suffix in ("", ".staged", ".unacked", ".unacked_index")),
                      *(f"_kombu.binding{kind}.{name}" for kind in ("", "_permanent")
                        for name in (queue, f"{queue}.staged")))  # fmt: skip
    [[count, unique]] = clickhouse_rows(env, "SELECT count(), uniqExact(uuid) FROM EVENTS", var_dir / "c.json")
    assert count == unique == (20 + messages) * 100, (count, unique)
    return rate, cpu
