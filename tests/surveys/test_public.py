"""What posthog-js is served (replay_surveys_experiments.md §2.4): `/api/surveys/?token=` and the `surveys` value
of remote config (/array/<token>/config(.js), /flags, /decide): running surveys only, none past their end date
or responses limit, none of another project."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client

from surveys.selectors import served_surveys_clear
from tests.query.conftest import insert_events
from tests.surveys.conftest import create_survey, surveys_url

ORIGIN = "https://shop.example.com"
STARTED = "2024-01-01T00:00:00Z"


def served(project: Any) -> list[dict[str, Any]]:
    response = Client().get("/api/surveys/", {"token": project.team.api_token}, HTTP_ORIGIN=ORIGIN)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert response.json()["survey_config"] is None
    return response.json()["surveys"]


def test_serves_running_surveys_as_posthog_js_reads_them(project: Any, other_project: Any) -> None:
    survey = create_survey(
        project,
        name="Running",
        description="secret notes",
        start_date=STARTED,
        conditions={"url": "/pricing", "urlMatchType": "icontains"},
        appearance={"position": "right"},
        targeting_flag_filters={"groups": [{"properties": [{"key": "plan", "value": "pro", "type": "person"}]}]},
    )
    create_survey(project, name="Draft")
    create_survey(project, name="Ended", start_date=STARTED, end_date="2024-02-01T00:00:00Z")
    create_survey(project, name="Archived", start_date=STARTED, archived=True)
    create_survey(project, name="Later", start_date="2999-01-01T00:00:00Z")
    create_survey(other_project, name="Theirs", start_date=STARTED)

    [item] = served(project)
    assert item == {
        "id": survey["id"],
        "name": "Running",
        "type": "popover",
        "linked_flag_key": None,
        "targeting_flag_key": survey["targeting_flag"]["key"],
        "internal_targeting_flag_key": survey["internal_targeting_flag"]["key"],
        "questions": survey["questions"],
        "conditions": {"url": "/pricing", "urlMatchType": "icontains"},
        "appearance": {"position": "right"},
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": None,
        "current_iteration": None,
        "current_iteration_start_date": None,
        "schedule": "once",
        "enable_partial_responses": False,
    }


def test_stopping_a_survey_stops_serving_it(project: Any) -> None:
    survey = create_survey(project, start_date=STARTED)
    assert [s["id"] for s in served(project)] == [survey["id"]]
    url = f"{surveys_url(project)}{survey['id']}/"
    project.client().patch(url, {"end_date": dt.datetime.now(dt.UTC).isoformat()}, format="json")
    assert served(project) == []
    project.client().patch(url, {"end_date": None}, format="json")
    assert len(served(project)) == 1
    project.client().patch(url, {"archived": True}, format="json")
    assert served(project) == []


@pytest.mark.clickhouse
@pytest.mark.usefixtures("clickhouse_tables")
def test_a_survey_at_its_responses_limit_is_not_served(project: Any) -> None:
    limited = create_survey(project, name="Limited", start_date=STARTED, responses_limit=2)
    open_ended = create_survey(project, name="Open", start_date=STARTED)

    def sent(submission: str) -> dict[str, Any]:
        properties = {"$survey_id": limited["id"], "$survey_submission_id": submission}
        return {"event": "survey sent", "distinct_id": "u1", "properties": properties}

    insert_events(project.team.pk, [sent("s1"), sent("s1")])  # one submission, answered in two steps
    assert {s["name"] for s in served(project)} == {"Limited", "Open"}
    insert_events(project.team.pk, [sent("s2")])
    served_surveys_clear()  # the served list is cached for a few seconds; events do not clear it
    assert [s["id"] for s in served(project)] == [open_ended["id"]]
    assert project.client().get(f"{surveys_url(project)}responses_count/").json() == {limited["id"]: 2}


def test_remote_config_carries_the_served_surveys(project: Any) -> None:
    token = project.team.api_token
    assert Client().get(f"/array/{token}/config").json()["surveys"] is False
    survey = create_survey(project, start_date=STARTED)
    config = Client().get(f"/array/{token}/config").json()
    assert [s["id"] for s in config["surveys"]] == [survey["id"]]
    script = Client().get(f"/array/{token}/config.js").content.decode()
    entry = json.loads(re.search(r"\] = (\{.*\});", script).group(1))  # type: ignore[union-attr]
    assert entry["config"]["surveys"] == config["surveys"]
    body = {"token": token, "distinct_id": "someone"}
    flags = Client().post("/flags/?v=2&config=true", body, content_type="application/json").json()
    assert [s["id"] for s in flags["surveys"]] == [survey["id"]]
    decide = Client().post("/decide/?v=4", body, content_type="application/json").json()
    assert [s["id"] for s in decide["surveys"]] == [survey["id"]]
    flags_only = Client().post("/flags/?v=2", body, content_type="application/json").json()
    assert "surveys" not in flags_only


def test_token_errors_and_preflight(project: Any) -> None:
    missing = Client().get("/api/surveys/")
    assert missing.status_code == 401
    assert missing.json() == {
        "type": "authentication_error",
        "code": "missing_api_key",
        "detail": "API key not provided. You can find your project API key in your PostHog project settings.",
        "attr": None,
    }
    unknown = Client().get("/api/surveys/", {"token": "phc_unknown"})
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "invalid_api_key"
    personal = Client().get("/api/surveys/", {"token": project.key_value})
    assert personal.status_code == 401  # a personal key is not a project token
    preflight = Client().options("/api/surveys/", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 200 and preflight.content == b""
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    legacy = Client().get("/api/surveys/", {"api_key": project.team.api_token, "_": "1712345678901"})
    assert legacy.status_code == 200
