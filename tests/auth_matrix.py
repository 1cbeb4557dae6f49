"""The auth matrix every endpoint is tested with: no key, bad keys, missing scope, another project."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from posthog_clone.accounts.services import personal_api_key_create


def call(client: APIClient, method: str, url: str, data: Any = None) -> Any:
    return getattr(client, method.lower())(url, data=data, format="json")


def assert_auth_matrix(
    project: Any, other_project: Any, method: str, url: str, *, scope: str, data: Any = None
) -> None:
    """`url` belongs to `project`; `scope` is what the action needs (e.g. `event_definition:write`)."""
    anonymous = call(APIClient(), method, url, data)
    assert anonymous.status_code == 401, anonymous.content
    assert anonymous.json() == {
        "type": "authentication_error",
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "attr": None,
    }

    unknown = call(project.client("phx_doesnotexist000000000000000000000000000000000"), method, url, data)
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "authentication_failed"
    assert unknown.json()["detail"] == "Personal API key found in request Authorization header is invalid."

    project_token = call(project.client(project.team.api_token), method, url, data)
    assert project_token.status_code == 401, "a phc_ project key is not a private-API credential"

    obj, _, action = scope.partition(":")
    unrelated = "query:read" if obj != "query" else "feature_flag:read"
    _, value = personal_api_key_create(user=project.user, label="no-scope", scopes=[unrelated])
    missing = call(project.client(value), method, url, data)
    assert missing.status_code == 403, missing.content
    assert missing.json() == {
        "type": "authentication_error",
        "code": "permission_denied",
        "detail": f"API key missing required scope '{scope}'",
        "attr": None,
    }
    if action == "write":
        _, read_only = personal_api_key_create(user=project.user, label="read", scopes=[f"{obj}:read"])
        denied = call(project.client(read_only), method, url, data)
        assert denied.status_code == 403
        assert denied.json()["detail"] == f"API key missing required scope '{scope}'"

    outsider = call(other_project.client(), method, url, data)
    assert outsider.status_code == 403, outsider.content
    assert outsider.json()["detail"] == "You don't have access to the project."

    _, scoped_elsewhere = personal_api_key_create(
        user=project.user, label="elsewhere", scopes=["*"], scoped_teams=[other_project.team.pk]
    )
    wrong_team = call(project.client(scoped_elsewhere), method, url, data)
    assert wrong_team.status_code == 403
    assert (
        wrong_team.json()["detail"] == f"API key does not have access to the requested project: ID {project.team.pk}."
    )
