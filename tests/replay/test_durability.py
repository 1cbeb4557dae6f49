"""A SIGKILL of the real server during replay ingestion loses no acknowledged snapshot (issue 27 acceptance 2).

Runs `manage.py serve` (embedded default: the spool, the in-process ingestion worker writing blocks to
ClickHouse and blobs to VAR_DIR/replay) in its own VAR_DIR; threads post `/s/` requests (one session each)
while the worker ingests; the process group is killed mid-stream, restarted, and every acknowledged session
must come back through the API with all its snapshot lines.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import orjson
import pytest

from bench.server import kill, manage, server_env, start_server
from tests.replay.helpers import now_ms, session_events, snapshot

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]
ITEMS = 13  # session_events(..., seconds=5, clicks=10): meta, full snapshot, 10 clicks, a scroll


def _post(port: int, token: str, session: str) -> int:
    body = gzip.compress(orjson.dumps([snapshot(token, session, session_events(now_ms(), seconds=5, clicks=10))]))
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/s/?compression=gzip-js&ver=1.300.0", data=body, headers={"Content-Type": "text/plain"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _get(port: int, key: str, path: str) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _stored(port: int, key: str) -> set[str]:
    found: set[str] = set()
    offset = 0
    while True:
        path = f"/api/environments/@current/session_recordings/?limit=1000&offset={offset}&date_from=-1d"
        status, body = _get(port, key, path)
        assert status == 200, body
        page = json.loads(body)
        found |= {r["id"] for r in page["results"] if r["click_count"] == 10}
        if not page["has_next"]:
            return found
        offset += 1000


def test_acknowledged_snapshots_survive_sigkill_during_ingestion(tmp_path):
    from bench.server import free_port

    port = free_port()
    env = server_env(tmp_path, port, INGEST_WORKER_IN_PROCESS="true", INGEST_FLUSH_INTERVAL_MS="50", SPOOL_FSYNC="true")
    manage(env, "migrate", "--noinput", "-v", "0")
    keys = json.loads(manage(env, "bootstrap", "--json"))
    token, key = keys["project_api_key"], keys["personal_api_key"]
    proc = start_server(env)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender() -> None:
        while not stop.is_set():
            session = str(uuid.uuid4())
            try:
                status = _post(port, token, session)
            except OSError:
                return  # the server died under us: never acknowledged
            if status == 200:
                with lock:
                    acknowledged.append(session)

    threads = [threading.Thread(target=sender) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once some are ingested and more are in flight
            with lock:
                enough = len(acknowledged) >= 150
            if enough and _stored(port, key):
                break
            time.sleep(0.1)
        kill(proc)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        kill(proc)
    with lock:
        acked = set(acknowledged)
    assert len(acked) >= 150

    restarted = start_server(env)
    try:
        deadline = time.monotonic() + 120
        stored: set[str] = set()
        while time.monotonic() < deadline and not acked <= stored:
            stored = _stored(port, key)
            time.sleep(0.5)
        assert acked <= stored, f"{len(acked - stored)} of {len(acked)} acknowledged sessions lost"
        for session in list(acked)[:5]:  # and their lines are all there
            query = urllib.parse.urlencode({"source": "blob_v2", "start_blob_key": 0, "end_blob_key": 0})
            status, body = _get(
                port, key, f"/api/environments/@current/session_recordings/{session}/snapshots/?{query}"
            )
            assert status == 200 and len(body.split(b"\n")) == ITEMS, body[:300]
    finally:
        kill(restarted)
