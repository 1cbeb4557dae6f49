"""POST /flags and /decide: body encodings, response versions, config merging, errors, CORS, caching."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from flags.evaluation import in_rollout
from flags.models import FeatureFlag
from persons.models import Person, PersonDistinctId

ORIGIN = "https://shop.example.com"
PRO = {"key": "plan", "value": "pro", "operator": "exact", "type": "person"}


@pytest.fixture
def flags(project: Any) -> dict[str, FeatureFlag]:
    team = project.team
    return {
        "test-flag": FeatureFlag.objects.create(
            team=team, key="test-flag", filters={"groups": [{"rollout_percentage": 100}], "payloads": {"true": "42"}}
        ),
        "half": FeatureFlag.objects.create(team=team, key="half", filters={"groups": [{"rollout_percentage": 50}]}),
        "mv": FeatureFlag.objects.create(
            team=team,
            key="mv",
            filters={
                "groups": [{"rollout_percentage": 100}],
                "multivariate": {
                    "variants": [{"key": "a", "rollout_percentage": 50}, {"key": "b", "rollout_percentage": 50}]
                },
                "payloads": {"a": '{"x": 1}'},
            },
        ),
        "pro": FeatureFlag.objects.create(team=team, key="pro", filters={"groups": [{"properties": [PRO]}]}),
        "off": FeatureFlag.objects.create(
            team=team, key="off", active=False, filters={"groups": [{"rollout_percentage": 100}]}
        ),
    }


def post_json(path: str, body: Any, **extra: Any) -> Any:
    return Client().post(path, json.dumps(body), content_type="application/json", **extra)


def body_for(project: Any, distinct_id: str = "user-2", **more: Any) -> dict[str, Any]:
    return {"token": project.team.api_token, "distinct_id": distinct_id, **more}


def test_v2_shape(project: Any, flags: dict[str, FeatureFlag]) -> None:
    response = post_json("/flags/?v=2", body_for(project))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"flags", "errorsWhileComputingFlags", "requestId", "evaluatedAt"}
    assert body["errorsWhileComputingFlags"] is False
    assert isinstance(body["evaluatedAt"], int)
    assert body["flags"]["test-flag"] == {
        "key": "test-flag",
        "enabled": True,
        "variant": None,
        "reason": {"code": "condition_match", "condition_index": 0, "description": "Matched condition set 1"},
        "metadata": {
            "id": flags["test-flag"].pk,
            "version": 1,
            "description": None,
            "payload": "42",
            "has_experiment": False,
        },
    }
    assert body["flags"]["half"]["enabled"] is in_rollout("half", "user-2", 50)
    assert body["flags"]["mv"]["variant"] in ("a", "b")
    assert body["flags"]["pro"]["reason"]["code"] == "no_condition_match"
    assert body["flags"]["off"]["enabled"] is False
    assert body["flags"]["off"]["reason"]["code"] == "flag_disabled"


def test_v4_like_v2_and_no_v_no_config_is_v2_with_config(project: Any, flags: dict[str, FeatureFlag]) -> None:
    v4 = post_json("/flags?v=4", body_for(project)).json()
    assert v4["flags"]["test-flag"]["enabled"] is True
    assert "supportedCompression" not in v4
    default = post_json("/flags", {"token": project.team.api_token, "distinct_id": "x", "groups": {}}).json()
    assert default["errorsWhileComputingFlags"] is False
    assert default["flags"]["test-flag"]["enabled"] is True  # vector 28
    assert default["supportedCompression"] == ["gzip", "gzip-js"]
    assert default["hasFeatureFlags"] is True


def test_config_true_merges_remote_config(project: Any, flags: dict[str, FeatureFlag]) -> None:
    body = post_json("/flags/?v=2&config=true", body_for(project)).json()
    assert body["flags"]["test-flag"]["enabled"] is True
    assert body["sessionRecording"] is False
    assert body["config"] == {"enable_collect_everything": True}
    assert body["token"] == project.team.api_token


@pytest.mark.parametrize("path", ["/flags/?v=1", "/flags?config=true"])
def test_legacy_shape(project: Any, flags: dict[str, FeatureFlag], path: str) -> None:
    body = post_json(path, body_for(project, "user-3")).json()
    assert "flags" not in body
    expected_mv = body["featureFlags"]["mv"]
    assert body["featureFlags"] == {
        "test-flag": True,
        "half": in_rollout("half", "user-3", 50),
        "mv": expected_mv,
        "pro": False,
        "off": False,
    }
    assert expected_mv in ("a", "b")
    payloads = {"test-flag": "42", **({"mv": '{"x": 1}'} if expected_mv == "a" else {})}
    assert body["featureFlagPayloads"] == payloads


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (None, ["test-flag", "mv"]),
        ("1", ["test-flag", "mv"]),
        ("2", {"test-flag": True, "mv": "b"}),
        ("3", {"test-flag": True, "half": False, "mv": "b", "pro": False, "off": False}),
    ],
)
def test_decide_versions(project: Any, flags: dict[str, FeatureFlag], version: str | None, expected: Any) -> None:
    FeatureFlag.objects.filter(key="half").update(filters={"groups": [{"rollout_percentage": 0}]})
    FeatureFlag.objects.filter(key="mv").update(
        filters={"groups": [{}], "multivariate": {"variants": [{"key": "b", "rollout_percentage": 100}]}}
    )
    from flags.cache import caches_clear

    caches_clear()  # .update() bypasses the save signal
    path = "/decide/" + (f"?v={version}" if version else "")
    body = post_json(path, body_for(project)).json()
    assert body["featureFlags"] == expected
    assert body["supportedCompression"] == ["gzip", "gzip-js"]  # config always on


def test_decide_v4_is_flags_v2(project: Any, flags: dict[str, FeatureFlag]) -> None:
    body = post_json("/decide/?v=4", body_for(project)).json()
    assert body["flags"]["test-flag"]["enabled"] is True
    assert body["sessionRecording"] is False


def test_stored_person_properties_and_request_override(project: Any, flags: dict[str, FeatureFlag]) -> None:
    person = Person.objects.create(team=project.team, properties={"plan": "pro"}, created_at="2026-11-01T00:00Z")
    PersonDistinctId.objects.create(team=project.team, person=person, distinct_id="pro-user")
    stored = post_json("/flags/?v=2", body_for(project, "pro-user")).json()["flags"]["pro"]
    assert (stored["enabled"], stored["reason"]["code"]) == (True, "condition_match")
    overridden = post_json("/flags/?v=2", body_for(project, "pro-user", person_properties={"plan": "free"}))
    assert overridden.json()["flags"]["pro"]["enabled"] is False
    given = post_json("/flags/?v=2", body_for(project, "nobody", person_properties={"plan": "pro"}))
    assert given.json()["flags"]["pro"]["enabled"] is True


def test_group_flag_through_the_endpoint(project: Any) -> None:
    from flags.models import GroupTypeMapping

    GroupTypeMapping.objects.create(team=project.team, group_type="company", group_type_index=0)
    tier = {"key": "tier", "value": "enterprise", "type": "group", "group_type_index": 0}
    FeatureFlag.objects.create(
        team=project.team, key="big-co", filters={"aggregation_group_type_index": 0, "groups": [{"properties": [tier]}]}
    )
    groups = {"groups": {"company": "acme"}, "group_properties": {"company": {"tier": "enterprise"}}}
    assert post_json("/flags/?v=2", body_for(project, **groups)).json()["flags"]["big-co"]["enabled"] is True
    no_group = post_json("/flags/?v=2", body_for(project)).json()["flags"]["big-co"]
    assert no_group["reason"]["code"] == "no_group_type"


def test_flag_keys_and_disable_flags(project: Any, flags: dict[str, FeatureFlag]) -> None:
    only = post_json("/flags/?v=2", body_for(project, flag_keys=["mv"])).json()
    assert list(only["flags"]) == ["mv"]
    disabled = post_json("/flags/?v=2&config=true", body_for(project, disable_flags=True)).json()
    assert disabled["flags"] == {}
    assert disabled["hasFeatureFlags"] is True


def test_gzip_text_plain_body(project: Any, flags: dict[str, FeatureFlag]) -> None:
    raw = gzip.compress(json.dumps(body_for(project)).encode())
    response = Client().post("/flags/?v=2", raw, content_type="text/plain")
    assert response.status_code == 200, response.content
    assert response.json()["flags"]["test-flag"]["enabled"] is True


def test_base64_form_body(project: Any, flags: dict[str, FeatureFlag]) -> None:
    data = base64.b64encode(json.dumps(body_for(project)).encode()).decode()
    form = urlencode({"data": data, "compression": "base64"})
    response = Client().post("/flags/?v=2", form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200, response.content
    assert response.json()["flags"]["test-flag"]["enabled"] is True


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"distinct_id": "x"}, 401, "missing_api_key"),
        ({"token": "phc_does_not_exist", "distinct_id": "x"}, 401, "invalid_api_key"),
        ({"token": "TOKEN"}, 400, "missing_distinct_id"),
        ({"token": "TOKEN", "distinct_id": "  "}, 400, "missing_distinct_id"),
        (["not", "an", "object"], 400, "invalid_payload"),
    ],
)
def test_errors(project: Any, body: Any, status: int, code: str) -> None:
    body = json.loads(json.dumps(body).replace("TOKEN", project.team.api_token))
    for path in ("/flags/?v=2", "/decide/?v=3"):
        response = post_json(path, body)
        assert response.status_code == status, path
        assert response.json()["code"] == code


def test_invalid_json_is_400(project: Any) -> None:
    response = Client().post("/flags/?v=2", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_payload"
    assert response.json()["detail"].startswith("Malformed request data: Invalid JSON")


def test_numeric_distinct_id_and_aliases(project: Any, flags: dict[str, FeatureFlag]) -> None:
    response = post_json("/flags/?v=2", {"api_key": project.team.api_token, "$distinct_id": 23})
    assert response.status_code == 200
    assert response.json()["flags"]["half"]["enabled"] is in_rollout("half", "23", 50)


def test_get_head_options(project: Any) -> None:
    got = Client().get("/flags/")
    assert got.status_code == 200
    assert got.json()["supportedCompression"] == ["gzip", "gzip-js"]
    assert got.json()["config"] == {"enable_collect_everything": True}
    assert Client().head("/flags").status_code == 200
    preflight = Client().options("/flags/?v=2", HTTP_ORIGIN=ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight["Access-Control-Allow-Credentials"] == "true"
    assert preflight["Access-Control-Allow-Headers"] == "content-type"


def test_cors_on_answers_and_errors(project: Any, flags: dict[str, FeatureFlag]) -> None:
    ok = post_json("/flags/?v=2", body_for(project), HTTP_ORIGIN=ORIGIN)
    assert ok["Access-Control-Allow-Origin"] == ORIGIN
    bad = post_json("/decide/", {"distinct_id": "x"}, HTTP_ORIGIN=ORIGIN)
    assert bad.status_code == 401
    assert bad["Access-Control-Allow-Origin"] == ORIGIN


def test_evaluation_uses_cached_definitions(project: Any, flags: dict[str, FeatureFlag]) -> None:
    post_json("/flags/?v=2", body_for(project))  # fills the token and flag caches
    with CaptureQueriesContext(connection) as queries:
        assert post_json("/flags/?v=2", body_for(project)).status_code == 200
    # Only the stored-person lookup remains (the project has a person-property flag); no flag query.
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert "ingestion_person" in queries[0]["sql"]


def test_flag_changes_invalidate_the_cache(project: Any, flags: dict[str, FeatureFlag]) -> None:
    assert post_json("/flags/?v=2", body_for(project)).json()["flags"]["test-flag"]["enabled"] is True
    response = project.client().patch(
        f"/api/projects/{project.team.pk}/feature_flags/{flags['test-flag'].pk}", {"active": False}, format="json"
    )
    assert response.status_code == 200
    after = post_json("/flags/?v=2", body_for(project)).json()["flags"]["test-flag"]
    assert (after["enabled"], after["metadata"]["version"]) == (False, 2)
    project.client().delete(f"/api/projects/{project.team.pk}/feature_flags/{flags['test-flag'].pk}")
    assert "test-flag" not in post_json("/flags/?v=2", body_for(project)).json()["flags"]
