"""Survey stats (replay_surveys_experiments.md §2.5): the reference's test vector, worked by hand, through the
real path (events in ClickHouse, HogQL through the query runner, the endpoint)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from tests.auth_matrix import assert_auth_matrix
from tests.query.conftest import insert_events, insert_person
from tests.surveys.conftest import create_survey, surveys_url

pytestmark = [pytest.mark.clickhouse, pytest.mark.usefixtures("clickhouse_tables")]
BAD_DATE = (
    "Invalid date format. Please use ISO 8601 format with timezone info (e.g. 2024-01-01T00:00:00Z or "
    "2024-01-01T00:00:00+00:00)"
)


def _event(name: str, who: str, survey_id: str, minutes: int, **properties: Any) -> dict[str, Any]:
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1) + dt.timedelta(minutes=minutes)
    return {
        "event": name,
        "distinct_id": who,
        "timestamp": at,
        "properties": {"$survey_id": survey_id, "$survey_name": "NPS", **properties},
    }


def _vector(team_id: int, survey_id: str) -> None:
    """A: shown ×2, sent (s1, completed), dismissed; B: shown, sent ×2 with submission s2 (partial, then
    completed); C: shown, dismissed; D: shown; E: shown, dismissed partially."""
    for who in "ABCDE":
        insert_person(team_id, [f"user-{who}"], {})
    s = survey_id
    insert_events(
        team_id,
        [
            _event("survey shown", "user-A", s, 1),
            _event("survey shown", "user-A", s, 2),
            _event("survey sent", "user-A", s, 3, **{"$survey_submission_id": "s1", "$survey_completed": True}),
            _event("survey dismissed", "user-A", s, 4, **{"$survey_partially_completed": False}),
            _event("survey shown", "user-B", s, 5),
            _event("survey sent", "user-B", s, 6, **{"$survey_submission_id": "s2", "$survey_completed": False}),
            _event("survey sent", "user-B", s, 7, **{"$survey_submission_id": "s2", "$survey_completed": True}),
            _event("survey shown", "user-C", s, 8),
            _event("survey dismissed", "user-C", s, 9),
            _event("survey shown", "user-D", s, 10),
            _event("survey shown", "user-E", s, 11),
            _event("survey dismissed", "user-E", s, 12, **{"$survey_partially_completed": True}),
            # Another survey's events never count.
            _event("survey shown", "user-D", str(uuid.uuid4()), 13),
        ],
    )


def test_stats_match_the_reference_vector(project: Any) -> None:
    survey = create_survey(project, start_date="2020-01-01T00:00:00Z")
    _vector(project.team.pk, survey["id"])
    response = project.client().get(f"{surveys_url(project)}{survey['id']}/stats/")
    assert response.status_code == 200, response.content
    body = response.json()
    stats = body["stats"]
    shown, sent, dismissed = stats["survey shown"], stats["survey sent"], stats["survey dismissed"]
    assert (shown["total_count"], shown["unique_persons"]) == (6, 5)
    assert (shown["unique_persons_only_seen"], shown["total_count_only_seen"]) == (2, 2)
    assert (sent["total_count"], sent["unique_persons"]) == (2, 2)
    assert (dismissed["total_count"], dismissed["unique_persons"]) == (2, 1)
    assert sent["unique_persons_only_seen"] == 0 and dismissed["total_count_only_seen"] == 0
    assert body["rates"] == {
        "response_rate": 33.33,
        "dismissal_rate": 33.33,
        "unique_users_response_rate": 40.0,
        "unique_users_dismissal_rate": 20.0,
    }
    assert body["survey_id"] == survey["id"]
    assert body["start_date"] == "2020-01-01T00:00:00Z" and body["end_date"] is None
    assert shown["first_seen"].endswith("Z") and shown["first_seen"] <= shown["last_seen"]

    everything = project.client().get(f"{surveys_url(project)}stats/").json()
    assert everything["stats"] == stats and everything["rates"] == body["rates"]
    counts = project.client().get(f"{surveys_url(project)}responses_count/").json()
    assert counts == {survey["id"]: 2}


def test_the_date_range_narrows_the_events(project: Any) -> None:
    survey = create_survey(project)
    _vector(project.team.pk, survey["id"])
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    response = project.client().get(f"{surveys_url(project)}{survey['id']}/stats/", {"date_from": future})
    assert response.status_code == 200
    assert response.json()["stats"] == {}
    assert response.json()["rates"]["response_rate"] == 0


def test_project_stats_without_surveys_are_empty(project: Any) -> None:
    body = project.client().get(f"{surveys_url(project)}stats/").json()
    assert body["stats"] == {}
    assert set(body["rates"].values()) == {0}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"date_from": "yesterday"}, BAD_DATE),
        ({"date_to": "2024-01-01T00:00:00"}, BAD_DATE),
        ({"date_from": "2024-02-01T00:00:00Z", "date_to": "2024-01-01T00:00:00Z"}, "date_from must be before date_to"),
    ],
)
def test_bad_dates_are_400(project: Any, query: dict[str, str], detail: str) -> None:
    survey = create_survey(project)
    for url in (f"{surveys_url(project)}{survey['id']}/stats/", f"{surveys_url(project)}stats/"):
        response = project.client().get(url, query)
        assert response.status_code == 400, response.content
        assert response.json()["type"] == "validation_error"
        assert response.json()["detail"] == detail


def test_stats_auth_matrix(project: Any, other_project: Any) -> None:
    survey = create_survey(project)
    for url in (f"{surveys_url(project)}{survey['id']}/stats/", f"{surveys_url(project)}stats/"):
        assert_auth_matrix(project, other_project, "GET", url, scope="survey:read")
    assert_auth_matrix(project, other_project, "GET", f"{surveys_url(project)}responses_count/", scope="survey:read")
