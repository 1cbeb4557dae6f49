"""/api/projects/:id/surveys/ CRUD (replay_surveys_experiments.md §2.1–2.3): every question type, conditions,
appearance, launch/stop/archive, the flags a survey owns, validation 400s and the auth matrix."""

from __future__ import annotations

from typing import Any

import pytest

from actions.models import Action
from flags.models import FeatureFlag
from tests.auth_matrix import assert_auth_matrix
from tests.surveys.conftest import create_survey, surveys_url

QUESTIONS = [
    {"type": "open", "question": "What could be better?", "description": "<b>Be</b> honest<script>x()</script>"},
    {"type": "link", "question": "Book a call", "link": "https://example.com/book", "buttonText": "Book"},
    {
        "type": "rating",
        "question": "How likely are you to recommend us?",
        "scale": 10,
        "display": "number",
        "lowerBoundLabel": "Unlikely",
        "upperBoundLabel": "Very likely",
        "isNpsQuestion": True,
        "branching": {"type": "response_based", "responseValues": {"detractors": 3, "promoters": "end"}},
    },
    {
        "type": "single_choice",
        "question": "Role?",
        "choices": ["Engineer", "Other"],
        "hasOpenChoice": True,
        "branching": {"type": "specific_question", "index": 4},
    },
    {"type": "multiple_choice", "question": "Which?", "choices": ["A", "B"], "branching": {"type": "end"}},
]
CONDITIONS = {
    "url": "/pricing",
    "urlMatchType": "icontains",
    "selector": "#buy",
    "seenSurveyWaitPeriodInDays": 30,
    "events": {"repeatedActivation": True, "values": [{"name": "purchase"}]},
}
TARGETING = {"groups": [{"properties": [{"key": "plan", "value": ["pro"], "operator": "exact", "type": "person"}]}]}


def test_create_with_every_question_type(project: Any) -> None:
    survey = create_survey(
        project,
        name="Everything",
        description="All kinds",
        questions=QUESTIONS,
        conditions=CONDITIONS,
        appearance={"position": "right", "backgroundColor": "#eee", "surveyPopupDelaySeconds": 2},
        responses_limit=100,
        schedule="always",
        enable_partial_responses=True,
    )
    assert [q["type"] for q in survey["questions"]] == [q["type"] for q in QUESTIONS]
    assert all(len(q["id"]) == 36 for q in survey["questions"])  # uuid4 given on save
    assert survey["questions"][0]["description"] == "<b>Be</b> honest"  # sanitised, not refused
    assert survey["questions"][2]["branching"]["type"] == "response_based"
    assert survey["conditions"] == CONDITIONS
    assert survey["appearance"]["position"] == "right"
    assert survey["responses_limit"] == 100 and survey["schedule"] == "always"
    assert survey["start_date"] is None and survey["archived"] is False
    assert survey["created_by"]["email"] == project.user.email
    assert survey["user_access_level"] == "editor"

    fetched = project.client().get(f"{surveys_url(project)}{survey['id']}/").json()
    assert fetched == survey
    again = project.client().get(f"/api/environments/{project.team.pk}/surveys/{survey['id']}/")
    assert again.status_code == 200


def test_internal_flag_is_created_and_follows_the_survey(project: Any) -> None:
    survey = create_survey(project)
    internal = survey["internal_targeting_flag"]
    assert internal["key"].startswith("survey-targeting-") and internal["key"].endswith("-custom")
    assert internal["active"] is False  # a draft does not run
    properties = internal["filters"]["groups"][0]["properties"]
    assert [p["key"] for p in properties] == [f"$survey_dismissed/{survey['id']}", f"$survey_responded/{survey['id']}"]
    assert {p["operator"] for p in properties} == {"is_not_set"}
    keys = {item["key"]: item["value"] for item in survey["feature_flag_keys"]}
    assert keys["internal_targeting_flag_key"] == internal["key"] and keys["targeting_flag_key"] is None

    url = f"{surveys_url(project)}{survey['id']}/"
    launched = project.client().patch(url, {"start_date": "2024-01-01T00:00:00Z"}, format="json").json()
    assert launched["internal_targeting_flag"]["active"] is True
    stopped = project.client().patch(url, {"end_date": "2024-02-01T00:00:00Z"}, format="json").json()
    assert stopped["internal_targeting_flag"]["active"] is False
    resumed = project.client().patch(url, {"end_date": None}, format="json").json()
    assert resumed["internal_targeting_flag"]["active"] is True
    archived = project.client().patch(url, {"archived": True}, format="json").json()
    assert archived["archived"] is True


