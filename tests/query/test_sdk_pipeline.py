"""Acceptance 2 end to end: events sent by posthog-python (unmodified) through capture and the ingestion
worker are counted by the seed query, and `person.properties.email` / `persons` work after identify.
Skips until capture (/batch/) and `ingestion.worker.flush` exist (other issues)."""

from __future__ import annotations

from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush
from tests.query.conftest import run

SEED = (
    "SELECT event, count() FROM events WHERE timestamp >= now() - INTERVAL 7 DAY "
    "GROUP BY event ORDER BY count() DESC LIMIT 20"
)


@pytest.mark.clickhouse
def test_events_captured_by_the_python_sdk_are_queryable(live_server: Any, project: Any, other_project: Any) -> None:

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    for _ in range(3):
        sdk.capture("$pageview", distinct_id="anon-7", properties={"$browser": "Firefox"})
    sdk.capture("signed up", distinct_id="anon-7")
    sdk.alias(previous_id="anon-7", distinct_id="user-7")
    sdk.set(distinct_id="user-7", properties={"email": "seven@example.com"})
    sdk.flush()
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-7")
    theirs.shutdown()
    flush()

    counts = {row[0]: row[1] for row in run(project, SEED).json()["results"]}
    assert counts["$pageview"] == 3 and counts["signed up"] == 1
    emails = run(project, "SELECT DISTINCT person.properties.email FROM events WHERE event = 'signed up'").json()
    assert emails["results"] == [["seven@example.com"]]
    persons = run(project, "SELECT properties.email FROM persons").json()
    assert persons["results"] == [["seven@example.com"]]


@pytest.mark.clickhouse
def test_events_query_reads_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """EventsQuery over events that went through capture and the ingestion worker: the `*` and `person`
    objects, a property filter, a `where` and the person's id (as ingestion assigned it)."""

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-8", properties={"$browser": "Firefox", "$current_url": "/a"})
    sdk.capture("$pageview", distinct_id="anon-8", properties={"$browser": "Safari", "$current_url": "/b"})
    sdk.capture("bought", distinct_id="anon-8", properties={"$browser": "Firefox", "amount": 3})
    sdk.set(distinct_id="anon-8", properties={"email": "eight@example.com"})
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-8", properties={"$browser": "Firefox"})
    theirs.shutdown()
    flush()

    node = {
        "kind": "EventsQuery",
        "select": ["*", "event", "person", "properties.$current_url"],
        "where": ["event != '$set'"],
        "properties": [{"key": "$browser", "value": "Firefox"}],
        "orderBy": ["event"],
    }
    response = project.client().post(f"/api/projects/{project.team.pk}/query/", {"query": node}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert [row[1] for row in body["results"]] == ["$pageview", "bought"]
    star, _, person, url = body["results"][0]
    assert (star["distinct_id"], star["team_id"], star["properties"]["$browser"]) == (
        "anon-8",
        project.team.pk,
        "Firefox",
    )
    assert url == "/a" and body["results"][1][0]["properties"]["amount"] == 3
    assert person["distinct_id"] == "anon-8" and person["properties"]["email"] == "eight@example.com"
    by_person = project.client().post(
        f"/api/projects/{project.team.pk}/query/",
        {"query": {"kind": "EventsQuery", "select": ["count()"], "personId": person["uuid"], "event": "bought"}},
        format="json",
    )
    assert by_person.json()["results"] == [[1]]


@pytest.mark.clickhouse
def test_trends_query_counts_what_the_sdk_captured(live_server: Any, project: Any, other_project: Any) -> None:
    """TrendsQuery over events that went through capture and the ingestion worker: today's bucket of the default
    range counts the pageviews, and dau counts the aliased anonymous and identified ids as one person."""

    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-9", properties={"$browser": "Firefox"})
    sdk.capture("$pageview", distinct_id="anon-9", properties={"$browser": "Safari"})
    sdk.alias(previous_id="anon-9", distinct_id="user-9")
    sdk.capture("$pageview", distinct_id="user-9", properties={"$browser": "Firefox"})
    sdk.capture("$pageview", distinct_id="someone-else")
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-9")
    theirs.shutdown()
    flush()

    series = [{"kind": "EventsNode", "event": "$pageview", "math": m} for m in ("total", "dau")]
    node = {"kind": "TrendsQuery", "series": series, "breakdownFilter": {"breakdown": "$browser"}}
    response = project.client().post(f"/api/projects/{project.team.pk}/query/", {"query": node}, format="json")

    assert response.status_code == 200, response.content
    items = [
        (i["action"]["math"], i["breakdown_value"], i["data"][-1], len(i["data"])) for i in response.json()["results"]
    ]
    assert items == [
        ("total", "Firefox", 2, 8),
        ("total", "Safari", 1, 8),
        ("total", "$$_posthog_breakdown_null_$$", 1, 8),
        ("dau", "Firefox", 1, 8),
        ("dau", "Safari", 1, 8),
        ("dau", "$$_posthog_breakdown_null_$$", 1, 8),
    ]
