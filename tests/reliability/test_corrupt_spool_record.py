"""Issue 26: a spool record damaged on disk. Events are acknowledged by the real server with its worker off
(they wait in the spool), the server stops, one row's bytes are damaged in the file (a flipped bit inside
its LZ4 frame, whose checksum then fails), and the server starts again with its worker: the damaged row is
quarantined with a warning in the log (listed by `manage.py dead_letters`), every other acknowledged event
is in ClickHouse exactly once and the spool is empty."""

from __future__ import annotations

import signal
import sqlite3

import orjson
import pytest

from bench.server import kill, manage, start_server, wait_healthy
from ingestion.spool import Spool
from tests.reliability.processes import batch, embedded_server, free_port, post, stored_events, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


def test_a_corrupt_spool_record_is_quarantined_with_a_warning_and_the_rest_drains(tmp_path):
    port = free_port()
    proc, env, token = embedded_server(tmp_path, port, INGEST_WORKER_IN_PROCESS="false")
    requests: list[list[str]] = []
    try:
        for _ in range(5):
            payload, uuids = batch(token, 40)
            assert post(port, "/batch/", payload).status == 200
            requests.append(uuids)
    finally:
        kill(proc, signal.SIGTERM)
    spool_path = tmp_path / "spool.sqlite3"
    with sqlite3.connect(spool_path) as conn:
        [(row_id, payload)] = conn.execute("SELECT id, payload FROM spool ORDER BY id LIMIT 1 OFFSET 2").fetchall()
        damaged = payload[:50] + bytes([payload[50] ^ 0x04]) + payload[51:]
        conn.execute("UPDATE spool SET payload = ? WHERE id = ?", (damaged, row_id))

    env["INGEST_WORKER_IN_PROCESS"] = "true"
    env["INGEST_FLUSH_INTERVAL_MS"] = "100"
    proc = start_server(env)
    try:
        wait_healthy(proc, port, path="/_readyz")
        spool = Spool(spool_path)
        wait_until(lambda: spool.depth() == 0, 120, "the spool did not drain past the damaged row")
        listed = manage(env, "dead_letters")
    finally:
        kill(proc, signal.SIGTERM)
    lines = [orjson.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line[:1] == "{"]
    [warning] = [line for line in lines if line["msg"] == "corrupt spool row quarantined"]
    assert (warning["level"], warning["row"], warning["events"]) == ("warning", row_id, 40)
    assert "RuntimeError" in warning["error"]  # LZ4's checksum
    [quarantined] = Spool(spool_path).quarantined()
    assert (quarantined.id, quarantined.n, quarantined.payload) == (row_id, 40, damaged)
    assert f"spool-row-{row_id}\t40 events\t" in listed
    count, stored = stored_events(env, tmp_path)
    kept = {u for i, uuids in enumerate(requests) if i != 2 for u in uuids}
    assert stored == kept, f"{len(kept - stored)} acknowledged events lost, {len(stored - kept)} unexpected"
    assert count == len(kept)
