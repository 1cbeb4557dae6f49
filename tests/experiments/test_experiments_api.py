"""/api/projects/:id/experiments/ (reference §3.1): CRUD, the experiment's flag, draft → running → stopped,
update rules, holdouts and shared metrics; the auth matrix on every endpoint."""

from __future__ import annotations

from typing import Any

import pytest

from experiments.models import Experiment
from flags.evaluation import EvaluationContext, FlagDefinition, evaluate_flag, in_holdout
from flags.models import FeatureFlag
from tests.auth_matrix import assert_auth_matrix

FUNNEL = {"kind": "ExperimentMetric", "metric_type": "funnel", "series": [{"kind": "EventsNode", "event": "purchase"}]}


def base(project: Any, resource: str = "experiments") -> str:
    return f"/api/projects/{project.team.pk}/{resource}/"


def create(project: Any, **data: Any) -> Any:
    body = {"name": "Checkout test", "feature_flag_key": "checkout-test", **data}
    return project.client().post(base(project), body, format="json")


def error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}
    return body


@pytest.mark.django_db
def test_create_makes_the_multivariate_flag(project: Any) -> None:
    response = create(project, description="d", metrics=[FUNNEL])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["feature_flag_key"] == "checkout-test" and body["start_date"] is None
    flag = FeatureFlag.objects.get(team=project.team, key="checkout-test")
    assert flag.name == "Feature Flag for Experiment Checkout test" and flag.active is False
    assert flag.filters["multivariate"]["variants"] == [
        {"key": "control", "name": "Control Group", "rollout_percentage": 50},
        {"key": "test", "name": "Test Variant", "rollout_percentage": 50},
    ]
    assert flag.filters["groups"] == [{"properties": [], "rollout_percentage": 100}]
    assert body["feature_flag"]["id"] == flag.pk and body["feature_flag"]["key"] == "checkout-test"
    assert body["stats_config"] == {"method": "bayesian"}
    metric = body["metrics"][0]
    assert metric["uuid"] and len(metric["fingerprint"]) == 64
    assert body["primary_metrics_ordered_uuids"] == [metric["uuid"]]
    assert body["user_access_level"] == "editor" and body["created_by"]["email"] == project.user.email


@pytest.mark.django_db
def test_custom_variants_and_existing_flag(project: Any) -> None:
    variants = [{"key": "control", "rollout_percentage": 34}, {"key": "a", "rollout_percentage": 33},
                {"key": "b", "rollout_percentage": 33}]  # fmt: skip
    response = create(project, parameters={"feature_flag_variants": variants})
    assert response.status_code == 201
    assert FeatureFlag.objects.get(key="checkout-test").filters["multivariate"]["variants"] == variants
    # a live flag with that key is reused
    again = create(project, name="Second", parameters={})
    assert again.status_code == 201 and again.json()["feature_flag"]["id"] == response.json()["feature_flag"]["id"]
    FeatureFlag.objects.create(team=project.team, key="plain", filters={"groups": []})
    assert error(create(project, feature_flag_key="plain"))["detail"] == "Feature flag is not eligible for experiments."
    FeatureFlag.objects.create(
        team=project.team,
        key="test-first",
        filters={
            "multivariate": {
                "variants": [{"key": "test", "rollout_percentage": 50}, {"key": "control", "rollout_percentage": 50}]
            }
        },  # fmt: skip
    )
    body = error(create(project, feature_flag_key="test-first"))
    assert body["detail"] == "Feature flag must have control as the first variant."


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "detail", "attr"),
    [
        ({"parameters": {"feature_flag_variants": [{"key": "a", "rollout_percentage": 100}]}},
         "Feature flag variants must contain a control variant", "parameters"),
        ({"parameters": {"feature_flag_variants": [{"key": "control", "rollout_percentage": 4}]
                         + [{"key": f"v{i}", "rollout_percentage": 4} for i in range(20)]}},
         "Feature flag variants must be less than 21", "parameters"),
        ({"start_date": "2026-01-02T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
         "End date must be after start date", "end_date"),
        ({"filters": {"properties": [{"key": "a", "value": "b"}]}},
         "Experiments do not support global filter properties", "filters"),
        ({"exposure_criteria": {"filterTestAccounts": "yes"}},
         "filterTestAccounts must be a boolean", "exposure_criteria"),
        ({"exposure_criteria": {"exposure_config": {"kind": "Nope"}}},
         "Invalid exposure criteria", "exposure_criteria"),
        ({"saved_metrics_ids": [{"id": 999999}]},
         "Saved metric does not exist or does not belong to this project", "saved_metrics_ids"),
        ({"metrics": [{"kind": "ExperimentMetric", "metric_type": "median"}]},
         "metric_type must be one of mean, funnel, ratio", "metrics"),
        ({"stats_config": {"method": "magic"}},
         'stats_config.method must be "bayesian" or "frequentist"', "stats_config"),
        ({"parameters": {"feature_flag_variants": [{"key": "control", "rollout_percentage": 60},
                                                   {"key": "test", "rollout_percentage": 60}]}},
         "Invalid variant definitions: Variant rollout percentages must sum to 100.", "parameters"),
        ({"feature_flag_key": "bad key!"}, None, "feature_flag_key"),
        ({"name": ""}, "This field may not be blank.", "name"),
    ],
)  # fmt: skip
def test_create_validation(project: Any, data: dict, detail: str | None, attr: str) -> None:
    body = error(create(project, **data))
    assert body["type"] == "validation_error" and body["attr"] == attr
    if detail:
        assert body["detail"] == detail
    assert not Experiment.objects.exists()


