"""Async queries: POST with refresh=async → 202, GET /query/:id/ polls (202 → 200), DELETE cancels."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.auth_matrix import assert_auth_matrix
from tests.query.conftest import insert_events, poll_query, query_url, run


@pytest.mark.clickhouse
def test_async_round_trip_returns_results(project: Any, other_project: Any) -> None:
    insert_events(project.team.pk, [{"event": "a"}] * 3)
    insert_events(other_project.team.pk, [{"event": "a"}] * 9)

    started = run(project, "SELECT event, count() FROM events GROUP BY event", refresh="async")

    assert started.status_code == 202, started.content
    status = started.json()["query_status"]
    assert status["complete"] is False and status["query_async"] is True and status["team_id"] == project.team.pk
    done = poll_query(project, status["id"])
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert final["results"]["results"] == [["a", 3]]
    assert final["results"]["columns"] == ["event", "count()"]
    # The result is cached: a blocking request for the same query is served from it.
    again = run(project, "SELECT event, count() FROM events GROUP BY event")
    assert again.json()["is_cached"] is True and again.json()["results"] == [["a", 3]]


@pytest.mark.clickhouse
def test_legacy_async_flag_and_client_query_id(project: Any) -> None:
    started = run(project, "SELECT 1", **{"async": True, "client_query_id": "my-query-1"})
    assert started.status_code == 202
    assert started.json()["query_status"]["id"] == "my-query-1"
    assert poll_query(project, "my-query-1").status_code == 200


@pytest.mark.clickhouse
def test_async_error_is_reported_as_400(project: Any) -> None:
    started = run(project, "SELECT * FROM nope", refresh="force_async")
    assert started.status_code == 202
    failed = poll_query(project, started.json()["query_status"]["id"])
    assert failed.status_code == 400
    assert failed.json()["detail"] == "Unknown table `nope`."


@pytest.mark.clickhouse
def test_cancel_removes_the_query(project: Any, other_project: Any, settings: Any) -> None:
    settings.HOGQL_MAX_EXECUTION_TIME = 2  # the background run ends soon after the test
    settings.HOGQL_INCREASED_MAX_EXECUTION_TIME = 2
    started = run(project, "SELECT count() FROM numbers(100000000000) WHERE sipHash64(number) = 1", refresh="async")
    query_id = started.json()["query_status"]["id"]

    other = other_project.client().delete(f"/api/projects/{other_project.team.pk}/query/{query_id}/")
    cancelled = project.client().delete(f"{query_url(project)}{query_id}/")
    after = project.client().get(f"{query_url(project)}{query_id}/")

    assert other.status_code == 404  # another project cannot see or cancel it
    assert cancelled.status_code == 204
    assert after.status_code == 404
    assert after.json()["detail"] == f"Query {query_id} not found for team {project.team.pk}"
    time.sleep(2.5)  # the worker must not resurrect the status when it finishes
    assert project.client().get(f"{query_url(project)}{query_id}/").status_code == 404


@pytest.mark.clickhouse
def test_unknown_query_id_is_404(project: Any) -> None:
    response = project.client().get(f"{query_url(project)}nope/")
    assert response.status_code == 404
    assert project.client().delete(f"{query_url(project)}nope/").status_code == 404


@pytest.mark.clickhouse
def test_auth_matrix_for_status_and_cancel(project: Any, other_project: Any) -> None:
    assert_auth_matrix(project, other_project, "GET", f"{query_url(project)}abc/", scope="query:read")
    assert_auth_matrix(project, other_project, "DELETE", f"{query_url(project)}abc/", scope="query:read")
