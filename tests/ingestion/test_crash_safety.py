"""Acceptance 4: the real server (in-process worker on) is SIGKILLed several times while events stream
in; after restarts and a final drain every 200-acknowledged uuid is in `events` exactly once."""

from __future__ import annotations

import gzip
import signal
import threading
import time
import uuid

import orjson
import pytest

from bench.server import clickhouse_rows, free_port, kill, manage, post_batch, server_env, start_server
from ingestion.spool import Spool

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]
TARGET = 20_000


def test_every_acknowledged_event_is_in_clickhouse_exactly_once_after_sigkills(tmp_path):
    port = free_port()
    env = server_env(tmp_path, port, INGEST_BATCH_SIZE="1000", INGEST_FLUSH_INTERVAL_MS="100",
                     INGEST_WORKER_IN_PROCESS="true", SPOOL_FSYNC="true")  # fmt: skip
    manage(env, "migrate", "--noinput", "-v", "0")
    token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
    acknowledged: list[str] = []
    lock = threading.Lock()

    def stream(stop: threading.Event) -> None:
        while not stop.is_set():
            batch = [{"event": "crash", "distinct_id": f"d{i % 7}", "uuid": str(uuid.uuid4())} for i in range(100)]
            try:
                status = post_batch(port, gzip.compress(orjson.dumps({"api_key": token, "batch": batch})))
            except OSError:
                time.sleep(0.05)  # the server is down: not acknowledged, try again later
                continue
            if status == 200:
                with lock:
                    acknowledged.extend(e["uuid"] for e in batch)

    kills = 0
    proc = start_server(env)
    stop = threading.Event()
    threads = [threading.Thread(target=stream, args=(stop,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        while len(acknowledged) < TARGET or kills < 4:
            time.sleep(0.05)
            if kills < 4 and len(acknowledged) >= (kills + 1) * TARGET // 5:
                kill(proc)  # mid-stream, usually mid-batch
                kills += 1
                proc = start_server(env)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    spool = Spool(tmp_path / "spool.sqlite3")
    deadline = time.monotonic() + 300
    while spool.depth() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert spool.depth() == 0
    kill(proc, signal.SIGTERM)
    with lock:
        acked = set(acknowledged)
    assert len(acked) >= TARGET and kills == 4
    [[count, unique]] = clickhouse_rows(env, "SELECT count(), uniqExact(uuid) FROM EVENTS", tmp_path / "c.json")
    stored = [u for [u] in clickhouse_rows(env, "SELECT toString(uuid) FROM EVENTS", tmp_path / "u.json")]
    assert acked <= set(stored), f"{len(acked - set(stored))} acknowledged events lost"
    assert count == unique == len(stored) >= len(acked)
