"""posthog-python, unmodified, against a live server with flags targeting cohorts (issue 22, acceptance 3):
remote evaluation and local evaluation with a personal API key both give the flag to members and not to
non-members, and /flags?v=2 agrees. Dynamic cohorts are evaluated in the SDK from the `cohorts` it polls;
static ones cannot be (their members are not sent), so the SDK asks the server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from posthog import Posthog

from tests.flags.cohort_fixtures import (
    PEOPLE,
    c1,
    cohort,
    cohort_condition,
    flag_on,
    in_cohort,
    make_people,
    or_of_ands,
    person,
)

# flag → members among the §8.2 people (worked out by hand; see test_cohort_remote_evaluation.py)
MEMBERS = {
    "acme-paying": {"p1", "p4"},  # C1: email icontains @acme.com and plan in (pro, enterprise)
    "acme-or-other": {"p1", "p3", "p4"},  # C8: in C1, or email icontains other.io (nested cohort)
    "beta-list": {"p2", "p5"},  # S1: static, members p2 and p5
}
DYNAMIC = ("acme-paying", "acme-or-other")  # evaluable by SDKs from the polled cohort trees


@pytest.fixture
def cohort_project(project: Any) -> Any:
    team = project.team
    people = make_people(team)
    first = c1(team)
    c8 = cohort(team, "C8", or_of_ands([in_cohort(first)], [person("email", "other.io", "icontains")]))
    s1 = cohort(team, "S1", is_static=True, members=(people["p2"], people["p5"]))
    flag_on(team, "acme-paying", cohort_condition(first))
    flag_on(team, "acme-or-other", cohort_condition(c8))
    flag_on(team, "beta-list", cohort_condition(s1))
    return project


def client_for(live_server: Any, project: Any, *, local: bool) -> Posthog:
    return Posthog(
        project.team.api_token,
        host=live_server.url,
        secret_key=project.key_value if local else None,
        enable_local_evaluation=local,
        poll_interval=600,
        feature_flags_request_timeout_seconds=10,
        max_retries=0,
        sync_mode=True,
    )


def server_v2(token: str, key: str, distinct_id: str) -> bool:
    body = {"token": token, "distinct_id": distinct_id}
    response = Client().post("/flags/?v=2", json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()["flags"][key]["enabled"]


def expected(key: str, distinct_id: str) -> bool:
    return distinct_id in MEMBERS[key]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_remote_evaluation(live_server: Any, cohort_project: Any) -> None:
    client = client_for(live_server, cohort_project, local=False)
    token = cohort_project.team.api_token
    for key in MEMBERS:
        for distinct_id in PEOPLE:
            got = client.get_feature_flag(key, distinct_id, send_feature_flag_events=False)
            assert bool(got) is expected(key, distinct_id), (key, distinct_id)
            assert server_v2(token, key, distinct_id) is expected(key, distinct_id), (key, distinct_id)
    client.shutdown()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_local_evaluation_with_personal_key(live_server: Any, cohort_project: Any) -> None:
    client = client_for(live_server, cohort_project, local=True)
    client.load_feature_flags()
    assert {f["key"] for f in client.feature_flags or []} == set(MEMBERS)
    assert len(client.cohorts or {}) == 2  # C1 and C8; the static S1 is never sent
    token = cohort_project.team.api_token
    for distinct_id, properties in PEOPLE.items():
        for key in MEMBERS:
            local_only = client.get_feature_flag(
                key,
                distinct_id,
                person_properties=properties,
                only_evaluate_locally=True,
                send_feature_flag_events=False,
            )
            # Decided in the SDK from the polled cohorts when the caller gives the properties; a static
            # cohort (members not sent) or missing properties leave it undecided locally.
            decidable = key in DYNAMIC and bool(properties)
            assert local_only is (expected(key, distinct_id) if decidable else None), (key, distinct_id)
            got = client.get_feature_flag(
                key, distinct_id, person_properties=properties, send_feature_flag_events=False
            )
            assert bool(got) is expected(key, distinct_id), (key, distinct_id)  # else the server decides
            assert server_v2(token, key, distinct_id) is expected(key, distinct_id), (key, distinct_id)
    client.shutdown()