def test_targeting_flag_from_filters_merges_and_removes(project: Any) -> None:
    survey = create_survey(project, targeting_flag_filters=TARGETING, start_date="2024-01-01T00:00:00Z")
    flag = survey["targeting_flag"]
    assert flag["key"].startswith("survey-targeting-") and not flag["key"].endswith("-custom")
    assert flag["name"] == "Targeting flag for survey NPS"
    assert flag["filters"]["groups"] == TARGETING["groups"] and flag["active"] is True

    url = f"{surveys_url(project)}{survey['id']}/"
    other = {
        "groups": [{"properties": [{"key": "plan", "value": ["team"], "type": "person"}], "rollout_percentage": 50}]
    }
    updated = project.client().patch(url, {"targeting_flag_filters": other}, format="json").json()
    assert updated["targeting_flag"]["id"] == flag["id"]
    assert updated["targeting_flag"]["filters"]["groups"] == other["groups"]

    removed = project.client().patch(url, {"remove_targeting_flag": True}, format="json").json()
    assert removed["targeting_flag"] is None
    assert FeatureFlag.objects.get(pk=flag["id"]).deleted is True


def test_linked_flag_and_existing_targeting_flag(project: Any) -> None:
    linked = FeatureFlag.objects.create(
        team=project.team, key="beta", filters={"groups": [{"rollout_percentage": 100}]}
    )
    survey = create_survey(project, linked_flag_id=linked.pk, conditions={"linkedFlagVariant": "any"})
    assert survey["linked_flag"]["key"] == "beta" and survey["linked_flag_id"] == linked.pk
    keys = {item["key"]: item["value"] for item in survey["feature_flag_keys"]}
    assert keys["linked_flag_key"] == "beta"


def test_delete_is_hard_and_takes_the_flags(project: Any) -> None:
    survey = create_survey(project, targeting_flag_filters=TARGETING)
    url = f"{surveys_url(project)}{survey['id']}/"
    assert project.client().delete(url).status_code == 204
    assert project.client().get(url).status_code == 404
    ids = [survey["targeting_flag"]["id"], survey["internal_targeting_flag"]["id"]]
    assert set(FeatureFlag.objects.filter(pk__in=ids).values_list("deleted", flat=True)) == {True}


def test_list_search_and_isolation(project: Any, other_project: Any) -> None:
    create_survey(project, name="Pricing NPS")
    create_survey(project, name="Onboarding", description="first steps")
    create_survey(other_project, name="Theirs")
    names = [s["name"] for s in project.client().get(surveys_url(project)).json()["results"]]
    assert sorted(names) == ["Onboarding", "Pricing NPS"]
    found = project.client().get(surveys_url(project), {"search": "steps"}).json()["results"]
    assert [s["name"] for s in found] == ["Onboarding"]
    theirs = other_project.client().get(surveys_url(other_project)).json()["results"][0]
    assert project.client().get(f"{surveys_url(project)}{theirs['id']}/").status_code == 404
    assert project.client().get(f"{surveys_url(project)}not-a-uuid/").status_code == 404


