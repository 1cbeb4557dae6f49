"""Issue 26: the chDB engine of `manage.py serve` is killed alone (`kill -9` of the `manage.py
clickhouse_engine` process, nothing else) while events stream in. Capture does not need the engine, so it
keeps answering 200 into the spool; serve restarts the engine, which replays the batches it had in flight
under their deduplication tokens and drains the rest: ClickHouse ends with every acknowledged event once."""

from __future__ import annotations

import os
import signal

import pytest

from bench.server import kill
from ingestion.spool import Spool
from tests.reliability.processes import Stream, embedded_server, engine_pid, free_port, stored_events, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


def test_the_engine_killed_alone_is_restarted_and_nothing_acknowledged_is_lost_or_duplicated(tmp_path):
    port = free_port()
    # small batches: the kill lands while batches are in flight
    proc, env, token = embedded_server(tmp_path, port, INGEST_BATCH_SIZE="500", INGEST_FLUSH_INTERVAL_MS="50")
    spool = Spool(tmp_path / "spool.sqlite3")
    stream = Stream(port, token, threads=3).start()
    try:
        stream.wait_for(5_000)
        first = engine_pid(proc)
        wait_until(lambda: spool.in_flight() > 0, 30, "no batch in flight to kill the engine under", interval=0.001)
        os.kill(first, signal.SIGKILL)
        killed_at = len(stream.acked)
        stream.wait_for(killed_at + 5_000)  # capture goes on while the engine is down and restarting
        wait_until(lambda: engine_pid(proc) not in (None, first), 60, "serve did not restart the engine")
        stream.wait_for(len(stream.acked) + 5_000)  # and after
        stream.stop()
        wait_until(lambda: spool.depth() == 0, 180, "the restarted engine did not drain the spool")
    finally:
        stream.stop()
        kill(proc, signal.SIGTERM)
    log = (tmp_path / "server.log").read_text()
    assert log.count("clickhouse engine exited; restarting it") == 1, log[-3000:]
    assert log.count("clickhouse engine ready") == 2, log[-3000:]
    assert set(stream.statuses) == {200}, f"capture answered {sorted(set(stream.statuses))}"
    count, stored = stored_events(env, tmp_path)
    acked = set(stream.acked)
    assert len(acked) == len(stream.acked)
    assert stored == acked, f"{len(acked - stored)} acknowledged events lost"
    assert count == len(acked), f"{count - len(acked)} duplicates"
