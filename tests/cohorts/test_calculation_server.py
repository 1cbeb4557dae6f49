"""The embedded default for real: `manage.py serve` (gunicorn web processes, and the engine process owning
chDB, where the registry starts the cohort worker). Persons arrive through /batch/ and the ingestion worker;
a cohort created over HTTP is calculated in the background, and an edit recalculates it, while the API
answers."""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.server import free_port, kill, manage, server_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


def _http(port: int, method: str, path: str, key: str | None = None, body: Any = None) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, orjson.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _until(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def test_the_server_calculates_cohorts_in_the_background(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path, port, INGEST_WORKER_IN_PROCESS="true")  # the test settings turn it off
    manage(env, "migrate", "--noinput", "-v", "0")
    keys = orjson.loads(manage(env, "bootstrap", "--json"))
    project, key = keys["project_id"], keys["personal_api_key"]
    server = start_server(env)
    try:
        people = [("ann", "pro"), ("bob", "free"), ("cat", "pro"), ("dan", "enterprise")]
        batch = [
            {"event": "$set", "distinct_id": name, "properties": {"$set": {"plan": plan}}} for name, plan in people
        ]
        body = gzip.compress(orjson.dumps({"api_key": keys["project_api_key"], "batch": batch}))
        assert _http(port, "POST", "/batch/?compression=gzip", body=body)[0] == 200
        persons = f"/api/projects/{project}/persons/"
        _until(lambda: len(_http(port, "GET", persons, key)[1]["results"]) == 4, "the persons")

        cohorts = f"/api/projects/{project}/cohorts/"
        pro = {
            "properties": {
                "type": "AND",
                "values": [{"type": "person", "key": "plan", "value": "pro", "operator": "exact"}],
            }
        }  # noqa: E501
        status, created = _http(port, "POST", cohorts, key, {"name": "Pro", "filters": pro})
        assert status == 201 and created["is_calculating"] is True, created
        item = f"{cohorts}{created['id']}/"
        done = _until(
            lambda: (b := _http(port, "GET", item, key)[1]) and not b["is_calculating"] and b, "a calculation"
        )
        assert (done["count"], done["errors_calculating"]) == (2, 0)
        members = _http(port, "GET", f"{item}persons/", key)[1]["results"]
        assert sorted(m["distinct_ids"][0] for m in members) == ["ann", "cat"]

        paying = {
            "properties": {
                "type": "AND",
                "values": [{"type": "person", "key": "plan", "value": "free", "operator": "is_not"}],
            }
        }  # noqa: E501
        assert _http(port, "PATCH", item, key, {"filters": paying})[1]["is_calculating"] is True
        done = _until(
            lambda: (b := _http(port, "GET", item, key)[1]) and not b["is_calculating"] and b, "a recalculation"
        )
        assert done["count"] == 3
        history = _http(port, "GET", f"{item}calculation_history/", key)[1]
        assert [run["count"] for run in history["results"]] == [3, 2]
    finally:
        kill(server)
