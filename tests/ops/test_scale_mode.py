"""Issue 9, acceptance 4: scale mode end to end. Gunicorn with two worker processes (Celery mode: they only
publish to Redis and never open chDB) and a real `celery worker` process over the real Redis; events are
posted concurrently so both web processes answer, the Celery worker is SIGKILLed once mid-stream, and
every 200-acknowledged event is in ClickHouse exactly once afterwards; one scrape of /_metrics counts every
process (web and Celery, sharing PROMETHEUS_MULTIPROC_DIR). chDB allows one process per data
directory, so it is read once the worker has stopped. On PostgreSQL (CI's second run) the Django side is
a fresh PostgreSQL database."""

from __future__ import annotations

import gzip
import threading
import time
import urllib.request
import uuid

import orjson
import pytest

from bench.server import clickhouse_rows, free_port, kill, manage, server_env
from tests.conftest import require_service
from tests.ops.scale import (
    django_database,
    has_chdb_loaded,
    queue_drained,
    redis_client,
    start_celery_worker,
    start_gunicorn,
    worker_pids,
)

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.own_processes]
BROKER_DB, CACHE_DB = 12, 11
SENDERS, REQUESTS_EACH, EVENTS_PER_REQUEST = 4, 40, 50


def _post(port: int, token: str, uuids: list[str]) -> bool:
    batch = [{"event": "scale", "distinct_id": f"user-{u[:2]}", "uuid": u} for u in uuids]
    body = gzip.compress(orjson.dumps({"api_key": token, "batch": batch}))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/batch/?compression=gzip", data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status == 200
    except OSError:
        return False


def _send(port: int, token: str, acked: list[str], failures: list[int]) -> None:
    for _ in range(REQUESTS_EACH):
        uuids = [str(uuid.uuid4()) for _ in range(EVENTS_PER_REQUEST)]
        if _post(port, token, uuids):
            acked.extend(uuids)
        else:
            failures.append(1)


def test_two_web_processes_and_a_celery_worker_store_every_acknowledged_event_once(tmp_path):
    require_service("redis", "127.0.0.1", 6379)
    redis_client(BROKER_DB).flushdb()
    port = free_port()
    with django_database(tmp_path) as database_url:
        env = server_env(
            tmp_path, port, DATABASE_URL=database_url, CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{BROKER_DB}",
            CACHE_URL=f"redis://127.0.0.1:6379/{CACHE_DB}", CLICKHOUSE_MIGRATE_ON_START="false",
            CELERY_VISIBILITY_TIMEOUT="3", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
        )  # fmt: skip
        (tmp_path / "metrics").mkdir()
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "migrate_clickhouse")
        token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
        web = start_gunicorn(env, workers=2, access_log=tmp_path / "access.log")
        worker = start_celery_worker(env)
        acked: list[str] = []
        failures: list[int] = []
        try:
            senders = [threading.Thread(target=_send, args=(port, token, acked, failures)) for _ in range(SENDERS)]
            for sender in senders:
                sender.start()
            while len(acked) < SENDERS * REQUESTS_EACH * EVENTS_PER_REQUEST // 3:
                time.sleep(0.01)
            kill(worker)  # mid-stream: its prefetched messages are unacknowledged and come back
            worker = start_celery_worker(env)
            for sender in senders:
                sender.join()
            web_pids = worker_pids(web)
            assert len(web_pids) == 2
            assert not any(has_chdb_loaded(pid) for pid in web_pids), "a web process loaded chDB"
            deadline = time.monotonic() + 180
            while not queue_drained(BROKER_DB) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert queue_drained(BROKER_DB)
            metrics = _scrape(port)  # one web process answers for both, and for the Celery workers
        finally:
            kill(worker, 15)  # warm shutdown: the worker closes chDB
            kill(web, 15)
        served_by = {
            line.split()[0] for line in (tmp_path / "access.log").read_text().splitlines() if " 200 /batch/" in line
        }
        assert len(served_by) == 2, f"capture answered by {served_by}"
        assert not failures
        [[count, unique]] = clickhouse_rows(env, "SELECT count(), uniqExact(uuid) FROM EVENTS", tmp_path / "c.json")
        stored = {u for [u] in clickhouse_rows(env, "SELECT toString(uuid) FROM EVENTS", tmp_path / "u.json")}
    assert set(acked) <= stored, f"{len(set(acked) - stored)} acknowledged events lost"
    assert count == unique == len(acked)
    assert metrics["capture_events_accepted_total"] == len(acked)
    # the killed worker's counts stay; a message it wrote but had not acknowledged is written (and counted) again
    assert metrics["ingestion_events_written_total"] >= len(acked)


def _scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_metrics", timeout=10) as response:
        lines = response.read().decode().splitlines()
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))}
