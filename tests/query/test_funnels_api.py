"""FunnelsQuery through the endpoint: bad input (the §3.7 strings and schema errors as 400s), isolation,
cache/refresh and async runs, an ActionsNode step (an action made through the API), filters and groups, and
events that came through capture and the ingestion worker. Expected numbers are worked out by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush
from tests.query.conftest import insert_events, poll_query
from tests.query.funnel_helpers import TV5, UTC, at, counts, load, post, results, step, tv5


def _with(node: dict[str, Any], **funnels: Any) -> dict[str, Any]:
    return {**node, "funnelsFilter": {**node["funnelsFilter"], **funnels}}


def _exclusion(event: str, start: int, end: int) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": event, "funnelFromStep": start, "funnelToStep": end}


@pytest.mark.parametrize(
    ("node", "attr", "detail"),
    [
        (_with(tv5(), funnelFromStep=2), "query__funnelsFilter",
         "funnelFromStep is out of bounds. It must be between 0 and 1."),
        (_with(tv5(), funnelToStep=0), "query__funnelsFilter",
         "funnelToStep is out of bounds. It must be between 1 and 2."),
        (_with(tv5(), funnelFromStep=1, funnelToStep=1), "query__funnelsFilter",
         "Funnel step range is invalid. funnelToStep should be greater than funnelFromStep."),
        (_with(tv5(), exclusions=[_exclusion("x", 1, 1)]), "query__funnelsFilter",
         "Exclusion event range is invalid. End of range should be greater than start."),
        (_with(tv5(), exclusions=[_exclusion("x", 2, 3)]), "query__funnelsFilter",
         "Exclusion event range is invalid. Start of range is greater than number of steps."),
        (_with(tv5(), exclusions=[_exclusion("x", 0, 3)]), "query__funnelsFilter",
         "Exclusion event range is invalid. End of range is greater than number of steps."),
        (_with(tv5(), exclusions=[_exclusion("view_item", 0, 1)]), "query__funnelsFilter",
         "Exclusion steps cannot contain an event that's part of funnel steps."),
        ({**tv5(), "series": [step("signup", optionalInFunnel=True), step("view_item")]}, "query__funnelsFilter",
         "The first step of a funnel cannot be optional."),
        (_with(tv5("unordered"), exclusions=[_exclusion("x", 0, 1)]), "query__funnelsFilter",
         "Partial Exclusions not allowed in unordered funnels"),
        (_with(tv5("unordered"), breakdownAttributionType="step", breakdownAttributionValue=1), "query__funnelsFilter",
         "Only the first step can be used for breakdown attribution in unordered funnels"),
        ({**tv5(), "series": [step("signup")]}, "query__series", "at least 2 steps"),
        (_with(tv5(), funnelOrderType="random"), "query__funnelsFilter__funnelOrderType", '"random"'),
        (_with(tv5(), funnelWindowIntervalUnit="year"), "query__funnelsFilter__funnelWindowIntervalUnit", '"year"'),
        (_with(tv5(), colour="red"), "query__funnelsFilter__colour", "Extra inputs"),
        ({**tv5(), "chart": 1}, "query__chart", "Extra inputs"),
        ({**tv5(), "dateRange": {"date_from": "soon"}}, "query__date_from", "'soon'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_problem(project: Any, node: dict, attr: str, detail: str) -> None:
    response = post(project, node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and body["attr"] == attr and detail in body["detail"], body


@pytest.mark.clickhouse
def test_another_projects_events_never_count(project: Any, other_project: Any) -> None:
    load(other_project.team.pk, TV5)
    assert results(project, tv5()) == []
    load(project.team.pk, [r for r in TV5 if r[0] == "a"])
    response = post(project, tv5(), refresh="force_blocking")  # not the cached empty answer
    assert counts(response.json()["results"]) == [1, 1, 1]


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    load(project.team.pk, [r for r in TV5 if r[0] == "e"])
    first = post(project, tv5()).json()
    insert_events(project.team.pk, [{"distinct_id": "e", "event": "view_item", "timestamp": at("2024-02-05", "11:00")}])
    cached = post(project, tv5()).json()
    fresh = post(project, tv5(), refresh="force_blocking").json()
    assert (counts(first["results"]), first["is_cached"]) == ([1, 0, 0], False)
    assert (counts(cached["results"]), cached["is_cached"], cached["cache_key"]) == (
        [1, 0, 0],
        True,
        first["cache_key"],
    )
    assert (counts(fresh["results"]), fresh["is_cached"]) == ([1, 1, 0], False)
    for key in ("hogql", "timings", "error", "modifiers", "last_refresh", "timezone", "query_status", "isUdf"):
        assert key in fresh, key
    assert fresh["error"] == "" and "FROM events" in fresh["hogql"]
    assert fresh["resolved_date_range"]["date_from"].startswith("2024-02-01T00:00:00")


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any) -> None:
    load(project.team.pk, TV5)
    started = post(project, tv5(), refresh="async", client_query_id="funnel-1")
    assert started.status_code == 202, started.content
    done = poll_query(project, "funnel-1")
    final = done.json()["query_status"]
    assert final["complete"] is True and final["error"] is False
    assert counts(final["results"]["results"]) == [5, 3, 2]
    again = post(project, tv5(), refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True


@pytest.mark.clickhouse
def test_an_action_step(project: Any) -> None:
    """An action matching view_item or purchase as step 2: a, b, d get there (c's purchase has no signup
    before it within its own entry? it has: signup 11:00, purchase 12:00 → c too)."""
    load(project.team.pk, TV5)
    response = project.client().post(
        f"/api/projects/{project.team.pk}/actions/",
        {"name": "Engaged", "steps": [{"event": "view_item"}, {"event": "purchase"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    action_id = response.json()["id"]
    node = {**tv5(), "series": [step("signup"), {"kind": "ActionsNode", "id": action_id}]}
    items = results(project, node)
    # ordered, 1-day window: a (view 10:05), b (view after 86 400 s), c (purchase 12:00), d (view 10:02); e none
    assert counts(items) == [5, 4]
    assert items[1]["action_id"] == action_id and items[1]["name"] == "Engaged" and items[1]["type"] == "actions"
    missing = post(project, {**tv5(), "series": [step("signup"), {"kind": "ActionsNode", "id": action_id + 999}]})
    assert missing.status_code == 400 and "does not exist" in missing.json()["detail"]


@pytest.mark.clickhouse
def test_properties_and_test_accounts(project: Any) -> None:
    rows = [
        ("p1", "A", at("2024-03-01", "10:00"), {"plan": "pro"}),
        ("p1", "B", at("2024-03-01", "10:05"), {"plan": "pro"}),
        ("p2", "A", at("2024-03-01", "10:00"), {"plan": "free"}),
        ("p2", "B", at("2024-03-01", "10:05"), {"plan": "free"}),
    ]
    load(project.team.pk, rows)
    base = {"kind": "FunnelsQuery", "series": [step("A"), step("B")], "dateRange": {"date_from": "2024-03-01"}}
    assert counts(results(project, base)) == [2, 2]
    pro = [{"type": "event", "key": "plan", "value": "pro", "operator": "exact"}]
    assert counts(results(project, {**base, "properties": pro})) == [1, 1]
    # a step filter applies to its step only: p2's B is free → p2 stops at A
    node = {**base, "series": [step("A"), step("B", properties=pro)]}
    assert counts(results(project, node)) == [2, 1]
    project.team.test_account_filters = [{"type": "event", "key": "plan", "value": "free", "operator": "is_not"}]
    project.team.save()
    assert counts(results(project, {**base, "filterTestAccounts": True})) == [1, 1]


@pytest.mark.clickhouse
def test_groups_are_the_actors(project: Any) -> None:
    rows = [
        ("p1", "A", at("2024-03-01", "10:00"), {"$group_0": "acme"}),
        ("p2", "B", at("2024-03-01", "10:05"), {"$group_0": "acme"}),
        ("p3", "A", at("2024-03-01", "10:00"), {"$group_0": "globex"}),
        ("p4", "A", at("2024-03-01", "10:00"), {}),
    ]
    insert_events(
        project.team.pk,
        [
            {"distinct_id": d, "event": e, "timestamp": t, "properties": p, "$group_0": p.get("$group_0", "")}
            for d, e, t, p in rows
        ],
    )
    node = {
        "kind": "FunnelsQuery",
        "series": [step("A"), step("B")],
        "aggregation_group_type_index": 0,
        "dateRange": {"date_from": "2024-03-01"},
    }
    # acme: A by p1 then B by p2 → converts; globex: A only; p4 has no group
    assert counts(results(project, node)) == [2, 1]


# -- through capture and the ingestion worker


@pytest.mark.clickhouse
def test_funnel_over_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """An anonymous signup aliased to an identified user who then views and buys is one person through all three
    steps; someone else only signs up."""

    def t(minute: int) -> dt.datetime:
        return dt.datetime(2024, 2, 2, 10, minute, tzinfo=UTC)

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("signup", distinct_id="anon-f", timestamp=t(0))
    sdk.alias(previous_id="anon-f", distinct_id="user-f")
    sdk.capture("view_item", distinct_id="user-f", timestamp=t(5))
    sdk.capture("purchase", distinct_id="user-f", timestamp=t(9))
    sdk.capture("signup", distinct_id="someone-else", timestamp=t(1))
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("signup", distinct_id="anon-f", timestamp=t(2))
    theirs.shutdown()
    flush()

    items = results(project, tv5())
    assert counts(items) == [2, 1, 1]
    # capture corrects timestamps for clock skew (sent_at vs receipt): milliseconds may shift
    assert [i["average_conversion_time"] for i in items] == [None, pytest.approx(300, abs=1), pytest.approx(240, abs=1)]
