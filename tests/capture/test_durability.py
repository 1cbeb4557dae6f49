"""Events answered 200 survive SIGKILL of the real server process (acceptance 4).

Runs `manage.py serve` (gunicorn, embedded mode, ingestion worker off so nothing drains the spool) in
its own VAR_DIR, posts events from several threads, kills the process group mid-stream with SIGKILL,
restarts it, and finds every acknowledged uuid in the spool file.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from bench.server import start_server
from ingestion.spool import Spool

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(var_dir: Path, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": "x",
        "PORT": str(port),
        "INGEST_WORKER_IN_PROCESS": "false",
        "CLICKHOUSE_MIGRATE_ON_START": "false",
        "SPOOL_FSYNC": "true",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "SPOOL_PATH", "CELERY_BROKER_URL"):
        env.pop(name, None)
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def _post(port: int, body: dict) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/batch/", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_acknowledged_events_survive_sigkill_and_restart(tmp_path):
    port = _free_port()
    env = _env(tmp_path, port)
    _manage(env, "migrate", "--noinput", "-v", "0")
    token = json.loads(_manage(env, "bootstrap", "--json"))["project_api_key"]
    proc = start_server(env)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender() -> None:
        while not stop.is_set():
            batch = [{"event": "durable", "distinct_id": "d", "uuid": str(uuid.uuid4())} for _ in range(5)]
            try:
                status = _post(port, {"api_key": token, "batch": batch})
            except OSError:
                return  # the server died under us: this request was never acknowledged
            if status == 200:
                with lock:
                    acknowledged.extend(e["uuid"] for e in batch)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-stream: requests are in flight
        proc.wait(timeout=10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    with lock:
        acked = set(acknowledged)
    assert len(acked) >= 200

    restarted = start_server(env)
    try:
        after = str(uuid.uuid4())
        body = {"api_key": token, "batch": [{"event": "after", "distinct_id": "d", "uuid": after}]}
        assert _post(port, body) == 200
    finally:
        os.killpg(restarted.pid, signal.SIGKILL)
        restarted.wait(timeout=10)
    stored = {e.uuid for e in Spool(tmp_path / "spool.sqlite3").all_events()}
    assert acked <= stored, f"{len(acked - stored)} acknowledged events lost"
    assert after in stored
