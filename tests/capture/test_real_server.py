"""The capture edge under the production server (`manage.py serve`: granian by default): what only a real HTTP
server shows — chunked bodies, a 413 answered (not a reset) for an oversized body, keep-alive after it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.server import start_server
from ingestion.spool import Spool
from tests.capture.test_durability import _env, _free_port, _manage

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, Path]]:
    var_dir = tmp_path_factory.mktemp("capture-server")
    port = _free_port()
    env = _env(var_dir, port)
    _manage(env, "migrate", "--noinput", "-v", "0")
    token = json.loads(_manage(env, "bootstrap", "--json"))["project_api_key"]
    proc = start_server(env)
    yield port, token, var_dir
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_chunked_body_is_read(server):
    port, token, var_dir = server
    body = json.dumps({"api_key": token, "batch": [{"event": "chunked", "distinct_id": "d"}]}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/batch/", body=iter([body[:10], body[10:]]), headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    assert (response.status, json.loads(response.read())) == (200, {"status": 1})
    assert "chunked" in [e.event for e in Spool(var_dir / "spool.sqlite3").all_events()]


def test_oversized_body_gets_a_413_answer_and_the_connection_stays_usable(server):
    port, token, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    # the server may answer and close before the refused body is all sent (granian: ~1 in 4 here)
    with contextlib.suppress(BrokenPipeError):
        conn.request("POST", "/e/", body=b" " * (3 * 1024 * 1024), headers={"Content-Type": "text/plain"})
    response = conn.getresponse()  # the 413 is readable either way: closed, not reset
    assert response.status == 413
    assert json.loads(response.read())["code"] == "request_too_large"
    ok = json.dumps({"api_key": token, "event": "after", "distinct_id": "d"}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", "/e/", body=ok, headers={"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
