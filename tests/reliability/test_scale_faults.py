"""Issue 26, scale mode: dependencies going away under the real processes (gunicorn web processes
publishing to Redis, Celery workers writing ClickHouse).

Redis unreachable: the web processes reach Redis (broker and cache) through a TCP proxy the test stops
(connections refused) and then turns into a black hole (connections accepted, never answered). Capture
answers 503 with `Retry-After` within a second each time, never hangs, and answers 200 again once Redis is
back; afterwards the queue holds exactly the events answered 200.

ClickHouse unreachable: the Celery worker reaches chDB through a separate engine process (the way serve's
web processes do; ``tests/reliability/celery_via_engine.py``), which the test kills while events stream in
and starts again OUTAGE_SECONDS later. Capture keeps answering 200 (Redis takes the events), the worker
retries with backoff (its log says so), and once ClickHouse is back every acknowledged event is written,
once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from bench.server import ROOT, kill, manage, server_env
from tests.conftest import require_service
from tests.ops.scale import REDIS, django_database, queue_drained, redis_client, start_gunicorn
from tests.reliability.processes import Stream, batch, free_port, post, stored_events, wait_until
from tests.reliability.proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.own_processes]
BROKER_DB, CACHE_DB = 12, 13
OUTAGE_SECONDS = 30
UNAVAILABLE = {
    "type": "server_error",
    "code": "server_error",
    "detail": "Unable to store event. Please try again.",
    "attr": None,
}


@contextmanager
def scale_env(tmp_path: Path, redis_port: int, **extra: str) -> Iterator[tuple[dict[str, str], str]]:
    """A scale-mode environment (its own Django database, Redis at ``redis_port``, chDB in tmp_path) with
    migrations run; yields it and the project API key."""
    require_service("redis", *REDIS)
    redis_client(BROKER_DB).flushdb()
    redis_client(CACHE_DB).flushdb()
    with django_database(tmp_path) as database_url:
        env = server_env(
            tmp_path, free_port(), DATABASE_URL=database_url, CLICKHOUSE_MIGRATE_ON_START="false",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/{BROKER_DB}", CELERY_VISIBILITY_TIMEOUT="3600",
            CACHE_URL=f"redis://127.0.0.1:{redis_port}/{CACHE_DB}", **extra,
        )  # fmt: skip
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "migrate_clickhouse")
        yield env, orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]


REFUSAL_SECONDS: list[float] = []


def _capture(port: int, token: str, acked: list[str], refused: list[str]) -> int:
    payload, uuids = batch(token, 20)
    answer = post(port, "/batch/", payload, timeout=10)
    if answer.status == 200:
        acked.extend(uuids)
        return 200
    refused.extend(uuids)
    assert answer.status == 503, answer
    assert orjson.loads(answer.body) == UNAVAILABLE and answer.headers["Retry-After"] == "5"
    assert answer.seconds < 1, f"capture took {answer.seconds:.2f}s to answer 503"
    REFUSAL_SECONDS.append(answer.seconds)
    return 503


def test_redis_unreachable_gives_503_within_a_second_and_capture_resumes(tmp_path):
    proxy = TcpProxy(free_port(), REDIS)
    acked: list[str] = []
    refused: list[str] = []
    try:
        with scale_env(tmp_path, proxy.port) as (env, token):
            port = int(env["PORT"])
            web = start_gunicorn(env, workers=2, access_log=tmp_path / "access.log")
            try:
                assert [_capture(port, token, acked, refused) for _ in range(10)] == [200] * 10
                proxy.refuse()  # Redis is down: nothing listens
                assert [_capture(port, token, acked, refused) for _ in range(10)] == [503] * 10
                proxy.forward()
                assert [_capture(port, token, acked, refused) for _ in range(10)] == [200] * 10
                proxy.blackhole()  # Redis hangs: connections accepted, nothing answered
                assert [_capture(port, token, acked, refused) for _ in range(10)] == [503] * 10
                proxy.forward()
                assert [_capture(port, token, acked, refused) for _ in range(10)] == [200] * 10
            finally:
                kill(web, signal.SIGTERM)
            manage(env, "ingest_flush")  # the queued events into ClickHouse (this process owns chDB)
            assert queue_drained(BROKER_DB)
            count, stored = stored_events(env, tmp_path)
    finally:
        proxy.close()
    assert stored == set(acked), f"{len(set(acked) - stored)} acknowledged events lost"
    assert not stored & set(refused), "an event answered 503 was stored"
    assert count == len(acked)
    print(f"503 answered in {min(REFUSAL_SECONDS):.3f}-{max(REFUSAL_SECONDS):.3f} s")


def _start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _start_engine(env: dict[str, str], log: Path) -> subprocess.Popen:
    ready = log.read_text().count("clickhouse engine ready") if log.exists() else 0
    engine = _start(env, log, "manage.py", "clickhouse_engine")
    wait_until(lambda: log.read_text().count("clickhouse engine ready") > ready, 60, "the engine did not start")
    return engine


def test_clickhouse_unreachable_while_events_arrive_loses_and_duplicates_nothing(tmp_path):
    with scale_env(tmp_path, REDIS[1]) as (env, token):
        port, engine_log, worker_log = int(env["PORT"]), tmp_path / "engine.log", tmp_path / "worker.log"
        engine = _start_engine(env, engine_log)
        worker = _start(
            env, worker_log, "-m", "tests.reliability.celery_via_engine",
            "worker", "-Q", "ingestion", "--pool", "solo", "-l", "warning",
        )  # fmt: skip
        web = start_gunicorn(env, workers=2, access_log=tmp_path / "access.log")
        stream = Stream(port, token, threads=2, events_per_request=20, pause=0.05).start()
        try:
            stream.wait_for(2_000)
            os.kill(engine.pid, signal.SIGKILL)  # ClickHouse is gone
            engine.wait()
            down_at = len(stream.acked)
            time.sleep(OUTAGE_SECONDS)
            assert len(stream.acked) > down_at + 1_000, "capture stalled while ClickHouse was down"
            engine = _start_engine(env, engine_log)  # ClickHouse is back
            stream.wait_for(len(stream.acked) + 1_000)
            stream.stop()
            wait_until(lambda: queue_drained(BROKER_DB), 240, "the worker did not catch up", interval=0.5)
        finally:
            stream.stop()
            kill(web, signal.SIGTERM)
            kill(worker, signal.SIGTERM)
            kill(engine, signal.SIGTERM)  # it closes chDB for the count below
        count, stored = stored_events(env, tmp_path)
    retries = [line for line in worker_log.read_text().splitlines() if "retryable ClickHouse error" in line]
    assert retries, "the worker never retried: ClickHouse was not away while it worked"
    assert set(stream.statuses) == {200}, f"capture answered {sorted(set(stream.statuses))}"
    assert stored == set(stream.acked), f"{len(set(stream.acked) - stored)} acknowledged events lost"
    assert count == len(stream.acked), f"{count - len(stream.acked)} duplicates"
    print(f"{len(stream.acked):,} events, {down_at:,} before the outage; {len(retries)} retry warnings")
