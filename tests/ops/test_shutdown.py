"""Stopping the real server (`manage.py serve`, embedded default): SIGTERM to serve, or Ctrl-C (SIGINT to
the whole process group, or to serve alone), stops the web processes and then the engine; nothing is
restarted, an idle server is gone within 5 s, and a stop in the middle of ingestion loses and duplicates
no acknowledged event (the spool replays what was not written at the next start, deduplicated)."""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import orjson
import pytest

from bench.server import (
    ROOT,
    clickhouse_rows,
    free_port,
    kill,
    manage,
    post_batch,
    server_env,
    start_server,
    wait_healthy,
)
from ingestion.spool import Spool

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


def _children(pid: int) -> set[int]:
    """Every live descendant of ``pid``, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _ready_server(tmp_path: Path, **extra: str) -> tuple[subprocess.Popen, dict[str, str]]:
    # the embedded default (the test settings turn the in-process worker off for the test process)
    env = server_env(tmp_path, free_port(), INGEST_WORKER_IN_PROCESS="true", **extra)
    manage(env, "migrate", "--noinput", "-v", "0")
    proc = start_server(env)
    wait_healthy(proc, env["PORT"], path="/_readyz")  # the engine answers too
    return proc, env


def _log(env: dict[str, str]) -> str:
    return (Path(env["VAR_DIR"]) / "server.log").read_text()


@pytest.mark.parametrize(
    ("sig", "target"),
    [(signal.SIGTERM, "serve"), (signal.SIGINT, "group"), (signal.SIGINT, "serve"), (signal.SIGTERM, "every")],
    ids=["sigterm", "ctrl-c", "sigint-to-serve", "sigterm-to-every-process"],
)
def test_an_idle_server_stops_within_5s_and_restarts_nothing(tmp_path, sig, target):
    proc, env = _ready_server(tmp_path)
    children = _children(proc.pid)
    engines = {pid for pid in children if "clickhouse_engine" in _cmdline(pid)}
    assert len(engines) == 1 and len(children) == 3, {pid: _cmdline(pid) for pid in children}  # 2 web processes
    try:
        started = time.monotonic()
        if target == "group":  # what a terminal's Ctrl-C does: the foreground process group gets SIGINT
            os.killpg(proc.pid, sig)
        elif target == "every":  # what a service manager does (systemd's control group): the engine too
            os.killpg(proc.pid, sig)
            for engine in engines:
                os.kill(engine, sig)
        else:
            proc.send_signal(sig)
        returncode = proc.wait(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        kill(proc)
    log = _log(env)
    assert elapsed <= 5, f"serve took {elapsed:.1f}s to stop\n{log}"
    assert returncode == 0, log
    assert "restarting" not in log, log
    assert "clickhouse engine stopped" in log, log  # stopped by serve, not killed when serve died
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], log
    assert len(engines | children) == 3  # no engine was started besides the first one


def test_an_engine_that_dies_while_serving_is_restarted_and_the_restarted_one_stops_with_serve(tmp_path):
    proc, env = _ready_server(tmp_path)
    try:
        [engine] = [pid for pid in _children(proc.pid) if "clickhouse_engine" in _cmdline(pid)]
        os.kill(engine, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            engines = [pid for pid in _children(proc.pid) if "clickhouse_engine" in _cmdline(pid) and pid != engine]
            if engines and _log(env).count("clickhouse engine ready") == 2:
                break
            time.sleep(0.2)
        assert engines, _log(env)
        wait_healthy(proc, env["PORT"], path="/_readyz")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        elapsed = time.monotonic() - started
    finally:
        kill(proc)
    log = _log(env)
    assert log.count("restarting") == 1 and log.count("clickhouse engine ready") == 2, log
    assert elapsed <= 5 and "clickhouse engine stopped" in log, log
    assert not _alive(engines[0])


def test_a_stop_during_ingestion_loses_and_duplicates_nothing(tmp_path):
    proc, env = _ready_server(tmp_path, INGEST_BATCH_SIZE="250", INGEST_FLUSH_INTERVAL_MS="100")
    token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
    spool = Spool(tmp_path / "spool.sqlite3")
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def stream() -> None:
        while not enough.is_set():
            batch = [{"event": "stop", "distinct_id": f"d{i % 11}", "uuid": str(uuid.uuid4())} for i in range(200)]
            status = post_batch(env["PORT"], gzip.compress(orjson.dumps({"api_key": token, "batch": batch})))
            assert status == 200
            with lock:
                acknowledged.extend(e["uuid"] for e in batch)
                if len(acknowledged) >= 30_000:
                    enough.set()

    threads = [threading.Thread(target=stream) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        backlog = spool.depth()
        proc.send_signal(signal.SIGTERM)  # while the worker writes the backlog
        assert proc.wait(timeout=60) == 0, _log(env)
    finally:
        enough.set()
        kill(proc)
    log = _log(env)
    assert backlog >= 1000, f"the worker kept up: no backlog to stop in the middle of ({backlog})"
    assert "restarting" not in log, log
    assert "clickhouse engine stopped" in log, log
    left = spool.depth()
    assert left > 0, "the stop left nothing to replay: it did not happen during ingestion"

    proc = start_server(env)  # the same VAR_DIR: the spool replays what the stop left
    try:
        deadline = time.monotonic() + 300
        while spool.depth() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert spool.depth() == 0
    finally:
        kill(proc, signal.SIGTERM)
    [[count, unique]] = clickhouse_rows(env, "SELECT count(), uniqExact(uuid) FROM EVENTS", tmp_path / "c.json")
    stored = {u for [u] in clickhouse_rows(env, "SELECT toString(uuid) FROM EVENTS", tmp_path / "u.json")}
    assert len(set(acknowledged)) == len(acknowledged)
    assert stored == set(acknowledged), f"{len(set(acknowledged) - stored)} acknowledged events lost ({left} left)"
    assert count == unique == len(acknowledged), f"{count - unique} duplicates"


_ENGINE_WHOSE_EXIT_HANGS = """
import threading
import django
django.setup()
from django.core.management import call_command
from posthog_clone.server.management.commands import clickhouse_engine

