"""ExperimentQuery and ExperimentExposureQuery on chDB (reference §3.2–3.3): exposures from `$feature_flag_called`,
`$multiple` exclusion, events before the exposure or outside the dates ignored, funnel/mean/ratio sufficient
statistics, and the statistics of the experiment's method; the same answers through .../results/."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from experiments.stats.engine import SampleStats, bayesian, frequentist, moments
from posthog_clone.clickhouse import get_client, table
from tests.query.conftest import insert_events

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
FUNNEL = {"kind": "ExperimentMetric", "metric_type": "funnel", "series": [{"kind": "EventsNode", "event": "purchase"}]}
MEAN = {
    "kind": "ExperimentMetric",
    "metric_type": "mean",
    "source": {"kind": "EventsNode", "event": "purchase", "math": "sum", "math_property": "price"},
}
RATIO = {
    "kind": "ExperimentMetric",
    "metric_type": "ratio",
    "numerator": {"kind": "EventsNode", "event": "purchase", "math": "sum", "math_property": "price"},
    "denominator": {"kind": "EventsNode", "event": "$pageview"},
}


def link_persons(team_id: int, distinct_ids: list[str]) -> None:
    """A person (ClickHouse `person` and `person_distinct_id2`) per distinct id."""
    rows = [
        {"team_id": team_id, "distinct_id": d, "person_id": str(uuid.uuid4()), "is_deleted": 0, "version": 0}
        for d in distinct_ids
    ]
    get_client().insert_json_rows(table("person_distinct_id2"), "\n".join(json.dumps(r) for r in rows).encode())
    persons = [
        {"id": r["person_id"], "created_at": "2026-10-01 00:00:00.000", "team_id": team_id, "properties": "{}",
         "is_identified": 0, "is_deleted": 0, "version": 0}
        for r in rows
    ]  # fmt: skip
    get_client().insert_json_rows(table("person"), "\n".join(json.dumps(p) for p in persons).encode())


def exposure(distinct_id: str, variant: str, at: dt.datetime, key: str = "checkout") -> dict[str, Any]:
    props = {"$feature_flag": key, "$feature_flag_response": variant}
    return {"event": "$feature_flag_called", "distinct_id": distinct_id, "timestamp": at, "properties": props}


def seed(team_id: int) -> dict[str, Any]:
    """60 control and 80 test users exposed on day 1 (10 of each also on day 2), two users seen in both variants;
    control: 12 purchases at price 10, test: 24 at price 15 (+ a purchase before exposure and one after the end
    that do not count); every exposed user has 2 pageviews."""
    events: list[dict[str, Any]] = []
    ids = {"control": [f"c{i}" for i in range(60)], "test": [f"t{i}" for i in range(80)]}
    day1, day2 = START + dt.timedelta(hours=2), START + dt.timedelta(days=1, hours=2)
    for variant, users in ids.items():
        for i, user in enumerate(users):
            events.append(exposure(user, variant, day2 if i < 10 else day1))
            events += [{"event": "$pageview", "distinct_id": user, "timestamp": day2 + dt.timedelta(hours=1)}] * 2
    buyers = {"control": ids["control"][:12], "test": ids["test"][:24]}
    for variant, users in buyers.items():
        price = 10 if variant == "control" else 15
        for user in users:
            events.append({"event": "purchase", "distinct_id": user, "timestamp": day2 + dt.timedelta(hours=3),
                           "properties": {"price": price}})  # fmt: skip
    events.append({"event": "purchase", "distinct_id": "c59", "timestamp": day1 - dt.timedelta(hours=1),
                   "properties": {"price": 99}})  # before its exposure  # fmt: skip
    events += [exposure("both", "control", day1), exposure("both", "test", day1)]  # $multiple
    events += [
        exposure("other-flag", "test", day1, key="another"),
        exposure("early", "test", START - dt.timedelta(days=1)),
    ]
    events.append(exposure("odd", "not-a-variant", day1))
    insert_events(team_id, events)
    link_persons(team_id, [*ids["control"], *ids["test"], "both", "other-flag", "early", "odd"])
    return ids


def make_experiment(project: Any, method: str = "bayesian", **extra: Any) -> dict[str, Any]:
    body = {
        "name": "Checkout",
        "feature_flag_key": "checkout",
        "start_date": START.isoformat(),
        "end_date": (START + dt.timedelta(days=5)).isoformat(),
        "metrics": [FUNNEL, MEAN, RATIO],
        "stats_config": {"method": method},
        "exposure_criteria": {"filterTestAccounts": False},
        **extra,
    }
    response = project.client().post(f"/api/projects/{project.team.pk}/experiments/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def query(project: Any, node: dict[str, Any]) -> Any:
    return project.client().post(f"/api/environments/{project.team.pk}/query/", {"query": node}, format="json")


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_funnel_metric_counts_and_bayesian_statistics(project: Any) -> None:
    seed(project.team.pk)
    experiment = make_experiment(project)
    response = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": FUNNEL})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["baseline"] == {"key": "control", "number_of_samples": 60, "sum": 12, "sum_squares": 12,
                                "step_counts": [12], "validation_failures": []}  # fmt: skip
    variant = body["variant_results"][0]
    assert (variant["key"], variant["number_of_samples"], variant["sum"], variant["step_counts"]) == (
        "test",
        80,
        24,
        [24],
    )
    expected = bayesian(
        moments(SampleStats("t", 80, 24, 24), "funnel"), moments(SampleStats("c", 60, 12, 12), "funnel"), "funnel"
    )
    assert variant["method"] == "bayesian"
    assert variant["chance_to_win"] == pytest.approx(expected.chance_to_win)
    assert variant["credible_interval"] == pytest.approx(list(expected.credible_interval))
    assert variant["significant"] is expected.significant
    assert "is_cached" in body and body["is_cached"] is False
    again = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": FUNNEL})
    assert again.json()["is_cached"] is True


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_mean_and_ratio_metrics_frequentist(project: Any) -> None:
    seed(project.team.pk)
    experiment = make_experiment(project, method="frequentist")
    body = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": MEAN}).json()
    control, test = body["baseline"], body["variant_results"][0]
    assert (control["number_of_samples"], control["sum"], control["sum_squares"]) == (60, 120, 1200)
    assert (test["number_of_samples"], test["sum"], test["sum_squares"]) == (80, 360, 5400)
    expected = frequentist(
        moments(SampleStats("t", 80, 360, 5400), "mean"), moments(SampleStats("c", 60, 120, 1200), "mean")
    )
    assert test["method"] == "frequentist" and test["p_value"] == pytest.approx(expected.p_value)
    assert test["confidence_interval"] == pytest.approx(list(expected.confidence_interval))
    ratio = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": RATIO}).json()
    control = ratio["baseline"]
    assert (control["sum"], control["denominator_sum"], control["denominator_sum_squares"]) == (120, 120, 240)
    assert control["numerator_denominator_sum_product"] == 240  # 12 buyers x price 10 x 2 pageviews
    assert ratio["variant_results"][0]["p_value"] >= 0


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_results_endpoint_runs_the_stored_metric(project: Any) -> None:
    seed(project.team.pk)
    experiment = make_experiment(project)
    url = f"/api/projects/{project.team.pk}/experiments/{experiment['id']}/results/"
    first = project.client().get(url)
    assert first.status_code == 200, first.content
    assert first.json()["baseline"]["sum"] == 12 and first.json()["metric"]["uuid"] == experiment["metrics"][0]["uuid"]
    mean = project.client().get(url + f"?metric_uuid={experiment['metrics'][1]['uuid']}").json()
    assert mean["baseline"]["sum"] == 120
    assert project.client().get(url + "?index=7").status_code == 400


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_exposure_query_timeseries_and_srm(project: Any) -> None:
    seed(project.team.pk)
    experiment = make_experiment(project)
    body = query(project, {"kind": "ExperimentExposureQuery", "experiment_id": experiment["id"]}).json()
    assert body["total_exposures"] == {"control": 60, "test": 80, "$multiple": 1}
    control = body["timeseries"][0]
    assert control["variant"] == "control" and control["days"][:2] == ["2026-11-01", "2026-11-02"]
    assert control["exposure_counts"][:2] == [50, 60]  # cumulative, counted on the first exposure day
    assert body["timeseries"][-1]["variant"] == "$multiple"
    srm = body["sample_ratio_mismatch"]
    assert srm["expected"] == {"control": 70.0, "test": 70.0}
    assert srm["p_value"] == pytest.approx(0.0909, abs=1e-4)  # chi-square (60-70)²/70 + (80-70)²/70 = 2.857, df 1


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_first_seen_keeps_the_earliest_variant_and_too_few_exposures(project: Any) -> None:
    seed(project.team.pk)
    experiment = make_experiment(project, exposure_criteria={"filterTestAccounts": False,
                                                             "multiple_variant_handling": "first_seen"})  # fmt: skip
    body = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": FUNNEL}).json()
    total = body["baseline"]["number_of_samples"] + body["variant_results"][0]["number_of_samples"]
    assert total == 141  # "both" now counts in one variant
    small = {**FUNNEL, "series": [{"kind": "EventsNode", "event": "never"}]}
    low = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": small}).json()
    assert low["baseline"]["validation_failures"] == ["not-enough-metric-data", "baseline-mean-is-zero"]
    assert "chance_to_win" not in low["variant_results"][0]


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_bad_experiment_queries_are_400s(project: Any, other_project: Any) -> None:
    experiment = make_experiment(project)
    theirs = make_experiment(other_project)
    cases = [
        ({"kind": "ExperimentQuery", "experiment_id": theirs["id"] + 1000, "metric": FUNNEL}, None),
        ({"kind": "ExperimentQuery", "experiment_id": theirs["id"], "metric": FUNNEL}, None),
        ({"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": {"kind": "X"}}, "query__metric"),
        ({"kind": "ExperimentQuery", "experiment_id": experiment["id"]}, "query__metric"),
        ({"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": FUNNEL, "bogus": 1}, "query__bogus"),
        ({"kind": "ExperimentQuery", "experiment_id": experiment["id"],
          "metric": {**MEAN, "source": {"kind": "EventsNode", "event": "x", "math": "p99_count_per_actor"}}}, None),
        ({"kind": "ExperimentExposureQuery"}, "query__experiment_id"),
    ]  # fmt: skip
    for node, attr in cases:
        response = query(project, node)
        assert response.status_code == 400, (node, response.content)
        body = response.json()
        assert set(body) == {"type", "code", "detail", "attr"}
        if attr:
            assert body["attr"] == attr, body
    draft = (
        project.client()
        .post(
            f"/api/projects/{project.team.pk}/experiments/", {"name": "d", "feature_flag_key": "draft"}, format="json"
        )
        .json()
    )
    response = query(project, {"kind": "ExperimentQuery", "experiment_id": draft["id"], "metric": FUNNEL})
    assert response.status_code == 400 and "has not started" in response.json()["detail"]


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_exposure_cohort_holds_the_exposed_people(project: Any) -> None:
    from cohorts import calculation
    from cohorts.models import Cohort

    seed(project.team.pk)
    experiment = make_experiment(project)
    url = f"/api/projects/{project.team.pk}/experiments/{experiment['id']}/create_exposure_cohort_for_experiment/"
    response = project.client().post(url, format="json")
    assert response.status_code == 201, response.content
    cohort = response.json()["cohort"]
    assert cohort["name"] == 'Users exposed to experiment "Checkout"' and cohort["is_static"] is False
    again = project.client().post(url, format="json")
    assert again.status_code == 400 and again.json()["detail"] == "Experiment already has an exposure cohort"
    got = project.client().get(f"/api/projects/{project.team.pk}/experiments/{experiment['id']}/").json()
    assert got["exposure_cohort"] == cohort["id"]
    calculation.calculate(cohort["id"], trigger="manual")
    assert Cohort.objects.get(pk=cohort["id"]).count == 141  # 60 control, 80 test, the one seen in both
    draft = (
        project.client()
        .post(
            f"/api/projects/{project.team.pk}/experiments/", {"name": "d", "feature_flag_key": "draft"}, format="json"
        )
        .json()
    )
    url = f"/api/projects/{project.team.pk}/experiments/{draft['id']}/create_exposure_cohort_for_experiment/"
    assert project.client().post(url, format="json").json()["detail"] == "Experiment does not have a start date"


def seed_legacy(team_id: int) -> None:
    """120 control and 110 test users, each exposed and with a pageview carrying `$feature/checkout`; 12 control
    and 22 test users purchase (with the property too)."""
    at = START + dt.timedelta(hours=5)
    events, users = [], []
    for variant, total, buyers in (("control", 120, 12), ("test", 110, 22)):
        for i in range(total):
            user = f"{variant}-{i}"
            users.append(user)
            props = {"$feature/checkout": variant}
            events.append(exposure(user, variant, at))
            events.append({"event": "$pageview", "distinct_id": user, "timestamp": at, "properties": props})
            if i < buyers:
                events.append({"event": "purchase", "distinct_id": user, "timestamp": at + dt.timedelta(minutes=5),
                               "properties": props})  # fmt: skip
    insert_events(team_id, events)
    link_persons(team_id, users)


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_legacy_funnels_and_trends_kinds(project: Any) -> None:
    from experiments.stats.legacy import funnel_result, trends_count_result

    seed_legacy(project.team.pk)
    experiment = make_experiment(project)
    funnels = {"kind": "FunnelsQuery", "series": [{"kind": "EventsNode", "event": "$pageview"},
                                                  {"kind": "EventsNode", "event": "purchase"}]}  # fmt: skip
    response = query(project, {"kind": "ExperimentFunnelsQuery", "experiment_id": experiment["id"],
                               "funnels_query": funnels})  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["variants"] == [
        {"key": "control", "success_count": 12, "failure_count": 108},
        {"key": "test", "success_count": 22, "failure_count": 88},
    ]
    expected = funnel_result(body["variants"])
    assert body["probability"] == pytest.approx(expected["probability"])
    assert body["significance_code"] == expected["significance_code"] and body["stats_version"] == 2

    count = {"kind": "TrendsQuery", "series": [{"kind": "EventsNode", "event": "purchase"}]}
    response = query(
        project, {"kind": "ExperimentTrendsQuery", "experiment_id": experiment["id"], "count_query": count}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(v["key"], v["count"], v["absolute_exposure"]) for v in body["variants"]] == [
        ("control", 12, 120),
        ("test", 22, 110),
    ]
    expected = trends_count_result(body["variants"])
    assert body["probability"] == pytest.approx(expected["probability"])
    assert body["p_value"] == pytest.approx(expected["p_value"])
    assert body["significance_code"] == expected["significance_code"]
    bad = query(project, {"kind": "ExperimentTrendsQuery", "experiment_id": experiment["id"], "count_query": {"x": 1}})
    assert bad.status_code == 400


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_holdout_is_one_more_variant(project: Any) -> None:
    seed(project.team.pk)
    holdout = (
        project.client()
        .post(
            f"/api/projects/{project.team.pk}/experiment_holdouts/",
            {"name": "h", "filters": [{"properties": [], "rollout_percentage": 10}]},
            format="json",
        )
        .json()
    )
    experiment = make_experiment(project, holdout_id=holdout["id"])
    held = f"holdout-{holdout['id']}"
    at = START + dt.timedelta(hours=4)
    insert_events(project.team.pk, [exposure(f"h{i}", held, at) for i in range(55)])
    link_persons(project.team.pk, [f"h{i}" for i in range(55)])
    body = query(project, {"kind": "ExperimentExposureQuery", "experiment_id": experiment["id"]}).json()
    assert body["total_exposures"] == {"control": 60, "test": 80, held: 55, "$multiple": 1}
    result = query(project, {"kind": "ExperimentQuery", "experiment_id": experiment["id"], "metric": FUNNEL}).json()
    assert [(v["key"], v["number_of_samples"]) for v in result["variant_results"]] == [("test", 80), (held, 55)]
    assert result["variant_results"][1]["validation_failures"] == ["not-enough-metric-data"]  # no purchases
