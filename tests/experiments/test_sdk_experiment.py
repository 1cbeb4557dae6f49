"""Acceptance: an experiment driven end to end by posthog-python (unmodified) against a live server. The SDK
evaluates the experiment's flag locally for 10,000 distinct ids (the split is 50/50 within ±2 points and agrees
with the server's /flags), sends its own `$feature_flag_called` exposures and the conversions the test decides;
after capture and ingestion, ExperimentQuery (and .../results/) count exactly those entities and conversions, and
the statistics equal a hand computation of the reference formulas (scipy, written out here)."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
from django.test import Client
from posthog import Posthog
from scipy import stats

USERS = 10_000
FLAG = "new-checkout"
FUNNEL = {"kind": "ExperimentMetric", "metric_type": "funnel", "series": [{"kind": "EventsNode", "event": "purchase"}]}


def converts(variant: str, index: int) -> bool:
    """Control converts 1 in 10, test 1 in 8 (by the id's index)."""
    return index % (10 if variant == "control" else 8) == 0


def expected_bayesian(n_c: int, x_c: int, n_t: int, x_t: int) -> tuple[float, list[float]]:
    p_c, p_t = x_c / n_c, x_t / n_t
    theta = (p_t - p_c) / p_c
    var = (p_t * (1 - p_t) / n_t) / p_c**2 + p_t**2 * (p_c * (1 - p_c) / n_c) / p_c**4
    sd = math.sqrt(var)
    return float(stats.norm.cdf(theta / sd)), [theta - 1.959963984540054 * sd, theta + 1.959963984540054 * sd]


@pytest.mark.clickhouse
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_posthog_python_drives_an_experiment(live_server: Any, project: Any) -> None:
    from ingestion.worker import flush

    api = project.client()
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    created = api.post(
        f"/api/projects/{project.team.pk}/experiments/",
        {"name": "New checkout", "feature_flag_key": FLAG, "start_date": start.isoformat(), "metrics": [FUNNEL]},
        format="json",
    )
    assert created.status_code == 201, created.content
    experiment = created.json()

    errors: list[str] = []
    sdk = Posthog(
        project.team.api_token,
        host=live_server.url,
        personal_api_key=project.key_value,
        enable_local_evaluation=True,
        poll_interval=600,
        max_retries=0,
        flush_at=500,
        max_queue_size=4 * USERS,  # the default (10,000) drops events silently when the upload falls behind
        on_error=lambda error, _batch: errors.append(repr(error)),
    )
    sdk.load_feature_flags()
    assignment: dict[str, str] = {}
    for i in range(USERS):
        distinct_id = f"user-{i}"
        variant = sdk.get_feature_flag(FLAG, distinct_id, only_evaluate_locally=True)  # sends $feature_flag_called
        assignment[distinct_id] = variant
        if converts(variant, i):
            sdk.capture(
                "purchase", distinct_id=distinct_id, timestamp=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
            )
    sdk.flush()
    sdk.shutdown()
    assert errors == []

    counts = {v: sum(1 for a in assignment.values() if a == v) for v in ("control", "test")}
    assert counts["control"] + counts["test"] == USERS
    assert abs(counts["control"] / USERS - 0.5) <= 0.02, counts
    for distinct_id in list(assignment)[:25]:  # the SDK's local answer is the server's
        body = {"token": project.team.api_token, "distinct_id": distinct_id}
        answer = Client().post("/flags/?v=2", json.dumps(body), content_type="application/json").json()
        assert answer["flags"][FLAG]["variant"] == assignment[distinct_id]
    conversions = {
        v: sum(1 for i, (d, a) in enumerate(assignment.items()) if a == v and converts(v, i))
        for v in ("control", "test")
    }

    flush()

    node = {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": FUNNEL}
    response = api.post(f"/api/projects/{project.team.pk}/query/", {"query": node}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["baseline"]["number_of_samples"] == counts["control"]
    assert body["baseline"]["sum"] == conversions["control"]
    variant = body["variant_results"][0]
    assert (variant["number_of_samples"], variant["sum"]) == (counts["test"], conversions["test"])
    chance, interval = expected_bayesian(counts["control"], conversions["control"], counts["test"], conversions["test"])
    assert round(variant["chance_to_win"], 2) == round(chance, 2)
    assert [round(x, 2) for x in variant["credible_interval"]] == [round(x, 2) for x in interval]
    assert variant["chance_to_win"] == pytest.approx(chance, abs=1e-9)
    assert variant["significant"] is (chance > 0.95 or chance < 0.05)

    results = api.get(f"/api/projects/{project.team.pk}/experiments/{experiment['id']}/results/").json()
    assert results["variant_results"][0]["chance_to_win"] == pytest.approx(chance, abs=1e-9)
    exposures = api.post(
        f"/api/projects/{project.team.pk}/query/",
        {"query": {"kind": "ExperimentExposureQuery", "experiment_id": experiment["id"]}},
        format="json",
    ).json()
    assert exposures["total_exposures"] == counts
    assert exposures["sample_ratio_mismatch"]["p_value"] > 0.001  # a fair 50/50 split


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_posthog_python_holds_out_the_same_users_as_the_server(live_server: Any, project: Any) -> None:
    """A 20% holdout: posthog-python's local evaluation (it reads the flag's `holdout`) and the server's /flags
    put the same ids in `holdout-<id>`, and the rest in the experiment's variants."""
    api = project.client()
    holdout = api.post(
        f"/api/projects/{project.team.pk}/experiment_holdouts/",
        {"name": "Twenty", "filters": [{"properties": [], "rollout_percentage": 20}]},
        format="json",
    ).json()
    created = api.post(
        f"/api/projects/{project.team.pk}/experiments/",
        {"name": "Held", "feature_flag_key": "held", "holdout_id": holdout["id"],
         "start_date": dt.datetime.now(dt.UTC).isoformat()},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    sdk = Posthog(project.team.api_token, host=live_server.url, personal_api_key=project.key_value,
                  enable_local_evaluation=True, poll_interval=600, max_retries=0, sync_mode=True)  # fmt: skip
    sdk.load_feature_flags()
    ids = [f"person-{i}" for i in range(400)]
    local = {
        d: sdk.get_feature_flag("held", d, only_evaluate_locally=True, send_feature_flag_events=False) for d in ids
    }
    sdk.shutdown()
    server = {}
    for distinct_id in ids:
        body = {"token": project.team.api_token, "distinct_id": distinct_id}
        answer = Client().post("/flags/?v=2", json.dumps(body), content_type="application/json").json()
        server[distinct_id] = answer["flags"]["held"]["variant"]
    assert local == server
    held = sum(1 for v in server.values() if v == f"holdout-{holdout['id']}")
    assert 50 <= held <= 110, held  # ~20% of 400
    assert set(server.values()) == {"control", "test", f"holdout-{holdout['id']}"}
