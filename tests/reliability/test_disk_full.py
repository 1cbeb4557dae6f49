"""Issue 26: the spool's disk refuses writes while the real server captures. The web processes of
`manage.py serve` get a file-size limit of one byte (RLIMIT_FSIZE through prlimit: every write past the
first byte of any file fails with EFBIG, as a write to a full disk fails with ENOSPC: SQLite fails the
commit) and then get their limit back; the engine keeps its own. Meanwhile capture answers 503 with `Retry-After` and
PostHog's error body, never 200; afterwards it answers 200 again, and ClickHouse holds exactly the events
answered 200 (none of the refused ones, no duplicates)."""

from __future__ import annotations

import resource
import signal

import orjson
import pytest

from bench.server import kill
from ingestion.spool import Spool
from tests.reliability.processes import batch, embedded_server, free_port, post, stored_events, wait_until, web_pids

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]
UNAVAILABLE = {
    "type": "server_error",
    "code": "server_error",
    "detail": "Unable to store event. Please try again.",
    "attr": None,
}


def _send(port: int, token: str, path: str, acked: list[str], refused: list[str]) -> int:
    payload, uuids = batch(token, 20)
    if path == "/e/":  # one event, PostHog's single-event body
        payload, uuids = {"api_key": token, **payload["batch"][0]}, uuids[:1]
    answer = post(port, path, payload)
    if answer.status == 200:
        acked.extend(uuids)
    else:
        refused.extend(uuids)
        assert answer.status == 503, answer
        assert orjson.loads(answer.body) == UNAVAILABLE
        assert answer.headers["Retry-After"] == "5"
        assert answer.seconds < 5, f"a refusal took {answer.seconds:.1f}s"
    return answer.status


def test_a_disk_that_refuses_writes_gives_503_with_retry_after_then_capture_recovers(tmp_path):
    port = free_port()
    proc, env, token = embedded_server(tmp_path, port, INGEST_FLUSH_INTERVAL_MS="100")
    acked: list[str] = []
    refused: list[str] = []
    try:
        assert [_send(port, token, path, acked, refused) for path in ("/batch/", "/e/") * 3] == [200] * 6
        web = web_pids(proc)
        assert len(web) == 2
        limits = {pid: resource.prlimit(pid, resource.RLIMIT_FSIZE) for pid in web}
        for pid, (_soft, hard) in limits.items():
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))  # the disk is full for capture
        try:
            during = [_send(port, token, path, acked, refused) for path in ("/batch/", "/e/") * 10]
        finally:
            for pid, limit in limits.items():
                resource.prlimit(pid, resource.RLIMIT_FSIZE, limit)  # space came back
        assert during == [503] * 20
        assert [_send(port, token, path, acked, refused) for path in ("/batch/", "/e/") * 3] == [200] * 6
        spool = Spool(tmp_path / "spool.sqlite3")
        wait_until(lambda: spool.depth() == 0, 120, "the engine did not drain the spool")
    finally:
        kill(proc, signal.SIGTERM)
    count, stored = stored_events(env, tmp_path)
    assert len(refused) == 10 * 20 + 10 * 1
    assert stored == set(acked), f"{len(set(acked) - stored)} acknowledged events lost"
    assert not stored & set(refused), "an event answered 503 was stored"
    assert count == len(acked), f"{count - len(acked)} duplicates"
