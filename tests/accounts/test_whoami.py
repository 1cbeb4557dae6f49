from posthog_clone.accounts.models import PersonalAPIKey


def test_me_returns_user_team_with_api_token_and_key_scopes(project, key_with_scopes):
    res = key_with_scopes("user:read", "event_definition:read").get("/api/users/@me/")
    assert res.status_code == 200
    body = res.json()
    assert body["email"] == "alice@example.com"
    assert body["team"]["id"] == project.team.pk
    assert body["team"]["project_id"] == project.team.pk
    assert body["team"]["api_token"] == project.team.api_token
    assert body["organization"]["id"] == str(project.organization.pk)
    assert body["scopes"] == ["user:read", "event_definition:read"]


def test_me_needs_user_read_scope(key_with_scopes):
    res = key_with_scopes("event_definition:read").get("/api/users/@me/")
    assert res.status_code == 403
    assert res.json()["detail"] == "API key missing required scope 'user:read'"


def test_me_works_without_trailing_slash(api_client):
    assert api_client.get("/api/users/@me").status_code == 200


def test_me_requires_credentials(client):
    res = client.get("/api/users/@me/")
    assert res.status_code == 401
    assert res.json()["code"] == "not_authenticated"


def test_key_in_body_and_query_string_authenticate(project):
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/users/@me/?personal_api_key={project.key_value}").status_code == 200
    bad = APIClient().get("/api/users/@me/?personal_api_key=phx_nope")
    assert bad.status_code == 401
    assert bad.json()["detail"] == "Personal API key found in request query string is invalid."


def test_last_used_at_is_recorded(project, api_client):
    api_client.get("/api/users/@me/")
    assert PersonalAPIKey.objects.get(pk=project.key.pk).last_used_at is not None


def test_session_login_works_for_browsable_api(project, client):
    client.force_login(project.user)
    assert client.get("/api/users/@me/").json()["scopes"] == ["*"]
