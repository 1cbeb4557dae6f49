"""POST /api/projects/:id/exports/ — validation bodies (§A6), the 201 shape (§A3), the lifecycle (§A7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from exports import worker
from exports.models import ExportedAsset
from tests.auth_matrix import assert_auth_matrix
from tests.exports.conftest import CSV, create, exports_url, hogql, insert_events, wait_for_content
from tests.queues import broker_unreachable

FIELDS = {
    "id", "dashboard", "insight", "export_format", "created_at", "has_content", "export_context", "filename",
    "expires_after", "exception",
}  # fmt: skip


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.content
    return response.json()


def test_auth_matrix(project: Any, other_project: Any) -> None:
    body = {"export_format": CSV, "export_context": hogql("SELECT 1")}
    assert_auth_matrix(project, other_project, "post", exports_url(project), scope="export:write", data=body)


def test_missing_export_format_is_required(project: Any) -> None:
    assert _error(create(project, {"export_context": hogql("SELECT 1")})) == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": "export_format",
    }


def test_needs_a_dashboard_insight_or_context(project: Any) -> None:
    assert _error(create(project, {"export_format": CSV})) == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Either dashboard, insight or export_context is required for an export.",
        "attr": None,
    }
    assert not ExportedAsset.objects_unfiltered.exists()


def test_unknown_format_is_an_invalid_choice(project: Any) -> None:
    assert _error(create(project, {"export_format": "not/allowed", "export_context": hogql("SELECT 1")})) == {
        "type": "validation_error",
        "code": "invalid_choice",
        "detail": '"not/allowed" is not a valid choice.',
        "attr": "export_format",
    }


@pytest.mark.parametrize("field", ["dashboard", "insight"])
def test_unknown_dashboard_or_insight_does_not_exist(project: Any, field: str) -> None:
    assert _error(create(project, {"export_format": "image/png", field: 54321})) == {
        "type": "validation_error",
        "code": "does_not_exist",
        "detail": 'Invalid pk "54321" - object does not exist.',
        "attr": field,
    }


@pytest.mark.parametrize("fmt", ["video/mp4", "video/webm", "image/gif"])
def test_video_without_recording_is_rejected(project: Any, fmt: str) -> None:
    assert _error(create(project, {"export_format": fmt, "export_context": hogql("SELECT 1")})) == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Video export supports session recordings only.",
        "attr": "export_format",
    }


@pytest.mark.parametrize(
    "context",
    [{"path": "/api/projects/1/feature_flags/", "method": "POST"}, {"path": "/api/projects/1/x/", "body": {"a": 1}}],
)
def test_path_context_must_be_a_plain_get(project: Any, context: dict[str, Any]) -> None:
    error = _error(create(project, {"export_format": CSV, "export_context": context}))
    assert error["attr"] == "export_context"
    assert error["detail"] == "Exports from API endpoints only support GET requests without a request body."


@pytest.mark.parametrize("context", [["x"], "select 1", 5, True])
def test_context_must_be_an_object(project: Any, context: Any) -> None:
    assert _error(create(project, {"export_format": CSV, "export_context": context})) == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "export_context must be an object.",
        "attr": "export_context",
    }


@pytest.mark.parametrize("columns", ["event", {"a": 1}, [1, 2], ["event", None], ["event", ["x"]]])
def test_columns_must_be_a_list_of_names(project: Any, columns: Any) -> None:
    body = {"export_format": CSV, "export_context": {**hogql("SELECT 1"), "columns": columns}}
    error = _error(create(project, body))
    assert error["attr"] == "export_context"
    assert error["detail"] == "export_context.columns must be a list of column names."
    assert not ExportedAsset.objects_unfiltered.exists()


@pytest.mark.parametrize(
    "context",
    [
        hogql("SELECT 1", filename="a\x00b"),
        hogql("SELECT 'a\x00b'"),
        {**hogql("SELECT 1"), "extra": {"k\x00ey": 1}},
    ],
)
def test_null_characters_in_the_context_are_a_400_not_a_database_error(project: Any, context: Any) -> None:
    # PostgreSQL's jsonb cannot store U+0000: inserting it was a 500 (DataError) there.
    assert _error(create(project, {"export_format": CSV, "export_context": context})) == {
        "type": "validation_error",
        "code": "null_characters_not_allowed",
        "detail": "Null characters are not allowed.",
        "attr": "export_context",
    }


@pytest.mark.parametrize("depth", [101, 900, 5_000])
def test_deeply_nested_bodies_are_a_400(project: Any, depth: int) -> None:
    # 900 levels overflowed the JSON encoder when the row was stored (500); 5,000 the request parser.
    nested = "[" * depth + "]" * depth
    source = '{"kind": "HogQLQuery", "query": "SELECT 1"}'
    raw = f'{{"export_format": "text/csv", "export_context": {{"source": {source}, "x": {nested}}}}}'
    response = project.client().post(exports_url(project), data=raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_input", "parse_error"}
    assert not ExportedAsset.objects_unfiltered.exists()


def test_a_context_nested_a_hundred_levels_is_accepted(project: Any) -> None:
    context: Any = hogql("SELECT 1")
    context["x"] = {}
    node = context["x"]
    for _ in range(99):  # the innermost dict is 100 levels below export_context: the most allowed
        node["n"] = {}
        node = node["n"]
    assert create(project, {"export_format": CSV, "export_context": context}).status_code == 201


@pytest.mark.parametrize(
    ("value", "code", "detail"),
    [
        ("54321", "does_not_exist", 'Invalid pk "54321" - object does not exist.'),
        (10**30, "does_not_exist", f'Invalid pk "{10**30}" - object does not exist.'),
        (-1, "does_not_exist", 'Invalid pk "-1" - object does not exist.'),
        ("abc", "incorrect_type", "Incorrect type. Expected pk value, received str."),
        (True, "incorrect_type", "Incorrect type. Expected pk value, received bool."),
        ({"id": 1}, "incorrect_type", "Incorrect type. Expected pk value, received dict."),
        ([1], "incorrect_type", "Incorrect type. Expected pk value, received list."),
    ],
)
def test_dashboard_ids_are_validated_like_primary_keys(project: Any, value: Any, code: str, detail: str) -> None:
    # DRF's PrimaryKeyRelatedField: a wrong type is `incorrect_type`, not IntegerField's "A valid integer".
    assert _error(create(project, {"export_format": "image/png", "dashboard": value})) == {
        "type": "validation_error",
        "code": code,
        "detail": detail,
        "attr": "dashboard",
    }


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_creates_a_csv_synchronously_with_the_v2024_shape(project: Any) -> None:
    insert_events(project.team.pk, [{"event": "signup"}] * 3)
    context = hogql("SELECT event, count() FROM events GROUP BY event", filename="Sign ups!")

    response = create(project, {"export_format": CSV, "export_context": context})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert body["has_content"] is True and body["exception"] is None
    assert body["dashboard"] is None and body["insight"] is None
    assert body["export_context"] == context and body["filename"] == "sign-ups.csv"
    midnight = (timezone.now() + dt.timedelta(weeks=26)).strftime("%Y-%m-%dT00:00:00Z")
    assert body["expires_after"] == midnight
    asset = ExportedAsset.objects.get(pk=body["id"])
    assert asset.created_by == project.user and asset.team == project.team
    assert bytes(asset.content) == b"event,count()\r\nsignup,3\r\n"


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_client_expires_after_is_kept(project: Any) -> None:
    when = "2030-01-02T03:04:05Z"
    response = create(project, {"export_format": CSV, "export_context": hogql("SELECT 1"), "expires_after": when})
    assert response.status_code == 201
    assert response.json()["expires_after"] == when


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_unfinished_export_answers_201_without_content_and_finishes_in_background(project: Any, settings) -> None:
    settings.EXPORTS_SYNC_BUDGET_SECONDS = 0
    insert_events(project.team.pk, [{"event": "late"}])

    response = create(project, {"export_format": CSV, "export_context": hogql("SELECT event FROM events")})

    assert response.status_code == 201
    assert response.json()["has_content"] is False and response.json()["exception"] is None
    done = wait_for_content(project, response.json()["id"])
    assert done["has_content"] is True, done


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_query_errors_land_in_exception_not_in_the_status(project: Any) -> None:
    response = create(project, {"export_format": CSV, "export_context": hogql("SELECT nope FROM events")})

    assert response.status_code == 201
    body = response.json()
    assert body["has_content"] is False
    assert "nope" in body["exception"]
    asset = ExportedAsset.objects.get(pk=body["id"])
    assert asset.failure_type == "user" and asset.exception_type


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("fmt", "message"),
    [("application/pdf", "Export to format application/pdf is not supported.")],
)
def test_formats_we_cannot_build_answer_with_an_exception(project: Any, fmt: str, message: str) -> None:
    response = create(project, {"export_format": fmt, "export_context": hogql("SELECT 1")})
    assert response.status_code == 201
    assert response.json()["exception"] == message and response.json()["has_content"] is False


@pytest.mark.django_db(transaction=True)
def test_non_hogql_sources_are_reported(project: Any) -> None:
    context = {"source": {"kind": "TrendsQuery", "series": []}}
    response = create(project, {"export_format": CSV, "export_context": context})
    assert response.status_code == 201
    assert response.json()["exception"] == "Exports support HogQLQuery sources only, not 'TrendsQuery'."


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_environments_route_creates_too(project: Any) -> None:
    url = exports_url(project, base="environments")
    response = project.client().post(url, {"export_format": CSV, "export_context": hogql("SELECT 1 AS one")}, "json")
    assert response.status_code == 201, response.content
    assert bytes(ExportedAsset.objects.get(pk=response.json()["id"]).content) == b"one\r\n1\r\n"


def _assert_recorded_as_not_queued(response: Any, exception_type: str) -> None:
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["has_content"] is False
    assert body["exception"].startswith("Export could not be queued: ")
    asset = ExportedAsset.objects.get(pk=body["id"])
    assert asset.failure_type == "system" and asset.exception_type == exception_type


@pytest.mark.django_db(transaction=True)
def test_a_job_the_worker_cannot_take_is_recorded_not_a_500(
    project: Any, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.CELERY_BROKER_URL = ""  # the embedded pool's failure; the broker's is the next test

    monkeypatch.setattr(worker, "_pool", None)
    worker._executor().shutdown()  # a pool that refuses new work, as after interpreter shutdown began
    try:
        response = create(project, {"export_format": CSV, "export_context": hogql("SELECT 1")})
    finally:
        worker._pool = None

    _assert_recorded_as_not_queued(response, "RuntimeError")


@pytest.mark.django_db(transaction=True)
def test_a_job_the_broker_cannot_take_is_recorded_not_a_500(project: Any, settings) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"  # scale mode, but the broker is down
    with broker_unreachable():
        response = create(project, {"export_format": CSV, "export_context": hogql("SELECT 1")})

    _assert_recorded_as_not_queued(response, "OperationalError")


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_display_nodes_wrapping_the_query_are_unwrapped(project: Any) -> None:
    context = {"source": {"kind": "DataTableNode", "source": hogql("SELECT 7 AS seven")["source"]}}
    response = create(project, {"export_format": CSV, "export_context": context})
    assert response.json()["has_content"] is True, response.json()
    assert bytes(ExportedAsset.objects.get(pk=response.json()["id"]).content) == b"seven\r\n7\r\n"


@pytest.mark.django_db(transaction=True)
def test_an_expiry_in_the_past_is_accepted_and_the_export_is_gone_at_once(project: Any) -> None:
    body = {
        "export_format": "application/pdf",
        "export_context": hogql("SELECT 1"),
        "expires_after": "2020-01-01T00:00:00Z",
    }
    response = create(project, body)
    assert response.status_code == 201 and response.json()["expires_after"] == "2020-01-01T00:00:00Z"
    assert project.client().get(exports_url(project, f"{response.json()['id']}/")).status_code == 404
