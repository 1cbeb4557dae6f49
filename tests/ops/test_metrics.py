import pytest


@pytest.mark.django_db
def test_metrics_are_prometheus_text_and_count_requests(client):
    client.get("/_health")
    body = client.get("/_metrics").content.decode()
    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "capture_events_accepted_total",
        "ingestion_events_written_total",
        "ingestion_events_dropped_total",
        "ingestion_queue_depth",
        "ingestion_queue_messages",
        "clickhouse_insert_duration_seconds_bucket",
    ):
        assert f"\n{name}" in body or body.startswith(name) or f"# TYPE {name.removesuffix('_bucket')}" in body, name

    def count(text: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith('http_requests_total{method="GET",status="200"}'))
        return float(line.rsplit(" ", 1)[1])

    before = count(body)
    client.get("/_health")
    assert count(client.get("/_metrics").content.decode()) >= before + 1


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_event_counters_move_when_events_are_posted_and_written(client, project, settings):
    from ingestion.worker import flush

    def value(name: str) -> float:
        text = client.get("/_metrics").content.decode()
        return float(next(line for line in text.splitlines() if line.startswith(name + " ")).rsplit(" ", 1)[1])

    accepted, written = value("capture_events_accepted_total"), value("ingestion_events_written_total")
    batch = {"api_key": project.team.api_token, "batch": [{"event": "m", "distinct_id": "d"} for _ in range(3)]}
    assert client.post("/batch/", batch, content_type="application/json").status_code == 200
    assert value("capture_events_accepted_total") == accepted + 3
    if settings.INGEST_QUEUE == "spool":
        assert value("ingestion_queue_depth") >= 3
    else:  # one message per capture request on the broker
        assert value("ingestion_queue_messages") >= 1
    flush()
    assert value("ingestion_events_written_total") == written + 3
    assert value("ingestion_queue_depth" if settings.INGEST_QUEUE == "spool" else "ingestion_queue_messages") == 0
