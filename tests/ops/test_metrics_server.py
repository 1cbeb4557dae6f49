"""One scrape of /_metrics shows the whole embedded server: both web processes of `manage.py serve` and the
engine that writes the events (prometheus_client's multiprocess mode, files under VAR_DIR/metrics)."""

from __future__ import annotations

import http.client
import time
from pathlib import Path

import orjson
import pytest
from prometheus_client.mmap_dict import MmapedDict

from bench.server import free_port, kill, manage, server_env, start_server

N = 600  # events, 3 per request, each request on its own connection so that both web processes take some


def scrape(port: int) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/_metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def post(port: int, token: str, n: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    batch = [{"event": "metered", "distinct_id": f"u{i}"} for i in range(n)]
    conn.request("POST", "/batch/", orjson.dumps({"api_key": token, "batch": batch}), {"Connection": "close"})
    status = conn.getresponse().status
    conn.close()
    return status


def accepted_by_pid(metrics_dir: Path) -> dict[int, float]:
    """capture_events_accepted_total as each web process wrote it to its own file."""
    counts: dict[int, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])  # counter_<host>_<pid>.db
        for key, value, *_ in MmapedDict.read_all_values_from_file(str(path)):
            if orjson.loads(key)[1] == "capture_events_accepted_total":
                counts[pid] = counts.get(pid, 0) + value
    return counts


@pytest.mark.slow
@pytest.mark.own_processes
def test_one_scrape_counts_every_web_process_and_the_engine(tmp_path):
    port = free_port()
    env = server_env(
        tmp_path, port, WEB_CONCURRENCY="2", INGEST_FLUSH_INTERVAL_MS="50", INGEST_WORKER_IN_PROCESS="true"
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
    proc = start_server(env)
    try:
        for _ in range(N // 3):
            assert post(port, token, 3) == 200
        deadline = time.monotonic() + 60
        while scrape(port).get("ingestion_events_written_total", 0) < N and time.monotonic() < deadline:
            time.sleep(0.2)
        values = scrape(port)
        assert values["capture_events_accepted_total"] == N
        assert values["ingestion_events_written_total"] == N
        per_process = accepted_by_pid(tmp_path / "metrics" / str(port))
        assert len([pid for pid, count in per_process.items() if count > 0]) == 2, per_process
        assert sum(per_process.values()) == N
    finally:
        kill(proc)
