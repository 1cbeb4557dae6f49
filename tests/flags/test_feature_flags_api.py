"""Feature flag CRUD under /api/projects/:id/feature_flags/ (and /api/environments/)."""

from __future__ import annotations

from typing import Any

import pytest

from flags.models import FeatureFlag
from tests.auth_matrix import assert_auth_matrix

SEED_FLAG = {
    "key": "new-dashboard",
    "name": "New Dashboard",
    "active": True,
    "filters": {"groups": [{"rollout_percentage": 50}]},
}


def url(project: Any, suffix: str = "", prefix: str = "projects") -> str:
    return f"/api/{prefix}/{project.team.pk}/feature_flags/{suffix}"


def create(project: Any, body: dict[str, Any]) -> Any:
    return project.client().post(url(project), body, format="json")


def test_seed_example_creates_flag(project: Any) -> None:
    response = create(project, SEED_FLAG)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["key"] == "new-dashboard"
    assert body["name"] == "New Dashboard"
    assert body["active"] is True
    assert body["filters"] == {"groups": [{"rollout_percentage": 50}]}
    assert body["version"] == 1
    assert body["deleted"] is False
    assert body["is_simple_flag"] is True
    assert body["rollout_percentage"] == 50
    assert body["created_by"]["email"] == project.user.email
    assert FeatureFlag.objects.get(pk=body["id"]).team_id == project.team.pk


def test_list_retrieve_under_both_prefixes(project: Any) -> None:
    flag_id = create(project, SEED_FLAG).json()["id"]
    for prefix in ("projects", "environments"):
        listed = project.client().get(url(project, prefix=prefix))
        assert listed.status_code == 200
        assert [f["key"] for f in listed.json()["results"]] == ["new-dashboard"]
        assert listed.json()["count"] == 1
        one = project.client().get(url(project, f"{flag_id}", prefix=prefix))
        assert one.status_code == 200
        assert one.json()["id"] == flag_id


def test_list_search_matches_key_or_name(project: Any) -> None:
    create(project, SEED_FLAG)
    create(project, {"key": "checkout-v2", "name": "Faster checkout"})
    found = project.client().get(url(project), {"search": "faster"}).json()["results"]
    assert [f["key"] for f in found] == ["checkout-v2"]


def test_duplicate_key_rejected_with_posthog_body(project: Any) -> None:
    create(project, SEED_FLAG)
    response = create(project, SEED_FLAG)
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "unique",
        "detail": "There is already a feature flag with this key.",
        "attr": "key",
    }


def test_same_key_allowed_in_another_project(project: Any, other_project: Any) -> None:
    assert create(project, SEED_FLAG).status_code == 201
    assert create(other_project, SEED_FLAG).status_code == 201


@pytest.mark.parametrize("key", ["foo?bar=baz", "foo/bar", "foo.bar", "foo bar", "ünïcode"])
def test_key_with_invalid_characters_rejected(project: Any, key: str) -> None:
    response = create(project, {"key": key})
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_key",
        "detail": "Only letters, numbers, hyphens (-) & underscores (_) are allowed.",
        "attr": "key",
    }


@pytest.mark.parametrize(
    ("filters", "detail"),
    [
        (
            {"groups": [], "multivariate": {"variants": [{"key": "a", "rollout_percentage": 60}]}},
            "Invalid variant definitions: Variant rollout percentages must sum to 100.",
        ),
        (
            {"groups": [{"properties": [{"key": "x", "value": "y", "type": "event"}]}]},
            "Filters are not valid (can only use person, cohort, and flag properties)",
        ),
        (
            {"groups": [{"properties": [{"key": "age", "value": 3, "operator": "gt", "type": "person"}]}]},
            "Invalid value for operator gt: 3",
        ),
        ({"groups": [{"variant": "nope"}]}, "Filters are not valid (variant override does not exist)"),
        (
            {"groups": [{"properties": [{"key": "1", "type": "flag", "value": True, "operator": "exact"}]}]},
            "Flag properties must use the 'flag_evaluates_to' operator",
        ),
        ({"groups": [], "payloads": {"false": "1"}}, "Payload keys must be 'true' for boolean flags"),
        ({"groups": [], "payloads": {"true": "{not json"}}, "Payload value is not valid JSON"),
        ({"groups": [{"rollout_percentage": 150}]}, "Rollout percentage must be a number between 0 and 100."),
        (
            {
                "groups": [{"properties": [{"key": "name", "type": "person", "value": "x"}]}],
                "aggregation_group_type_index": 0,
            },
            "Filters are not valid (can only use group properties)",
        ),
    ],
)
def test_invalid_filters_rejected(project: Any, filters: dict[str, Any], detail: str) -> None:
    response = create(project, {"key": "bad", "filters": filters})
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert response.json()["attr"] == "filters"
    assert response.json()["detail"] == detail
    assert not FeatureFlag.objects.filter(key="bad").exists()


