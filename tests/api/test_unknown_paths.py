"""Every /api/ path answers JSON with PostHog's error body: an unknown path is a 404 whatever the method,
with or without a key, and CSRF never answers first (the test client enforces CSRF like a browser would)."""

from __future__ import annotations

import pytest
from django.test import Client

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Endpoint not found.", "attr": None}
UNKNOWN = ("/api/nothing/", "/api/nothing/here", "/api/projects/{id}/nothing_here/", "/api/environments/{id}/nothing/")


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize("with_key", [False, True])
def test_unknown_api_paths_are_json_404_for_every_method(project, method, with_key):
    client = Client(enforce_csrf_checks=True)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {project.key_value}"} if with_key else {}
    for template in UNKNOWN:
        path = template.format(id=project.team.id)
        body = {} if method == "get" else {"data": b"{}", "content_type": "application/json"}
        res = getattr(client, method)(path, **body, **headers)
        assert res.status_code == 404, (method, path, res.content[:200])
        assert res["Content-Type"] == "application/json", (method, path)
        assert res.json() == NOT_FOUND, (method, path)


@pytest.mark.django_db
def test_a_session_cookie_does_not_turn_an_unknown_path_into_a_csrf_failure(project):
    client = Client(enforce_csrf_checks=True)
    client.force_login(project.user)
    res = client.post(f"/api/projects/{project.team.id}/nothing/", data=b"{}", content_type="application/json")
    assert res.status_code == 404
    assert res.json() == NOT_FOUND


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "delete"])
def test_an_unknown_path_with_a_newline_is_json_404_too(api_client, method):
    """`^api/.*$` did not match across a newline: such a path fell through to Django's HTML 404."""
    res = getattr(api_client, method)("/api/projects/1/persons/%C3%B9%0A-x/")
    assert res.status_code == 404
    assert res.json() == NOT_FOUND