BAD = [
    ({"questions": "x"}, "Questions must be a list of objects"),
    ({"questions": ["x"]}, "Questions must be a list of objects"),
    ({"questions": [{"type": "open", "question": ""}]}, "Question text is required"),
    (
        {"questions": [{"type": "open", "question": "Q", "descriptionContentType": "md"}]},
        "Question descriptionContentType must be one of ['text', 'html']",
    ),
    (
        {"questions": [{"type": "single_choice", "question": "Q", "choices": [1]}]},
        "Question choices must be a list of strings",
    ),
    ({"questions": [{"type": "multiple_choice", "question": "Q", "choices": []}]}, "Question choices cannot be empty"),
    (
        {"questions": [{"type": "link", "question": "Q", "link": "javascript:alert(1)"}]},
        "Link must be a URL with one of these schemes: [https, mailto]",
    ),
    ({"schedule": "sometimes"}, "Schedule must be one of: once, recurring, always"),
    ({"linked_flag_id": 999999}, "Feature Flag with this ID does not exist"),
    (
        {"conditions": {"linkedFlagVariant": "test"}},
        "linkedFlagVariant can only be used when a linked_flag_id is specified",
    ),
    (
        {"targeting_flag_filters": {"groups": [{"properties": [], "rollout_percentage": 100}]}},
        "Invalid operation: User targeting rolls out to everyone. If you want to roll out to everyone, delete this "
        "targeting",
    ),
    ({"type": "external_survey", "conditions": {"url": "/x"}}, None),
    ({"type": "nope"}, None),
    ({"questions": [{"type": "essay", "question": "Q"}]}, None),
    ({"questions": [{"type": "rating", "question": "Q", "scale": 4}]}, None),
    ({"questions": [{"type": "open", "question": "Q", "branching": {"type": "jump"}}]}, None),
    ({"appearance": {"surveyPopupDelaySeconds": -1}}, None),
    ({"conditions": {"urlMatchType": "fuzzy"}}, None),
    ({"iteration_count": 501}, None),
    ({"responses_limit": 0}, None),
    ({"start_date": "soon"}, None),
    # beyond the columns' integers (schemathesis found a 500: SQLite's "Python int too large")
    ({"response_sampling_interval": 448115092448716687147008}, None),
    ({"response_sampling_limit": 2**31}, None),
    ({"iteration_frequency_days": 2**40}, None),
    ({"responses_limit": 2**31}, None),
]


@pytest.mark.parametrize(("fields", "detail"), BAD)
def test_bad_input_is_400(project: Any, fields: dict[str, Any], detail: str | None) -> None:
    body = {"name": "Bad", "type": "popover", "questions": [{"type": "open", "question": "Q"}], **fields}
    response = project.client().post(surveys_url(project), body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert set(error) == {"type", "code", "detail", "attr"} and error["type"] == "validation_error"
    if detail is not None:
        assert error["detail"] == detail


def test_duplicate_name_is_400_unique(project: Any) -> None:
    create_survey(project, name="Same")
    response = project.client().post(surveys_url(project), {"name": "Same", "type": "popover"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "unique",
        "detail": "There is already a survey with this name.",
        "attr": "name",
    }


def test_auth_matrix(project: Any, other_project: Any) -> None:
    survey = create_survey(project)
    url = surveys_url(project)
    detail = f"{url}{survey['id']}/"
    assert_auth_matrix(project, other_project, "GET", url, scope="survey:read")
    assert_auth_matrix(project, other_project, "GET", detail, scope="survey:read")
    assert_auth_matrix(project, other_project, "POST", url, scope="survey:write", data={"name": "X", "type": "api"})
    assert_auth_matrix(project, other_project, "PATCH", detail, scope="survey:write", data={"archived": True})
    assert_auth_matrix(project, other_project, "DELETE", detail, scope="survey:write")
    assert project.client().get(detail).json()["archived"] is False  # none of the refused calls changed it


def test_actions_in_conditions_are_read_as_they_are_now(project: Any, other_project: Any) -> None:
    action = Action.objects.create(team=project.team, name="Clicked buy", steps_json=[{"event": "$autocapture"}])
    survey = create_survey(project, conditions={"actions": {"values": [{"id": action.pk}]}})
    assert survey["conditions"]["actions"]["values"] == [
        {"id": action.pk, "name": "Clicked buy", "steps": [{"event": "$autocapture"}]}
    ]
    action.name = "Bought"
    action.save()
    fetched = project.client().get(f"{surveys_url(project)}{survey['id']}/").json()
    assert fetched["conditions"]["actions"]["values"][0]["name"] == "Bought"

    filtered = Action.objects.create(
        team=project.team, name="Filtered", steps_json=[{"event": "x", "properties": [{"key": "a", "value": "b"}]}]
    )
    theirs = Action.objects.create(team=other_project.team, name="Theirs", steps_json=[{"event": "y"}])
    for action_id, detail in [
        (filtered.pk, "Survey cannot be activated by an Action with property filters defined on it."),
        (theirs.pk, f"Action with id {theirs.pk} does not exist"),
    ]:
        body = {"name": f"A{action_id}", "type": "popover", "conditions": {"actions": {"values": [{"id": action_id}]}}}
        response = project.client().post(surveys_url(project), body, format="json")
        assert response.status_code == 400
        assert response.json()["detail"] == detail
