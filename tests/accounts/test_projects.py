import pytest

from tests.auth_matrix import assert_auth_matrix


def test_lists_only_projects_of_my_organizations(project, other_project, api_client):
    res = api_client.get("/api/projects/")
    assert res.status_code == 200
    assert [p["id"] for p in res.json()["results"]] == [project.team.pk]
    assert res.json()["count"] == 1


def test_retrieve_by_id_and_current(project, api_client):
    by_id = api_client.get(f"/api/projects/{project.team.pk}/")
    current = api_client.get("/api/projects/@current/")
    assert by_id.status_code == 200 and current.status_code == 200
    assert by_id.json() == current.json()
    assert by_id.json()["api_token"] == project.team.api_token


def test_project_auth_matrix(project, other_project):
    assert_auth_matrix(project, other_project, "GET", f"/api/projects/{project.team.pk}/", scope="project:read")


@pytest.mark.parametrize("raw", ["999999", "not-a-number", "0", "-3", str(2**63), "168501481769787379941376"])
def test_unknown_project_is_404(api_client, raw):
    res = api_client.get(f"/api/projects/{raw}/")
    assert res.status_code == 404
    assert res.json() == {"type": "invalid_request", "code": "not_found", "detail": "Project not found.", "attr": None}


def test_scoped_key_lists_only_its_projects(project, key_with_scopes):
    client = key_with_scopes("project:read", scoped_teams=[project.team.pk])
    assert [p["id"] for p in client.get("/api/projects").json()["results"]] == [project.team.pk]


def test_current_organization(project, api_client):
    res = api_client.get("/api/organizations/@current/")
    assert res.status_code == 200
    assert res.json()["id"] == str(project.organization.pk)
    assert res.json()["teams"][0]["api_token"] == project.team.api_token


def test_organization_needs_scope(key_with_scopes):
    res = key_with_scopes("query:read").get("/api/organizations/@current/")
    assert res.status_code == 403
    assert res.json()["detail"] == "API key missing required scope 'organization:read'"


def test_patch_project_settings(project, api_client):
    filters = [{"key": "email", "value": "@ourco.com", "operator": "not_icontains", "type": "person"}]
    url = f"/api/projects/{project.team.pk}/"
    res = api_client.patch(
        url,
        {"timezone": "Europe/Paris", "week_start_day": 1, "test_account_filters": filters, "api_token": "phc_x"},
        format="json",
    )
    assert res.status_code == 200, res.content
    body = api_client.get(url).json()
    assert (body["timezone"], body["week_start_day"], body["test_account_filters"]) == ("Europe/Paris", 1, filters)
    assert body["api_token"] == project.team.api_token  # read-only fields are ignored, as PostHog's


@pytest.mark.parametrize(
    ("data", "attr"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"week_start_day": 3}, "week_start_day"),
        ({"test_account_filters": [{"key": "email", "operator": "nearly"}]}, "test_account_filters"),
        ({"test_account_filters": "email"}, "test_account_filters"),
    ],
)
def test_patch_project_bad_settings_are_400(project, api_client, data, attr):
    url = f"/api/projects/{project.team.pk}/"
    before = api_client.get(url).json()
    res = api_client.patch(url, data, format="json")
    assert res.status_code == 400, res.content
    assert (res.json()["type"], res.json()["attr"]) == ("validation_error", attr)
    assert api_client.get(url).json() == before


def test_patch_project_auth_matrix(project, other_project):
    assert_auth_matrix(
        project, other_project, "PATCH", f"/api/projects/{project.team.pk}/", scope="project:write",
        data={"week_start_day": 1},
    )  # fmt: skip
