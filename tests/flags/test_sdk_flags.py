"""posthog-python and posthog-node, unmodified, against a live server: remote and local evaluation agree
with the server's /flags answers and with the reference rollout formula."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from posthog import Posthog

from flags.evaluation import FlagDefinition, in_rollout, matching_variant
from flags.models import FeatureFlag
from persons.models import Person, PersonDistinctId

ROOT = Path(__file__).resolve().parents[2]
NODE_SCRIPT = Path(__file__).parent / "js" / "node_flags.mjs"
JS_PACKAGE_JSON = ROOT / "tests" / "js" / "package.json"

VARIANTS = [
    {"key": "control", "rollout_percentage": 50},
    {"key": "test", "rollout_percentage": 25},
    {"key": "other", "rollout_percentage": 25},
]
FLAGS = {
    "always-on": {"groups": [{"properties": [], "rollout_percentage": 100}], "payloads": {"true": '{"colour": "red"}'}},
    "half-rollout": {"groups": [{"properties": [], "rollout_percentage": 50}]},
    "colour-test": {"groups": [{"properties": [], "rollout_percentage": 100}], "multivariate": {"variants": VARIANTS}},
    "pro-only": {"groups": [{"properties": [{"key": "plan", "value": "pro", "operator": "exact", "type": "person"}]}]},
}
USERS = [f"user-{i}" for i in range(1, 9)]


def expected_value(key: str, distinct_id: str, properties: dict[str, Any]) -> bool | str:
    """Independent of the server: straight from the reference formulas."""
    if key == "always-on":
        return True
    if key == "half-rollout":
        return in_rollout(key, distinct_id, 50)
    if key == "colour-test":
        variant = matching_variant(FlagDefinition(id=0, key=key, active=True, filters=FLAGS[key]), distinct_id)
        assert variant is not None
        return variant
    return properties.get("plan") == "pro"


@pytest.fixture
def sdk_project(project: Any) -> Any:
    for key, filters in FLAGS.items():
        FeatureFlag.objects.create(team=project.team, key=key, filters=filters)
    for distinct_id, plan in (("pro-user", "pro"), ("free-user", "free")):
        person = Person.objects.create(team=project.team, properties={"plan": plan}, created_at="2026-11-01T00:00Z")
        PersonDistinctId.objects.create(team=project.team, person=person, distinct_id=distinct_id)
    return project


def cases(*, with_properties: bool) -> list[dict[str, Any]]:
    """(flag, distinct id, person properties passed by the caller)."""
    plain = [key for key in FLAGS if key != "pro-only"]
    out = [{"key": key, "distinct_id": user, "person_properties": {}} for key in plain for user in USERS]
    for user, plan in (("pro-user", "pro"), ("free-user", "free")):
        given = {"plan": plan} if with_properties else {}
        out.append({"key": "pro-only", "distinct_id": user, "person_properties": given})
    return out


def server_answers(token: str, items: list[dict[str, Any]]) -> list[bool | str]:
    answers = []
    for item in items:
        body = {"token": token, "distinct_id": item["distinct_id"], "person_properties": item["person_properties"]}
        response = Client().post("/flags/?v=2", json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content
        flag = response.json()["flags"][item["key"]]
        answers.append(flag["variant"] if flag["variant"] is not None else flag["enabled"])
    return answers


def stored_properties(distinct_id: str) -> dict[str, Any]:
    return {"pro-user": {"plan": "pro"}, "free-user": {"plan": "free"}}.get(distinct_id, {})


def check_answers(items: list[dict[str, Any]], got: list[Any], token: str) -> None:
    server = server_answers(token, items)
    wanted = [
        expected_value(i["key"], i["distinct_id"], i["person_properties"] or stored_properties(i["distinct_id"]))
        for i in items
    ]
    assert server == wanted
    assert got == wanted
    half = [w for i, w in zip(items, wanted, strict=True) if i["key"] == "half-rollout"]
    assert True in half and False in half, "the sample must show both sides of the 50% rollout"
    assert {w for i, w in zip(items, wanted, strict=True) if i["key"] == "colour-test"} >= {"control", "test"}


def python_client(live_server: Any, project: Any, *, mode: str) -> Posthog:
    secret = {"remote": None, "local": project.key_value, "local-secret": project.team.secret_api_token}[mode]
    return Posthog(
        project.team.api_token,
        host=live_server.url,
        secret_key=secret,
        enable_local_evaluation=secret is not None,
        poll_interval=600,
        feature_flags_request_timeout_seconds=10,
        max_retries=0,
        sync_mode=True,
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("mode", ["remote", "local", "local-secret"])
def test_posthog_python_flags(live_server: Any, sdk_project: Any, mode: str) -> None:
    """`local` uses a personal API key, `local-secret` the project secret key (phs_)."""
    local = mode != "remote"
    client = python_client(live_server, sdk_project, mode=mode)
    if local:
        client.load_feature_flags()
        assert {f["key"] for f in client.feature_flags or []} == set(FLAGS)
    items = cases(with_properties=local)
    got: list[Any] = []
    for item in items:
        kwargs = {
            "person_properties": item["person_properties"],
            "only_evaluate_locally": local,
            "send_feature_flag_events": False,
        }
        value = client.get_feature_flag(item["key"], item["distinct_id"], **kwargs)
        enabled = client.feature_enabled(item["key"], item["distinct_id"], **kwargs)
        assert enabled is bool(value), item
        got.append(value)
    payload = client.get_feature_flag_payload("always-on", "user-1", only_evaluate_locally=local)
    assert payload == {"colour": "red"}
    client.shutdown()
    check_answers(items, got, sdk_project.team.api_token)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("local", [False, True], ids=["remote", "local"])
def test_posthog_node_flags(live_server: Any, sdk_project: Any, local: bool) -> None:
    items = cases(with_properties=local)
    config = {
        "host": live_server.url,
        "token": sdk_project.team.api_token,
        "personalApiKey": sdk_project.key_value if local else None,
        "cases": items,
    }
    run = subprocess.run(
        ["node", str(NODE_SCRIPT), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"SDK_PACKAGE_JSON": str(JS_PACKAGE_JSON), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout.strip().splitlines()[-1])
    assert output["errors"] == []
    assert output["payload"] == {"colour": "red"}
    got = [r["value"] for r in output["results"]]
    assert [r["enabled"] for r in output["results"]] == [bool(v) for v in got]
    check_answers(items, got, sdk_project.team.api_token)
