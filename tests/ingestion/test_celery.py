"""Acceptance 5: scale mode. The real server (CELERY_BROKER_URL set) publishes posted events to Redis, a
real `celery -A posthog_clone worker` writes them to ClickHouse, many messages per insert; a worker SIGKILLed
mid-batch loses nothing (acknowledged only after the insert → redelivery; uuid-derived insert token and the
uuid check of redelivered messages → no duplicates)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import orjson
import pytest

from bench.server import ROOT, clickhouse_rows, free_port, kill, manage, server_env, start_server
from tests.conftest import require_service
from tests.ops.scale import queue_drained, redis_client

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]
REDIS_DB = 13
MESSAGES = 300
# ten messages (1,000 events) an insert: 30 inserts to drain, so a kill after the first few lands mid-stream
# however fast the worker is (with the default limits one batch took all 100 messages of the earlier
# version of this test, and a loaded machine let it finish before the kill)
BATCH_MESSAGES = 10


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:  # the worker's log goes into the failure message
        return subprocess.Popen(  # --pool solo: chDB belongs to one process
            [sys.executable, "-m", "celery", "-A", "posthog_clone", "worker", "--pool", "solo", "-l", "warning"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _post(port: int, token: str, uuids: list[str]) -> None:
    batch = [{"event": "celery", "distinct_id": f"d{i % 5}", "uuid": u} for i, u in enumerate(uuids)]
    body = gzip.compress(orjson.dumps({"api_key": token, "batch": batch}))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/batch/?compression=gzip", data=body)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_celery_worker_writes_posted_events_and_a_killed_worker_loses_nothing(tmp_path):
    require_service("redis", "127.0.0.1", 6379)
    redis_client(REDIS_DB).flushdb()
    port = free_port()
    env = server_env(
        tmp_path, port, CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}", CLICKHOUSE_MIGRATE_ON_START="false",
        CELERY_VISIBILITY_TIMEOUT="3", INGEST_BATCH_MESSAGES=str(BATCH_MESSAGES),
    )  # fmt: skip
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "migrate_clickhouse")
    token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
    server = start_server(env)  # scale mode: no in-process worker, the server never opens chDB
    sent: list[str] = []
    worker = None
    try:
        for _ in range(MESSAGES):
            uuids = [str(uuid.uuid4()) for _ in range(100)]
            _post(port, token, uuids)
            sent.extend(uuids)
        worker = _start_worker(env, tmp_path / "worker.log")
        deadline = time.monotonic() + 60
        while redis_client(REDIS_DB).llen("ingestion") > MESSAGES - 3 * BATCH_MESSAGES and time.monotonic() < deadline:
            time.sleep(0.02)
        kill(worker)  # mid-stream: some messages written, prefetched ones unacknowledged
        assert not queue_drained(REDIS_DB)
        worker = _start_worker(env, tmp_path / "worker.log")
        deadline = time.monotonic() + 120
        while not queue_drained(REDIS_DB) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert queue_drained(REDIS_DB)
        time.sleep(1)
    finally:
        if worker is not None:
            kill(worker, 15)
        kill(server)
    sql = "SELECT count(), uniqExact(uuid), uniqExact(created_at) FROM EVENTS"  # a batch's rows share created_at
    [[count, unique, batches]] = clickhouse_rows(env, sql, tmp_path / "c.json")
    stored = {u for [u] in clickhouse_rows(env, "SELECT toString(uuid) FROM EVENTS", tmp_path / "u.json")}
    log = (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
    assert set(sent) <= stored, f"{len(set(sent) - stored)} events lost; worker log:\n{log}"
    assert count == unique == len(sent)
    # many messages per insert (the killed worker's last batches come back and may be written in other batches)
    assert batches <= MESSAGES // BATCH_MESSAGES + 3, f"{batches} inserts for {MESSAGES} messages"