@pytest.mark.django_db
def test_lifecycle_draft_running_stopped_archived_deleted(project: Any) -> None:
    experiment = create(project).json()
    url = f"{base(project)}{experiment['id']}/"
    client = project.client()
    flag = FeatureFlag.objects.get(key="checkout-test")
    # a draft's variants rewrite the flag
    variants = [{"key": "control", "rollout_percentage": 30}, {"key": "test", "rollout_percentage": 70}]
    assert client.patch(url, {"parameters": {"feature_flag_variants": variants}}, format="json").status_code == 200
    flag.refresh_from_db()
    assert flag.filters["multivariate"]["variants"] == variants and flag.active is False
    # launch
    launched = client.patch(url, {"start_date": "2026-11-01T00:00:00Z"}, format="json")
    assert launched.status_code == 200 and launched.json()["start_date"] == "2026-11-01T00:00:00Z"
    flag.refresh_from_db()
    assert flag.active is True
    assert (
        error(client.patch(url, {"parameters": {"feature_flag_variants": list(reversed(variants))}}, format="json"))[
            "detail"
        ]
        == "Can't update feature_flag_variants on Experiment"
    )
    assert (
        error(client.patch(url, {"feature_flag_key": "x", "type": "web"}, format="json"))["detail"]
        == "Can't update keys: feature_flag_key, type on Experiment"
    )
    assert (
        error(client.patch(url, {"end_date": "2026-10-01T00:00:00Z"}, format="json"))["detail"]
        == "End date must be after start date"
    )
    stopped = client.patch(url, {"end_date": "2026-11-20T00:00:00Z", "conclusion": "won"}, format="json")
    assert stopped.status_code == 200 and stopped.json()["conclusion"] == "won"
    assert client.patch(url, {"archived": True}, format="json").json()["archived"] is True
    listed = client.get(base(project)).json()
    assert [e["id"] for e in listed["results"]] == [experiment["id"]]
    assert client.get(base(project) + "?archived=false").json()["results"] == []
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert Experiment.objects.get(pk=experiment["id"]).deleted is True
    assert client.get(f"{base(project)}abc/").status_code == 404


@pytest.mark.django_db
def test_environments_path_and_other_project_ids(project: Any, other_project: Any) -> None:
    experiment = create(project).json()
    env = f"/api/environments/{project.team.pk}/experiments/{experiment['id']}/"
    assert project.client().get(env).json()["id"] == experiment["id"]
    theirs = f"/api/projects/{other_project.team.pk}/experiments/{experiment['id']}/"
    assert other_project.client().get(theirs).status_code == 404