stop = clickhouse_engine.on_engine_stop

def stop_and_leave_a_thread_that_never_ends(timeout):
    stop(timeout)
    threading.Thread(target=threading.Event().wait, name="never-ends").start()  # joined at exit: forever

clickhouse_engine.on_engine_stop = stop_and_leave_a_thread_that_never_ends
call_command("clickhouse_engine")
"""


def test_an_engine_whose_exit_hangs_is_ended_by_its_exit_alarm(tmp_path):
    """A real engine process whose way out hangs (here: a non-daemon thread that never ends, which Python
    joins before exiting) is gone within EXIT_WITHIN_SECONDS of its stop, by SIGALRM: serve never waits on it."""
    from posthog_clone.server.management.commands.clickhouse_engine import EXIT_WITHIN_SECONDS

    env = server_env(tmp_path, free_port(), DJANGO_SETTINGS_MODULE="posthog_clone.settings")
    manage(env, "migrate", "--noinput", "-v", "0")
    log = tmp_path / "engine.log"
    with log.open("ab") as out:
        engine = subprocess.Popen(
            [sys.executable, "-c", _ENGINE_WHOSE_EXIT_HANGS],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "clickhouse engine ready" not in log.read_text():
            assert engine.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        engine.send_signal(signal.SIGTERM)
        started = time.monotonic()
        returncode = engine.wait(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        kill(engine)
    assert "clickhouse engine stopped" in log.read_text()
    assert returncode == -signal.SIGALRM, log.read_text()
    assert elapsed <= EXIT_WITHIN_SECONDS + 2, f"{elapsed:.1f}s"
