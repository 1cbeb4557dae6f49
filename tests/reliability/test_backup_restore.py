"""Issue 26: `manage.py backup` of the embedded default taken while the real server captures, and
`manage.py restore` into a fresh VAR_DIR. Every event acknowledged before the backup started is there
after the restore (in ClickHouse, or in the restored spool, written by the restored server's first run),
none twice, with its person and its event and property definitions; the server that was backed up lost
nothing meanwhile (ingestion paused for the copy, capture went on); both commands show progress."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import orjson
import pytest

from bench.server import ROOT, kill, manage, server_env, start_server, wait_healthy
from ingestion.spool import Spool
from tests.reliability.processes import Stream, embedded_server, free_port, stored_events, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]

_DJANGO_FACTS = (
    "import orjson, pathlib\n"
    "from persons.models import PersonDistinctId\n"
    "from definitions.models import EventDefinition, PropertyDefinition\n"
    "facts = {'distinct_ids': sorted(PersonDistinctId.objects.values_list('distinct_id', flat=True)),\n"
    "         'events': sorted(EventDefinition.objects.values_list('name', flat=True)),\n"
    "         'properties': sorted(PropertyDefinition.objects.values_list('name', flat=True))}\n"
    "pathlib.Path(OUT).write_bytes(orjson.dumps(facts))"
)


def _django_facts(env: dict[str, str], out) -> dict:
    manage(env, "shell", "-c", _DJANGO_FACTS.replace("OUT", repr(str(out))))
    return orjson.loads(out.read_bytes())


def _drain(env: dict[str, str], port: int) -> None:
    """Run the server on ``env``'s VAR_DIR until its spool is written, then stop it."""
    proc = start_server(env)
    try:
        wait_healthy(proc, port, path="/_readyz")
        spool = Spool(env["VAR_DIR"] + "/spool.sqlite3")
        wait_until(lambda: spool.depth() == 0, 180, "the spool did not drain")
    finally:
        kill(proc, signal.SIGTERM)


def test_a_backup_taken_while_serving_restores_every_event_person_and_definition(tmp_path):
    source, backup_dir, target = tmp_path / "source", tmp_path / "backup", tmp_path / "target"
    port = free_port()
    proc, env, token = embedded_server(source, port, INGEST_BATCH_SIZE="2000", INGEST_FLUSH_INTERVAL_MS="100")
    stream = Stream(port, token, threads=2, events_per_request=100)
    stream.start()
    try:
        stream.wait_for(20_000)
        before = len(stream.acked)
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "manage.py", "backup", "--out", str(backup_dir)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        took = time.monotonic() - started
        after = len(stream.acked)
        stream.wait_for(after + 2_000)  # capture went on
        stream.stop()
        spool = Spool(source / "spool.sqlite3")
        wait_until(lambda: spool.depth() == 0, 180, "the backed-up server did not drain after the backup")
    finally:
        stream.stop()
        kill(proc, signal.SIGTERM)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "backup written to" in run.stdout
    shown = {line.split()[0] for line in run.stderr.splitlines() if "100%" in line}
    assert {"database", "spool", "clickhouse"} <= shown, run.stderr  # progress was shown, to the end
    assert set(stream.statuses) == {200}, f"capture answered {sorted(set(stream.statuses))} during the backup"
    source_count, source_stored = stored_events(env, source)
    assert source_stored == set(stream.acked) and source_count == len(stream.acked), "the source lost or doubled"

    target_env = server_env(target, port, INGEST_WORKER_IN_PROCESS="true", INGEST_FLUSH_INTERVAL_MS="100")
    restored = subprocess.run(
        [sys.executable, "manage.py", "restore", str(backup_dir)],
        cwd=ROOT, env=target_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert "restored:" in restored.stdout
    assert {"database", "spool", "clickhouse"} <= {line.split()[0] for line in restored.stderr.splitlines() if line}
    _drain(target_env, port)  # the restored spool's events are written by the restored server
    count, stored = stored_events(target_env, target)
    must = set(stream.acked[:before])  # acknowledged before the backup started
    may = set(stream.acked[:after])  # ... or before it ended
    assert must <= stored, f"{len(must - stored)} events acknowledged before the backup are missing"
    assert stored <= may, f"{len(stored - may)} restored events were never acknowledged before the backup ended"
    assert count == len(stored), f"{count - len(stored)} duplicates"

    facts = _django_facts(target_env, tmp_path / "facts.json")
    source_facts = _django_facts(env, tmp_path / "source_facts.json")
    assert set(facts["distinct_ids"]) == {f"d{u[:2]}" for u in stored}  # a person for every distinct id
    assert facts["events"] == source_facts["events"] == ["fault"]
    assert facts["properties"] == source_facts["properties"] and facts["properties"]
    print(f"backup of {before:,}+ events took {took:.1f} s")
