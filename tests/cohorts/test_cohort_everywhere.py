"""One dynamic cohort (a person property AND a behavioural filter) over people whose membership was worked
out by hand; its member list, its count, `IN COHORT` in HogQL and a TrendsQuery cohort breakdown all agree,
and an edit recalculates every one of them.

ann: plan pro, purchase 3 days ago      → member
bob: plan free, purchase 3 days ago     → not (plan)
cat: plan pro, purchase 40 days ago     → not (outside 30 days)
dan: plan pro, no purchase              → not
eve: plan pro, purchase 10 days ago     → member
Each also viewed a page yesterday (the trends breakdown counts those viewers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.cohorts.conftest import calculate_waiting, create, filters, make_person, member_ids, prop, url
from tests.query.conftest import insert_events, query_url, run

pytestmark = pytest.mark.clickhouse

PURCHASE_DAYS_AGO = {"ann": 3, "bob": 3, "cat": 40, "eve": 10}
PLANS = {"ann": "pro", "bob": "free", "cat": "pro", "dan": "pro", "eve": "pro"}


def purchased_within_30_days() -> dict[str, Any]:
    return {
        "type": "behavioral", "key": "purchase", "event_type": "events", "value": "performed_event",
        "time_value": 30, "time_interval": "day", "negation": False,
    }  # fmt: skip


def test_members_count_in_cohort_and_breakdown_agree(
    project: Any, other_project: Any, django_capture_on_commit_callbacks: Any
) -> None:
    now = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    people = {name: make_person(project.team, [name], {"plan": plan}) for name, plan in PLANS.items()}
    make_person(other_project.team, ["ann"], {"plan": "pro"})  # same distinct id elsewhere: never a member
    events = [
        {"event": "purchase", "distinct_id": n, "timestamp": now - dt.timedelta(days=d)}
        for n, d in PURCHASE_DAYS_AGO.items()
    ]
    events += [{"event": "$pageview", "distinct_id": name, "timestamp": now - dt.timedelta(days=1)} for name in PLANS]
    insert_events(project.team.pk, events)
    insert_events(other_project.team.pk, [{"event": "purchase", "distinct_id": "ann", "timestamp": now}])

    cohort = create(
        project, {"name": "Paying pros", "filters": filters(prop("plan", "pro"), purchased_within_30_days())}
    )
    assert calculate_waiting() == 1
    expected = {str(people["ann"].uuid), str(people["eve"].uuid)}
    assert_agree(project, cohort["id"], expected)

    with django_capture_on_commit_callbacks(execute=True):  # what commits do: bump the project's query caches
        edited = project.client().patch(
            url(project, f"{cohort['id']}/"),
            {"filters": filters(prop("plan", "free"), purchased_within_30_days())},
            format="json",
        )
        assert edited.status_code == 200 and edited.json()["is_calculating"] is True
        assert calculate_waiting() == 1
    assert_agree(project, cohort["id"], {str(people["bob"].uuid)})


def assert_agree(project: Any, cohort_id: int, expected: set[str]) -> None:
    assert member_ids(project, cohort_id) == expected
    assert project.client().get(url(project, f"{cohort_id}/")).json()["count"] == len(expected)
    hogql = run(project, f"SELECT DISTINCT toString(person_id) FROM events WHERE person_id IN COHORT {cohort_id}")
    assert {row[0] for row in hogql.json()["results"]} == expected
    persons = run(project, "SELECT count() FROM persons WHERE id IN COHORT 'Paying pros'").json()
    assert persons["results"] == [[len(expected)]]
    node = {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
        "trendsFilter": {"display": "BoldNumber"},
        "breakdownFilter": {"breakdown_type": "cohort", "breakdown": [cohort_id, "all"]},
    }
    response = project.client().post(query_url(project), {"query": node}, format="json")
    assert response.status_code == 200, response.content
    values = {item["breakdown_value"]: item["aggregated_value"] for item in response.json()["results"]}
    assert values == {cohort_id: len(expected), "all": len(PLANS)}