def test_multivariate_with_payloads_accepted(project: Any) -> None:
    filters = {
        "groups": [{"properties": [], "rollout_percentage": 100}],
        "multivariate": {
            "variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
        },
        "payloads": {"test": '{"color": "red"}'},
    }
    response = create(project, {"key": "exp", "filters": filters})
    assert response.status_code == 201, response.content
    assert response.json()["filters"] == filters
    assert response.json()["is_simple_flag"] is False


def test_legacy_rollout_percentage_becomes_a_condition(project: Any) -> None:
    response = create(project, {"key": "legacy", "rollout_percentage": 30})
    assert response.status_code == 201
    assert response.json()["filters"] == {"groups": [{"properties": [], "rollout_percentage": 30}]}


def test_patch_bumps_version_and_keeps_other_fields(project: Any) -> None:
    flag_id = create(project, SEED_FLAG).json()["id"]
    response = project.client().patch(url(project, f"{flag_id}/"), {"active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["version"] == 2
    assert response.json()["filters"] == SEED_FLAG["filters"]
    assert response.json()["name"] == "New Dashboard"


def test_put_replaces_and_bumps_version(project: Any) -> None:
    flag_id = create(project, SEED_FLAG).json()["id"]
    body = {"key": "new-dashboard", "name": "Renamed", "filters": {"groups": [{"rollout_percentage": 100}]}}
    response = project.client().put(url(project, f"{flag_id}"), body, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["rollout_percentage"] == 100
    assert response.json()["version"] == 2


def test_patch_to_an_existing_key_rejected(project: Any) -> None:
    create(project, SEED_FLAG)
    other = create(project, {"key": "other"}).json()["id"]
    response = project.client().patch(url(project, f"{other}"), {"key": "new-dashboard"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unique"


def test_delete_is_soft_and_frees_the_key(project: Any) -> None:
    flag_id = create(project, SEED_FLAG).json()["id"]
    response = project.client().delete(url(project, f"{flag_id}/"))
    assert response.status_code == 204
    assert FeatureFlag.objects.get(pk=flag_id).deleted is True
    assert project.client().get(url(project, f"{flag_id}")).status_code == 404
    assert project.client().get(url(project)).json()["count"] == 0
    assert create(project, SEED_FLAG).status_code == 201


def test_patch_deleted_true_soft_deletes(project: Any) -> None:
    flag_id = create(project, SEED_FLAG).json()["id"]
    response = project.client().patch(url(project, f"{flag_id}"), {"deleted": True}, format="json")
    assert response.status_code == 200
    assert response.json()["deleted"] is True
    assert FeatureFlag.objects.get(pk=flag_id).deleted is True


def test_other_projects_flag_is_not_found(project: Any, other_project: Any) -> None:
    theirs = create(other_project, SEED_FLAG).json()["id"]
    for method in ("get", "patch", "delete"):
        response = getattr(project.client(), method)(url(project, f"{theirs}"), {}, format="json")
        assert response.status_code == 404, method
        assert response.json()["code"] == "not_found"
    assert FeatureFlag.objects.get(pk=theirs).deleted is False


def test_auth_matrix_on_every_action(project: Any, other_project: Any) -> None:
    flag_id = FeatureFlag.objects.create(team=project.team, key="existing", filters={"groups": []}).pk
    assert_auth_matrix(project, other_project, "GET", url(project), scope="feature_flag:read")
    assert_auth_matrix(project, other_project, "GET", url(project, f"{flag_id}"), scope="feature_flag:read")
    assert_auth_matrix(project, other_project, "POST", url(project), scope="feature_flag:write", data=SEED_FLAG)
    assert_auth_matrix(
        project, other_project, "PATCH", url(project, f"{flag_id}"), scope="feature_flag:write", data={"name": "x"}
    )
    assert_auth_matrix(
        project, other_project, "PUT", url(project, f"{flag_id}"), scope="feature_flag:write", data={"key": "existing"}
    )
    assert_auth_matrix(project, other_project, "DELETE", url(project, f"{flag_id}"), scope="feature_flag:write")
    assert FeatureFlag.objects.get(pk=flag_id).deleted is False


def test_read_scope_can_list(project: Any, key_with_scopes: Any) -> None:
    create(project, SEED_FLAG)
    assert key_with_scopes("feature_flag:read").get(url(project)).status_code == 200
