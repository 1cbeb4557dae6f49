import pytest


def test_unknown_api_url_is_json_404(api_client):
    res = api_client.get("/api/nothing/here/")
    assert res.status_code == 404
    assert res.json() == {"type": "invalid_request", "code": "not_found", "detail": "Endpoint not found.", "attr": None}


def test_method_not_allowed_uses_error_body(project, client):
    client.force_login(project.user)
    res = client.delete("/api/users/@me/")
    assert res.status_code == 405
    assert res.json()["type"] == "invalid_request"
    assert res.json()["code"] == "method_not_allowed"


def test_first_validation_error_is_flattened():
    from rest_framework import exceptions

    from posthog_clone.api.exceptions import exception_handler

    exc = exceptions.ValidationError({"parent": {"child": ["This field is required."]}})
    exc.detail["parent"]["child"][0].code = "required"
    body = exception_handler(exc, {}).data
    assert body == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": "parent__child",
    }


def test_invalid_code_is_renamed():
    from rest_framework import exceptions

    from posthog_clone.api.exceptions import exception_handler

    body = exception_handler(exceptions.ValidationError("Bad."), {}).data
    assert body == {"type": "validation_error", "code": "invalid_input", "detail": "Bad.", "attr": None}


def test_unhandled_exception_is_json_500():
    from posthog_clone.api.exceptions import exception_handler

    res = exception_handler(RuntimeError("boom"), {})
    assert res.status_code == 500
    assert res.data == {"type": "server_error", "code": "error", "detail": "A server error occurred.", "attr": None}


def test_health_is_a_cheap_liveness_probe(client):
    res = client.get("/_health")
    assert res.status_code == 200 and res.json() == {"status": "ok"}


def test_a_body_nested_too_deeply_is_a_400_parse_error_on_every_json_endpoint(project):
    body = "[" * 100_000 + "]" * 100_000
    for url in (
        f"/api/projects/{project.team.pk}/feature_flags/",
        f"/api/projects/{project.team.pk}/file_system/",
        f"/api/projects/{project.team.pk}/event_definitions/",
    ):
        res = project.client().post(url, data=body, content_type="application/json")
        assert res.status_code == 400, (url, res.content)
        assert res.json() == {
            "type": "invalid_request",
            "code": "parse_error",
            "detail": "JSON parse error - the body is nested too deeply.",
            "attr": None,
        }


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"name": "a\x00b", "steps": [{"event": "e"}]}, "name"),
        ({"name": "ok", "steps": [{"event": "e", "properties": [{"key": "k\x00", "value": "v"}]}]}, "steps"),
        ({"name": "ok", "steps": [{"event": "e"}], "tags": ["t\x00"]}, "tags"),
    ],
)
def test_a_nul_character_anywhere_in_a_json_body_is_a_400_never_a_database_error(project, body, attr):
    """PostgreSQL cannot store U+0000 in text or jsonb (a DataError, a 500 before); both modes refuse it alike
    and store nothing."""
    url = f"/api/projects/{project.team.pk}/actions/"
    res = project.client().post(url, body, format="json")
    assert res.status_code == 400, res.content
    assert res.json() == {
        "type": "validation_error",
        "code": "null_characters_not_allowed",
        "detail": "Null characters are not allowed.",
        "attr": attr,
    }
    assert project.client().get(url).json()["results"] == []


def test_an_unpaired_surrogate_escape_is_a_400_never_a_database_error(project):
    url = f"/api/projects/{project.team.pk}/actions/"
    body = '{"name": "x", "steps": [{"event": "e", "properties": [{"key": "\\ud800", "value": "v", "type": "event"}]}]}'
    res = project.client().post(url, data=body, content_type="application/json")
    assert res.status_code == 400, res.content
    assert res.json() == {
        "type": "validation_error",
        "code": "surrogate_characters_not_allowed",
        "detail": "Unpaired surrogate characters are not allowed.",
        "attr": "steps",
    }
    paired = body.replace("\\ud800", "\\ud83d\\ude00")  # a valid pair (an emoji) is stored
    assert project.client().post(url, data=paired, content_type="application/json").status_code == 201


def test_a_huge_limit_or_offset_is_clamped_not_a_database_overflow(project):
    client = project.client()
    url = f"/api/projects/{project.team.pk}/feature_flags/"
    assert client.post(url, {"key": "one"}, format="json").status_code == 201
    huge = "100000000000000000000000"
    for query, expected in ((f"limit={huge}", ["one"]), (f"offset={huge}", []), (f"limit={huge}&offset={huge}", [])):
        res = client.get(f"{url}?{query}")
        assert res.status_code == 200, (query, res.content)
        assert [flag["key"] for flag in res.json()["results"]] == expected
