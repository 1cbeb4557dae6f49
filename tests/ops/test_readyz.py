import socket

import pytest

from tests.conftest import require_service


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the socket is released: nothing listens there


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_ready_reports_database_clickhouse_and_the_configured_queue(client, settings):
    res = client.get("/_readyz")
    assert res.status_code == 200, res.json()
    checks = res.json()["checks"]
    assert checks["database"]["ok"] and checks["database"]["pending_migrations"] == 0
    assert checks["clickhouse"] == {"ok": True, "pending_migrations": 0, "backend": "chdb"}
    assert checks["queue"]["ok"] and checks["queue"]["kind"] == settings.INGEST_QUEUE


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_broker_down_is_reported_then_up_again(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{dead_port()}/0"
    down = client.get("/_readyz")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable"
    assert down.json()["checks"]["queue"]["ok"] is False
    assert "Error" in down.json()["checks"]["queue"]["error"]

    require_service("redis", "127.0.0.1", 6379)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    up = client.get("/_readyz")
    assert up.status_code == 200
    assert up.json()["checks"]["queue"] == {"ok": True, "kind": "celery"}


@pytest.mark.django_db
def test_clickhouse_failure_is_reported_not_raised(client):
    # This test is not marked clickhouse, so any ClickHouse access fails: readiness must say so, not crash.
    res = client.get("/_readyz")
    assert res.status_code == 503
    assert res.json()["checks"]["clickhouse"]["ok"] is False
