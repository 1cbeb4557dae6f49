"""Acceptance 5: scale mode. The real server (CELERY_BROKER_URL set) publishes posted events to Redis, a
real `celery -A posthog_clone worker` writes them to ClickHouse; a worker SIGKILLed mid-batch loses
nothing (late ack → redelivery, uuid-derived insert token → no duplicates)."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import urllib.request
import uuid

import orjson
import pytest

from tests.conftest import require_service
from tests.ingestion.server import ROOT, clickhouse_rows, free_port, kill, manage, server_env, start_server
from tests.ops.scale import django_database

pytestmark = pytest.mark.slow
REDIS_DB = 13
MESSAGES = 100


def _redis():
    import redis

    return redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)


def _start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # --pool solo: chDB belongs to one process
        [sys.executable, "-m", "celery", "-A", "posthog_clone", "worker", "--pool", "solo", "-l", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _post(port: int, token: str, uuids: list[str]) -> None:
    batch = [{"event": "celery", "distinct_id": f"d{i % 5}", "uuid": u} for i, u in enumerate(uuids)]
    body = gzip.compress(orjson.dumps({"api_key": token, "batch": batch}))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/batch/?compression=gzip", data=body)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def _queue_empty() -> bool:
    r = _redis()
    return r.llen("ingestion") == 0 and r.hlen("unacked") == 0


@pytest.fixture
def database_url(tmp_path):
    """A fresh PostgreSQL database when the suite runs on PostgreSQL, else SQLite in tmp_path."""
    with django_database(tmp_path) as url:
        yield url


@pytest.mark.redis
def test_celery_worker_writes_posted_events_and_a_killed_worker_loses_nothing(tmp_path, database_url):
    require_service("redis", "127.0.0.1", 6379)
    _redis().flushdb()
    port = free_port()
    env = server_env(
        tmp_path, port, CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{REDIS_DB}", CLICKHOUSE_MIGRATE_ON_START="false",
        CELERY_VISIBILITY_TIMEOUT="3", DATABASE_URL=database_url,
    )  # fmt: skip
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "migrate_clickhouse")
    token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
    server = start_server(env)  # scale mode: no in-process worker, the server never opens chDB
    sent: list[str] = []
    worker = None
    try:
        for _ in range(MESSAGES):
            uuids = [str(uuid.uuid4()) for _ in range(100)]
            _post(port, token, uuids)
            sent.extend(uuids)
        worker = _start_worker(env)
        deadline = time.monotonic() + 60
        while _redis().llen("ingestion") > MESSAGES - 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        kill(worker)  # mid-stream: some messages written, prefetched ones unacknowledged
        assert not _queue_empty()
        worker = _start_worker(env)
        deadline = time.monotonic() + 120
        while not _queue_empty() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _queue_empty()
        time.sleep(1)
    finally:
        if worker is not None:
            kill(worker, 15)
        kill(server)
    [[count, unique]] = clickhouse_rows(env, "SELECT count(), uniqExact(uuid) FROM EVENTS", tmp_path / "c.json")
    stored = {u for [u] in clickhouse_rows(env, "SELECT toString(uuid) FROM EVENTS", tmp_path / "u.json")}
    assert set(sent) <= stored, f"{len(set(sent) - stored)} events lost"
    assert count == unique == len(sent)


def _request(envelopes, *, redelivered: bool = False, retries: int = 0):
    from celery_batches import SimpleRequest

    return SimpleRequest(
        id=str(uuid.uuid4()), name="ingestion.tasks.ingest_events", args=([e.to_dict() for e in envelopes],),
        kwargs={"retries": retries} if retries else {}, delivery_info={"redelivered": redelivered},
        hostname="test", ignore_result=True, reply_to=None, correlation_id=None, request_dict={},
    )  # fmt: skip


def _inserts() -> float:
    from posthog_clone.metrics import INSERT_LATENCY

    return next(s.value for m in INSERT_LATENCY.collect() for s in m.samples if s.name.endswith("_count"))


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_buffered_messages_are_written_as_one_insert(team):
    from ingestion.tasks import ingest_events
    from tests.ingestion.conftest import envelope
    from tests.ingestion.helpers import events_rows

    messages = [[envelope(team, "e", f"d{m}-{i}") for i in range(3)] for m in range(4)]
    before = _inserts()
    assert ingest_events([_request(msg) for msg in messages]) == 12
    assert _inserts() == before + 1
    assert len(events_rows(team.pk)) == 12


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_a_redelivered_message_regrouped_with_others_is_not_duplicated(team):
    from ingestion.tasks import ingest_events
    from posthog_clone.clickhouse import get_client, table
    from tests.ingestion.conftest import envelope

    first, second = [envelope(team, "e", "a"), envelope(team, "e", "b")], [envelope(team, "e", "c")]
    ingest_events([_request(first)])  # written, but the worker died before acknowledging
    assert ingest_events([_request(second), _request(first, redelivered=True)]) == 1
    res = get_client().query(f"SELECT count(), uniqExact(uuid) FROM {table('events')} WHERE team_id = {team.pk}")
    assert res.rows == [(3, 3)]


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_a_message_out_of_retries_becomes_a_dead_letter_and_the_batch_does_not_raise(team):
    from ingestion.models import DeadLetter
    from ingestion.tasks import MAX_RETRIES, ingest_events
    from tests.ingestion.conftest import envelope

    doomed = envelope(team, "e", "x")
    doomed.team_id = 987_654  # no such project: the persons write fails every time
    assert ingest_events([_request([doomed], retries=MAX_RETRIES)]) == 0
    [letter] = DeadLetter.objects.all()
    assert letter.payload["uuid"] == doomed.uuid and letter.error.startswith("out of retries"), letter.error
    assert "foreign key" in letter.error.lower(), letter.error


@pytest.mark.redis
@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_drain_writes_what_capture_published_to_the_broker(team, client):
    """In the Celery-mode suite (CELERY_BROKER_URL set: CI's second run) capture publishes to Redis and
    `drain` writes it the way a worker does, acknowledging each message after the write."""
    from django.conf import settings

    from ingestion.tasks import drain
    from tests.ingestion.helpers import events_rows

    if not settings.CELERY_BROKER_URL:
        pytest.skip("needs the suite in Celery mode (CELERY_BROKER_URL), as in CI's second run")
    settings.INGEST_QUEUE = "celery"  # tests/ingestion/conftest.py pins the spool for the other tests
    drain()  # whatever an earlier test left behind
    sent = [[str(uuid.uuid4()) for _ in range(5)] for _ in range(3)]
    for uuids in sent:
        batch = {"api_key": team.api_token, "batch": [{"event": "e", "distinct_id": "d", "uuid": u} for u in uuids]}
        assert client.post("/batch/", batch, content_type="application/json").status_code == 200
    assert drain() == 15
    assert {r["uuid"] for r in events_rows(team.pk)} == {u for uuids in sent for u in uuids}
    assert drain() == 0
