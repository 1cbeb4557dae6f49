"""Flag definitions for server SDKs: /flags/definitions, /api/feature_flag/local_evaluation and the project route."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from flags.models import FeatureFlag, GroupTypeMapping
from posthog_clone.accounts.services import personal_api_key_create
from tests.auth_matrix import assert_auth_matrix

PUBLIC_URLS = ["/flags/definitions?token={token}&send_cohorts", "/api/feature_flag/local_evaluation/?token={token}"]


@pytest.fixture
def flags(project: Any) -> list[FeatureFlag]:
    GroupTypeMapping.objects.create(team=project.team, group_type="company", group_type_index=0)
    return [
        FeatureFlag.objects.create(
            team=project.team, key="on", filters={"groups": [{"properties": [], "rollout_percentage": 100}]}
        ),
        FeatureFlag.objects.create(team=project.team, key="off", active=False, filters={"groups": []}),
        FeatureFlag.objects.create(team=project.team, key="gone", deleted=True, filters={"groups": []}),
    ]


def bearer(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {value}")
    return client


@pytest.mark.parametrize("template", PUBLIC_URLS)
def test_personal_key_gets_definitions(project: Any, flags: list[FeatureFlag], template: str) -> None:
    response = project.client().get(template.format(token=project.team.api_token))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [f["key"] for f in body["flags"]] == ["on", "off"]
    on = body["flags"][0]
    assert on == {
        "id": flags[0].pk,
        "team_id": project.team.pk,
        "name": "",
        "key": "on",
        "filters": {"groups": [{"properties": [], "rollout_percentage": 100}]},
        "deleted": False,
        "active": True,
        "ensure_experience_continuity": False,
        "version": 1,
    }
    assert body["group_type_mapping"] == {"0": "company"}
    assert body["cohorts"] == {}
    assert response["ETag"]


@pytest.mark.parametrize("template", PUBLIC_URLS)
def test_project_secret_key_gets_definitions(project: Any, flags: list[FeatureFlag], template: str) -> None:
    client = bearer(project.team.secret_api_token)
    response = client.get(template.format(token=project.team.api_token))
    assert response.status_code == 200, response.content
    assert len(response.json()["flags"]) == 2
    assert client.get("/api/feature_flag/local_evaluation").status_code == 200  # the secret alone picks the project


def test_etag_gives_304(project: Any, flags: list[FeatureFlag]) -> None:
    url = PUBLIC_URLS[0].format(token=project.team.api_token)
    etag = project.client().get(url)["ETag"]
    assert project.client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    FeatureFlag.objects.filter(pk=flags[0].pk).update(version=2)
    assert project.client().get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_secret_key_of_another_project_is_refused(project: Any, other_project: Any, flags: list[FeatureFlag]) -> None:
    response = bearer(other_project.team.secret_api_token).get(PUBLIC_URLS[0].format(token=project.team.api_token))
    assert response.status_code == 403


@pytest.mark.parametrize("template", PUBLIC_URLS)
def test_auth_failures(project: Any, other_project: Any, flags: list[FeatureFlag], template: str) -> None:
    url = template.format(token=project.team.api_token)
    assert APIClient().get(url).status_code == 401
    assert bearer("phs_wrong").get(url).status_code == 401
    assert bearer("phx_wrong000000000000000000000000000").get(url).status_code == 401
    assert bearer(project.team.api_token).get(url).status_code == 401  # phc_ is not a credential
    _, no_scope = personal_api_key_create(user=project.user, label="x", scopes=["person:read"])
    missing = bearer(no_scope).get(url)
    assert missing.status_code == 403
    assert missing.json()["detail"] == "API key missing required scope 'feature_flag:read'"
    _, read_only = personal_api_key_create(user=project.user, label="r", scopes=["feature_flag:read"])
    assert bearer(read_only).get(url).status_code == 200
    outsider = other_project.client().get(url)
    assert outsider.status_code == 403
    assert outsider.json()["detail"] == "You don't have access to the project."
    _, elsewhere = personal_api_key_create(
        user=project.user, label="e", scopes=["*"], scoped_teams=[other_project.team.pk]
    )
    assert bearer(elsewhere).get(url).status_code == 403
    unknown = project.client().get(template.format(token="phc_unknown"))
    assert unknown.status_code == 401
    assert project.client().get(template.split("?")[0]).status_code == 400  # token required for personal keys


def test_project_route_local_evaluation(project: Any, other_project: Any, flags: list[FeatureFlag]) -> None:
    url = f"/api/projects/{project.team.pk}/feature_flags/local_evaluation/"
    response = project.client().get(url)
    assert response.status_code == 200
    assert [f["key"] for f in response.json()["flags"]] == ["on", "off"]
    assert_auth_matrix(project, other_project, "GET", url, scope="feature_flag:read")


@pytest.mark.parametrize("credential", ["personal", "secret"])
def test_local_evaluation_rate_limit(project: Any, flags: list[FeatureFlag], settings: Any, credential: str) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "local_evaluation": "2/minute"}
    client = project.client() if credential == "personal" else bearer(project.team.secret_api_token)
    url = PUBLIC_URLS[0].format(token=project.team.api_token)
    codes = [client.get(url).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(url).json()["code"] == "throttled"
    cache.clear()