@pytest.mark.django_db
def test_holdouts_feed_the_flag_and_hold_the_same_users_out(project: Any) -> None:
    client = project.client()
    assert (
        error(client.post(base(project, "experiment_holdouts"), {"name": "h"}, format="json"))["detail"]
        == "Filters are required to create an holdout group"
    )
    holdout = client.post(
        base(project, "experiment_holdouts"),
        {"name": "Ten percent", "filters": [{"properties": [], "rollout_percentage": 10}]},
        format="json",
    ).json()
    assert holdout["filters"] == [{"properties": [], "rollout_percentage": 10, "variant": f"holdout-{holdout['id']}"}]
    experiment = create(project, holdout_id=holdout["id"]).json()
    assert experiment["holdout"]["id"] == holdout["id"]
    flag = FeatureFlag.objects.get(key="checkout-test")
    assert flag.filters["holdout_groups"] == holdout["filters"]
    assert flag.filters["holdout"] == {"id": holdout["id"], "exclusion_percentage": 10}  # what the SDKs read
    definition = FlagDefinition(id=flag.pk, key=flag.key, active=True, filters=flag.filters)
    held = [f"u{i}" for i in range(2000) if in_holdout(f"u{i}", 10)]
    assert 150 < len(held) < 250
    for distinct_id in held[:20]:
        result = evaluate_flag(definition, EvaluationContext(distinct_id=distinct_id))
        assert (result.variant, result.reason) == (f"holdout-{holdout['id']}", "holdout_condition_value")
    # running: the holdout cannot change; the holdout cannot be deleted while used
    url = f"{base(project)}{experiment['id']}/"
    client.patch(url, {"start_date": "2026-11-01T00:00:00Z"}, format="json")
    assert (
        error(client.patch(url, {"holdout_id": None}, format="json"))["detail"]
        == "Can't update holdout on running Experiment"
    )
    assert client.delete(f"{base(project, 'experiment_holdouts')}{holdout['id']}/").status_code == 400
    assert error(create(project, feature_flag_key="other", holdout_id=999999))["attr"] == "holdout_id"


@pytest.mark.django_db
def test_saved_metrics_attach_to_experiments(project: Any) -> None:
    client = project.client()
    url = base(project, "experiment_saved_metrics")
    assert error(client.post(url, {"name": "m", "query": {"kind": "Nope"}}, format="json"))["attr"] == "query"
    saved = client.post(url, {"name": "Purchases", "query": FUNNEL, "tags": ["core"]}, format="json")
    assert saved.status_code == 201, saved.content
    saved_id = saved.json()["id"]
    experiment = create(project, saved_metrics_ids=[{"id": saved_id, "metadata": {"type": "secondary"}}]).json()
    assert experiment["saved_metrics"][0]["saved_metric"] == saved_id
    assert experiment["saved_metrics"][0]["metadata"] == {"type": "secondary"}
    patched = client.patch(f"{url}{saved_id}/", {"name": "Renamed"}, format="json")
    assert patched.json()["name"] == "Renamed"
    assert client.delete(f"{url}{saved_id}/").status_code == 204


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "suffix", "scope", "data"),
    [
        ("get", "", "experiment:read", None),
        ("post", "", "experiment:write", {"name": "x", "feature_flag_key": "matrix"}),
        ("get", "{id}/", "experiment:read", None),
        ("patch", "{id}/", "experiment:write", {"name": "y"}),
        ("delete", "{id}/", "experiment:write", None),
        ("get", "{id}/results/", "experiment:read", None),
        ("post", "{id}/create_exposure_cohort_for_experiment/", "experiment:write", None),
    ],
)
def test_auth_matrix(project: Any, other_project: Any, method: str, suffix: str, scope: str, data: Any) -> None:
    experiment = create(project).json()
    assert_auth_matrix(project, other_project, method, base(project) + suffix.format(id=experiment["id"]),
                       scope=scope, data=data)  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("resource", ["experiment_holdouts", "experiment_saved_metrics"])
def test_auth_matrix_holdouts_and_saved_metrics(project: Any, other_project: Any, resource: str) -> None:
    assert_auth_matrix(project, other_project, "get", base(project, resource), scope="experiment:read")
    body = {"name": "x", "filters": [{"rollout_percentage": 5}], "query": FUNNEL}
    assert_auth_matrix(project, other_project, "post", base(project, resource), scope="experiment:write", data=body)
