"""Acceptance 6: the same task code (`exports.tasks.export_asset`) builds exports on a real `manage.py serve`
in both modes — embedded (the server's in-process worker) and scale mode (a real `celery -A posthog_clone
worker` on Redis consuming the `exports` queue)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.server import ROOT, free_port, kill, manage, server_env, start_server
from tests.conftest import require_service
from tests.ops.scale import queue_drained, redis_client

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]
REDIS_DB = 14  # distinct from the other Celery tests (ingestion 13, scale mode 12 and 11)
QUERY = "SELECT event, count() AS n FROM events GROUP BY event ORDER BY event"
EXPECTED = b"event,n\r\nclick,2\r\nview,3\r\n"


def _http(port: int, method: str, path: str, key: str | None = None, body: Any = None) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _wait_for_celery_ingestion() -> None:
    deadline = time.monotonic() + 60
    while not queue_drained(REDIS_DB):  # the server never reads chDB in scale mode
        assert time.monotonic() < deadline, "ingestion queue never drained"
        time.sleep(0.3)
    time.sleep(1)


def _wait_for_embedded_ingestion(port: int, keys: dict[str, Any]) -> None:
    # force_blocking: a cached answer (kept 60 s, like PostHog's) would hide the events once written
    count = {"query": {"kind": "HogQLQuery", "query": "SELECT count() FROM events"}, "refresh": "force_blocking"}
    url = f"/api/projects/{keys['project_id']}/query/"
    deadline = time.monotonic() + 60
    while True:
        status, body = _http(port, "POST", url, keys["personal_api_key"], count)
        if status == 200 and orjson.loads(body).get("results") == [[5]]:
            return
        assert time.monotonic() < deadline, f"the embedded worker never wrote the events: {status} {body[:500]!r}"
        time.sleep(0.3)


def _export_events_over_http(port: int, keys: dict[str, Any], wait_ingested: Any) -> bytes:
    batch = [{"event": e, "distinct_id": "u1"} for e in ["view"] * 3 + ["click"] * 2]
    body = gzip.compress(orjson.dumps({"api_key": keys["project_api_key"], "batch": batch}))
    assert _http(port, "POST", "/batch/?compression=gzip", body=body)[0] == 200
    project, key = keys["project_id"], keys["personal_api_key"]
    wait_ingested()
    context = {"source": {"kind": "HogQLQuery", "query": QUERY}, "filename": "counts"}
    status, created = _http(port, "POST", f"/api/projects/{project}/exports/", key,
                            {"export_format": "text/csv", "export_context": context})  # fmt: skip
    assert status == 201, created
    export_id = orjson.loads(created)["id"]
    deadline = time.monotonic() + 60
    while not (detail := orjson.loads(_http(port, "GET", f"/api/projects/{project}/exports/{export_id}/", key)[1]))[
        "has_content"
    ]:
        assert detail["exception"] is None and time.monotonic() < deadline, detail
        time.sleep(0.2)
    status, content = _http(port, "GET", f"/api/projects/{project}/exports/{export_id}/content/?download=true", key)
    assert status == 200
    return content


def _bootstrap(env: dict[str, str]) -> dict[str, Any]:
    manage(env, "migrate", "--noinput", "-v", "0")
    keys = orjson.loads(manage(env, "bootstrap", "--json"))
    return keys


def test_celery_worker_builds_exports_from_the_exports_queue(tmp_path: Path) -> None:
    require_service("redis", "127.0.0.1", 6379)
    redis_client(REDIS_DB).flushdb()
    port = free_port()
    env = server_env(
        tmp_path, port, CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}", CLICKHOUSE_MIGRATE_ON_START="false"
    )
    keys = _bootstrap(env)
    manage(env, "migrate_clickhouse")
    log = tmp_path / "worker.log"
    server = start_server(env)  # scale mode: the server never opens chDB; the worker owns it
    with log.open("wb") as sink:
        worker = subprocess.Popen(  # --pool solo: chDB belongs to one process
            [sys.executable, "-m", "celery", "-A", "posthog_clone", "worker", "--pool", "solo",
             "-Q", "ingestion,exports", "-l", "info"],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            assert _export_events_over_http(port, keys, _wait_for_celery_ingestion) == EXPECTED
        finally:
            kill(worker, 15)
            kill(server)
    assert "Task exports.tasks.export_asset[" in log.read_text() and "succeeded" in log.read_text()


def test_embedded_server_builds_exports_on_its_in_process_worker(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path, port, INGEST_WORKER_IN_PROCESS="true")  # the test settings turn it off
    keys = _bootstrap(env)
    server = start_server(env)  # embedded: spool → in-process ingestion worker → chDB; exports on its pool
    try:
        content = _export_events_over_http(port, keys, lambda: _wait_for_embedded_ingestion(port, keys))
    finally:
        kill(server)
    assert content == EXPECTED
