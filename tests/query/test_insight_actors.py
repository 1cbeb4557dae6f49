"""ActorsQuery with a `source` (the people behind an insight data point) on POST /query/: reference §9.2's example
(TV-1, 7 Jan, series 1), a table of Trends drill-downs (day, series, breakdown markers, compare, total value,
active-users windows, cumulative, properties, test accounts, timezone) over a fixed dataset whose answers were
worked out by hand, search/properties/orderBy/paging on top, the extra columns, HogQLQuery sources,
InsightActorsQueryOptions, isolation, the endpoint's cache/async machinery, bad input and capture + ingestion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from posthog import Posthog

from ingestion.worker import flush
from tests.query.conftest import insert_events, insert_person, poll_query, query_url

UTC = dt.UTC
JAN_7_9 = {"date_from": "2024-01-07", "date_to": "2024-01-09"}

# TV-1's events with TV-2's $browser, plus u5 (an empty $browser) and u2's 8 Jan event sent by its second
# distinct id: (distinct_id, timestamp UTC, properties). In range (7–9 Jan, UTC) per person and day:
#   7 Jan: u1 ×2 (Chrome, session s1), u2 ×1 (Chrome)    8 Jan: u2 ×1 (via u2-alias, no $browser), u5 ×1 ("")
#   9 Jan: u1 ×1 (Safari, s2), u3 ×1 (Firefox)          outside: u4 6 Jan 23:59 (Chrome), u3 10 Jan 00:30,
#                                                                u6 2 Jan 23:59:59 (only active-users windows)
DATASET = [
    ("u1", dt.datetime(2024, 1, 7, 9, 0), {"$browser": "Chrome", "$session_id": "s1"}),
    ("u1", dt.datetime(2024, 1, 7, 15, 0), {"$browser": "Chrome", "$session_id": "s1", "$window_id": "w1"}),
    ("u1", dt.datetime(2024, 1, 9, 10, 0), {"$browser": "Safari", "$session_id": "s2"}),
    ("u2", dt.datetime(2024, 1, 7, 23, 59, 59), {"$browser": "Chrome"}),
    ("u2-alias", dt.datetime(2024, 1, 8, 0, 0, 0), {}),
    ("u3", dt.datetime(2024, 1, 9, 23, 30), {"$browser": "Firefox"}),
    ("u3", dt.datetime(2024, 1, 10, 0, 30), {}),
    ("u4", dt.datetime(2024, 1, 6, 23, 59), {"$browser": "Chrome"}),
    ("u5", dt.datetime(2024, 1, 8, 12, 0), {"$browser": ""}),
    ("u6", dt.datetime(2024, 1, 2, 23, 59, 59), {}),
]
# k → (distinct ids, properties); `k` names the person in the expected rows.
PERSONS = {
    "u1": (["u1"], {"email": "one@x.io", "name": "One"}),
    "u2": (["u2", "u2-alias"], {"email": "two@y.io"}),
    "u3": (["u3"], {"name": "Three"}),
    "u4": (["u4"], {"email": "four@x.io"}),
    "u5": (["u5"], {"username": "zed"}),
    "u6": (["u6"], {"name": "Six"}),
}


def load(team_id: int) -> tuple[dict[str, str], list[str]]:
    """The dataset for a project (and a `signup` that no $pageview series counts): person ids by k, event ids."""
    rows = [{"distinct_id": d, "timestamp": t.replace(tzinfo=UTC), "properties": p} for d, t, p in DATASET]
    rows.append({"distinct_id": "u1", "event": "signup", "timestamp": dt.datetime(2024, 1, 8, 9, tzinfo=UTC)})
    event_ids = insert_events(team_id, rows)
    persons = {k: insert_person(team_id, ids, {**props, "k": k}) for k, (ids, props) in PERSONS.items()}
    return persons, event_ids


def pageviews(math: str = "total", **extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": "$pageview", "math": math, **extra}


def trend(**extra: Any) -> dict[str, Any]:
    return {"kind": "TrendsQuery", "series": [pageviews()], "dateRange": JAN_7_9, **extra}


def insight_actors(source: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {"kind": "InsightActorsQuery", "source": source, **params}


def post(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return project.client().post(query_url(project), {"query": node, **extra}, format="json")


def actors(project: Any, source: dict[str, Any], **node: Any) -> Any:
    return post(project, {"kind": "ActorsQuery", "source": source, **node})


def counts(project: Any, source: dict[str, Any]) -> dict[str, int]:
    """k → event_count of the actors the source lists."""
    response = actors(project, source, select=["properties.k", "event_count"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["missing_actors_count"] == 0
    return dict(body["results"])


BREAKDOWN = {"breakdown": "$browser", "breakdown_type": "event"}
TEST_ACCOUNTS = [{"key": "email", "value": "@x.io", "operator": "not_icontains", "type": "person"}]

TABLE = [
    pytest.param(trend(), {"day": "2024-01-07"}, {"u1": 2, "u2": 1}, id="day-7"),
    pytest.param(trend(), {"day": "2024-01-08"}, {"u2": 1, "u5": 1}, id="day-8-merged-distinct-ids"),
    pytest.param(trend(), {"day": "2024-01-09"}, {"u1": 1, "u3": 1}, id="day-9-next-day-excluded"),
    pytest.param(trend(), {"day": "2024-01-07T12:00:00"}, {"u1": 2, "u2": 1}, id="a-moment-inside-the-bucket"),
    pytest.param(trend(), {}, {"u1": 3, "u2": 2, "u3": 1, "u5": 1}, id="no-day-the-whole-range"),
    pytest.param(
        trend(trendsFilter={"display": "BoldNumber"}), {}, {"u1": 3, "u2": 2, "u3": 1, "u5": 1}, id="total-value"
    ),
    pytest.param(
        trend(trendsFilter={"display": "ActionsPie"}),
        {"day": "2024-01-07"},
        {"u1": 3, "u2": 2, "u3": 1, "u5": 1},
        id="total-value-ignores-day",
    ),
    pytest.param(
        trend(series=[pageviews(), pageviews("dau")]), {"day": "2024-01-07", "series": 1}, {"u1": 2, "u2": 1}, id="dau"
    ),
    pytest.param(
        trend(series=[pageviews(), pageviews(event="signup")]), {"series": 1}, {"u1": 1}, id="series-index-picks-event"
    ),
    pytest.param(
        trend(breakdownFilter=BREAKDOWN),
        {"day": "2024-01-07", "breakdown": "Chrome"},
        {"u1": 2, "u2": 1},
        id="breakdown-value",
    ),
    pytest.param(trend(breakdownFilter=BREAKDOWN), {"day": "2024-01-08", "breakdown": "Chrome"}, {}, id="no-one"),
    pytest.param(trend(breakdownFilter=BREAKDOWN), {"breakdown": ["Safari"]}, {"u1": 1}, id="breakdown-list"),
    pytest.param(
        trend(breakdownFilter=BREAKDOWN),
        {"breakdown": "$$_posthog_breakdown_null_$$"},
        {"u2": 1, "u5": 1},
        id="null-marker-is-missing-and-empty",
    ),
    pytest.param(
        trend(breakdownFilter={**BREAKDOWN, "breakdown_limit": 1}),
        {"day": "2024-01-09", "breakdown": "$$_posthog_breakdown_other_$$"},
        {"u1": 1, "u3": 1},
        id="other-marker-filters-nothing",
    ),
    pytest.param(
        trend(series=[pageviews("weekly_active")]),
        {"day": "2024-01-07"},
        {"u1": 2, "u2": 1, "u4": 1, "u6": 1},
        id="weekly-active-reads-the-trailing-week",
    ),
    pytest.param(
        trend(series=[pageviews("weekly_active")]),
        {"day": "2024-01-09"},
        {"u1": 3, "u2": 2, "u3": 1, "u4": 1, "u5": 1},
        id="weekly-active-day-9-from-3-jan",
    ),
    pytest.param(
        trend(interval="week"), {"day": "2024-01-07"}, {"u1": 3, "u2": 2, "u3": 1, "u5": 1}, id="week-clipped-to-range"
    ),
    pytest.param(
        trend(series=[pageviews("weekly_active")], interval="week"),
        {"day": "2024-01-09"},
        {"u1": 3, "u2": 2, "u3": 1, "u5": 1},
        id="weekly-active-by-week-is-dau",
    ),
    pytest.param(
        trend(series=[pageviews("monthly_active")], interval="week"),
        {"day": "2024-01-07"},
        {"u1": 2, "u2": 1, "u4": 1, "u6": 1},
        id="monthly-active-by-week-ends-a-day-after-the-week-start",
    ),
    pytest.param(
        trend(trendsFilter={"display": "ActionsLineGraphCumulative"}),
        {"day": "2024-01-08"},
        {"u1": 2, "u2": 2, "u5": 1},
        id="cumulative-from-the-first-bucket",
    ),
    pytest.param(trend(interval="hour"), {"day": "2024-01-07 15:00:00"}, {"u1": 1}, id="hour"),
    pytest.param(
        trend(properties=[{"key": "$browser", "value": "Safari", "type": "event"}]), {}, {"u1": 1}, id="properties"
    ),
    pytest.param(
        trend(series=[pageviews(properties=[{"key": "$browser", "value": "Firefox"}])]),
        {},
        {"u3": 1},
        id="series-properties",
    ),
    pytest.param(trend(filterTestAccounts=True), {}, {"u2": 2, "u3": 1, "u5": 1}, id="filter-test-accounts-drops-x-io"),
    pytest.param(trend(filterTestAccounts=True), {"day": "2024-01-07"}, {"u2": 1}, id="filter-test-accounts-day"),
    pytest.param(
        trend(compareFilter={"compare": True}), {"day": "2024-01-06", "compare": "previous"}, {"u4": 1}, id="previous"
    ),
    pytest.param(trend(compareFilter={"compare": True}), {"compare": "previous"}, {"u4": 1}, id="previous-range"),
    pytest.param(
        trend(compareFilter={"compare": True}),
        {"day": "2024-01-07", "compare": "current"},
        {"u1": 2, "u2": 1},
        id="current",
    ),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("source", "params", "expected"), TABLE)
def test_trends_drill_downs(project: Any, source: dict, params: dict, expected: dict) -> None:
    load(project.team.pk)
    project.team.test_account_filters = TEST_ACCOUNTS
    project.team.save()
    assert counts(project, insight_actors(source, **params)) == expected


@pytest.mark.clickhouse
def test_reference_example_people_behind_7_jan_series_1(project: Any) -> None:
    """§9.2's example on TV-1: u1 (two pageviews on 7 Jan) then u2 (one)."""
    persons, _ = load(project.team.pk)
    source = insight_actors(trend(series=[pageviews(), pageviews("dau")]), day="2024-01-07", series=1)
    response = actors(project, source, select=["person", "event_count"], orderBy=["event_count DESC"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["columns"] == ["person", "event_count"]
    assert [(row[0]["id"], row[1]) for row in body["results"]] == [(persons["u1"], 2), (persons["u2"], 1)]
    u1 = body["results"][0][0]
    assert (u1["distinct_ids"], u1["properties"]["email"], u1["is_identified"]) == (["u1"], "one@x.io", True)
    assert set(u1) == {"id", "distinct_ids", "properties", "is_identified", "created_at"}
    assert body["results"][1][0]["distinct_ids"] == ["u2", "u2-alias"]
    assert (body["hasMore"], body["limit"], body["offset"], body["missing_actors_count"]) == (False, 100, 0, 0)
    assert body["hogql"].startswith("SELECT") and body["is_cached"] is False and body["timezone"] == "UTC"


@pytest.mark.clickhouse
def test_team_timezone_buckets(project: Any) -> None:
    """TV-1b: in New York, 7 Jan holds u1 ×2 and u2 ×2; 9 Jan holds u1 and both u3 events (10 Jan 00:30Z)."""
    load(project.team.pk)
    project.team.timezone = "America/New_York"
    project.team.save()
    assert counts(project, insight_actors(trend(), day="2024-01-07")) == {"u1": 2, "u2": 2}
    assert counts(project, insight_actors(trend(), day="2024-01-09")) == {"u1": 1, "u3": 2}


@pytest.mark.clickhouse
def test_default_select_and_extra_columns(project: Any) -> None:
    persons, events = load(project.team.pk)
    whole = actors(project, insight_actors(trend())).json()
    assert whole["columns"] == ["person", "id", "person.$delete", "event_distinct_ids"]
    rows = {row[1]: row for row in whole["results"]}
    assert set(rows) == {persons[k] for k in ("u1", "u2", "u3", "u5")}
    assert rows[persons["u2"]][0]["id"] == persons["u2"] and rows[persons["u2"]][2:] == [1, ["u2", "u2-alias"]]

    day_7 = actors(
        project,
        insight_actors(trend(), day="2024-01-07"),
        select=["properties.k", "matching_events", "matched_recordings", "source.event_count", "actor_id"],
        orderBy=["properties.k"],
    ).json()["results"]
    u1, u2 = day_7
    assert u1[1] == [
        ["2024-01-07T09:00:00Z", events[0], "s1", ""],
        ["2024-01-07T15:00:00Z", events[1], "s1", "w1"],
    ]
    assert u1[2] == [
        {
            "session_id": "s1",
            "events": [
                {"timestamp": "2024-01-07T09:00:00Z", "uuid": events[0], "window_id": ""},
                {"timestamp": "2024-01-07T15:00:00Z", "uuid": events[1], "window_id": "w1"},
            ],
        }
    ]
    assert (u1[3], u1[4]) == (2, persons["u1"])
    assert (u2[0], u2[1], u2[2]) == ("u2", [["2024-01-07T23:59:59Z", events[3], "", ""]], [])  # no session


def ks(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row[0] for row in response.json()["results"]]


@pytest.mark.clickhouse
def test_search_properties_order_and_pages_on_top(project: Any) -> None:
    """On the whole range (u1 3, u2 2, u3 1, u5 1); display names: "one@x.io", "two@y.io", "Three", "zed"."""
    load(project.team.pk)
    source = insight_actors(trend())
    k = ["properties.k"]
    assert ks(actors(project, source, select=k, search="X.IO")) == ["u1"]
    assert ks(actors(project, source, select=k, search="alias")) == ["u2"]
    email_set = [{"type": "person", "key": "email", "operator": "is_set"}]
    assert ks(actors(project, source, select=k, properties=email_set, orderBy=["event_count"])) == ["u2", "u1"]
    assert ks(actors(project, source, select=k, orderBy=["person"])) == ["u3", "u1", "u2", "u5"]
    assert ks(actors(project, source, select=k, orderBy=["person DESC"])) == ["u5", "u2", "u1", "u3"]
    assert ks(actors(project, source, select=k)) == ["u1", "u2", "u3", "u5"]  # the first column ascending
    assert ks(actors(project, source, select=["count()"])) == [4]

    first = actors(project, source, select=k, orderBy=["event_count DESC"], limit=2).json()
    assert (ks_of(first), first["hasMore"], first["limit"], first["offset"]) == (["u1", "u2"], True, 2, 0)
    rest = actors(project, source, select=k, orderBy=["event_count DESC"], limit=2, offset=2).json()
    assert (sorted(ks_of(rest)), rest["hasMore"], rest["offset"]) == (["u3", "u5"], False, 2)
    assert rest["missing_actors_count"] == 0


def ks_of(body: dict[str, Any]) -> list[str]:
    return [row[0] for row in body["results"]]


@pytest.mark.clickhouse
def test_hogql_source(project: Any) -> None:
    """Pageviews before 9 Jan per person: u1 2, u2 2, u4 1, u5 1, u6 1; extras by name; `id` as the first column."""
    load(project.team.pk)
    source = {
        "kind": "HogQLQuery",
        "query": "SELECT person_id, count() AS c FROM events WHERE event = {ev} AND timestamp < '2024-01-09' "
        "GROUP BY person_id",
        "values": {"ev": "$pageview"},
    }
    response = actors(project, source, select=["properties.k", "c"], orderBy=["c DESC", "properties.k"])
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [["u1", 2], ["u2", 2], ["u4", 1], ["u5", 1], ["u6", 1]]
    persons_source = {"kind": "HogQLQuery", "query": "SELECT id FROM persons WHERE properties.k IN ('u3', 'u5')"}
    assert ks(actors(project, persons_source, select=["properties.k"])) == ["u3", "u5"]
    by_email = {"kind": "HogQLQuery", "query": "SELECT DISTINCT person_id AS who FROM events WHERE event = 'signup'"}
    assert ks(actors(project, by_email, select=["properties.k", "who"]))[0] == "u1"


@pytest.mark.clickhouse
def test_other_projects_persons_never_appear(project: Any, other_project: Any) -> None:
    """The other project has the same distinct ids and events: neither a Trends source nor a HogQL source that
    names its person ids lists them."""
    mine, _ = load(project.team.pk)
    theirs, _ = load(other_project.team.pk)
    ids = actors(project, insight_actors(trend()), select=["id"]).json()["results"]
    assert sorted(row[0] for row in ids) == sorted(mine[k] for k in ("u1", "u2", "u3", "u5"))
    named = [mine["u1"], theirs["u1"], theirs["u2"], "not-a-uuid"]
    source = {"kind": "HogQLQuery", "query": "SELECT arrayJoin({ids})", "values": {"ids": named}}
    response = actors(project, source, select=["id", "properties.k"])
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [[mine["u1"], "u1"]]
    raw = {"kind": "HogQLQuery", "query": f"SELECT '{theirs['u3']}' AS x UNION ALL SELECT '{mine['u3']}'"}
    assert actors(project, raw, select=["id"]).json()["results"] == [[mine["u3"]]]


@pytest.mark.clickhouse
def test_results_are_cached_until_refreshed(project: Any) -> None:
    load(project.team.pk)
    node = {"kind": "ActorsQuery", "select": ["properties.k", "event_count"], "orderBy": ["properties.k"]}
    node["source"] = insight_actors(trend(), day="2024-01-07")
    first = post(project, node).json()
    insert_events(project.team.pk, [{"distinct_id": "u2", "timestamp": dt.datetime(2024, 1, 7, 12, tzinfo=UTC)}])
    cached = post(project, node).json()
    fresh = post(project, node, refresh="force_blocking").json()
    assert (first["results"], first["is_cached"]) == ([["u1", 2], ["u2", 1]], False)
    assert (cached["results"], cached["is_cached"], cached["cache_key"]) == (first["results"], True, first["cache_key"])
    assert (fresh["results"], fresh["is_cached"]) == ([["u1", 2], ["u2", 2]], False)


@pytest.mark.clickhouse
def test_async_round_trip_and_cache(project: Any) -> None:
    load(project.team.pk)
    node = {"kind": "ActorsQuery", "select": ["properties.k", "event_count"], "orderBy": ["properties.k"]}
    node["source"] = insight_actors(trend(), day="2024-01-09")
    started = post(project, node, refresh="async", client_query_id="insight-actors-1")
    assert started.status_code == 202, started.content
    done = poll_query(project, "insight-actors-1")
    assert done.status_code == 200, done.content
    final = done.json()["query_status"]
    assert (final["complete"], final["error"]) == (True, False)
    assert final["results"]["results"] == [["u1", 1], ["u3", 1]]
    again = post(project, node, refresh="lazy_async")
    assert again.status_code == 200 and again.json()["is_cached"] is True


@pytest.mark.clickhouse
def test_insight_actors_query_options(project: Any) -> None:
    """Current period values: Chrome 3, null 2 (u2-alias, u5's ""), Firefox 1, Safari 1; previous: Chrome."""
    load(project.team.pk)
    source = trend(
        series=[pageviews(), pageviews(custom_name="Views")], breakdownFilter=BREAKDOWN, compareFilter={"compare": True}
    )
    response = post(project, {"kind": "InsightActorsQueryOptions", "source": insight_actors(source)})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["day"] == [
        {"label": "7-Jan-2024", "value": "2024-01-07"},
        {"label": "8-Jan-2024", "value": "2024-01-08"},
        {"label": "9-Jan-2024", "value": "2024-01-09"},
    ]
    assert body["series"] == [{"label": "$pageview", "value": 0}, {"label": "Views", "value": 1}]
    assert body["breakdown"] == [
        {"label": "Chrome", "value": "Chrome"},
        {"label": "Firefox", "value": "Firefox"},
        {"label": "Safari", "value": "Safari"},
        {"label": "None (i.e. no value)", "value": "$$_posthog_breakdown_null_$$"},
    ]
    assert body["compare"] == [{"label": "Current", "value": "current"}, {"label": "Previous", "value": "previous"}]
    assert (body["status"], body["interval"], body["breakdowns"], body["is_cached"]) == (None, None, None, False)

    limited = trend(breakdownFilter={**BREAKDOWN, "breakdown_limit": 1})
    body = post(project, {"kind": "InsightActorsQueryOptions", "source": insight_actors(limited)}).json()
    assert body["breakdown"] == [
        {"label": "Chrome", "value": "Chrome"},
        {"label": "Other (i.e. all remaining values)", "value": "$$_posthog_breakdown_other_$$"},
    ]
    total = trend(trendsFilter={"display": "BoldNumber"})
    body = post(project, {"kind": "InsightActorsQueryOptions", "source": insight_actors(total)}).json()
    assert (body["day"], body["breakdown"], body["compare"]) == (None, None, None)


BAD = [
    pytest.param(
        {"kind": "FunnelCorrelationActorsQuery", "source": {}},
        "query__source__kind",
        "not supported yet",
        id="funnel-correlation-not-yet",
    ),
    pytest.param({"kind": "Nope"}, "query__source__kind", "Unknown source kind 'Nope'", id="unknown-source-kind"),
    pytest.param(
        {"kind": "FunnelsActorsQuery", "source": trend(), "funnelStep": 1},
        "query__source__source__kind",
        "must be a FunnelsQuery",
        id="funnels-actors-need-a-funnel",
    ),
    pytest.param(
        insight_actors({"kind": "Nope"}), "query__source__source__kind", "Unknown source kind 'Nope'", id="insight-kind"
    ),
    pytest.param(
        insight_actors({"kind": "HogQLQuery", "query": "SELECT 1"}),
        "query__source__source__kind",
        "HogQLQuery has no actors",
        id="kind-without-actors-hook",
    ),
    pytest.param(
        insight_actors({"kind": "EventsQuery", "select": ["*"]}),
        "query__source__source__kind",
        "EventsQuery has no actors",
        id="events-query-has-no-actors",
    ),
    pytest.param(insight_actors(trend(), wat=1), "query__source__wat", "Extra inputs", id="unknown-key"),
    pytest.param(insight_actors(trend(wat=1)), "query__source__source__wat", "Extra inputs", id="unknown-inner-key"),
    pytest.param(
        insight_actors(trend(series=[])), "query__source__source__series", "", id="inner-node-validated-by-its-kind"
    ),
    pytest.param(insight_actors(trend(), series=2), "query__source__series", "series index 2 is out of range", id="s"),
    pytest.param(insight_actors(trend(), series=-1), "query__source__series", "", id="negative-series"),
    pytest.param(insight_actors(trend(), compare="later"), "query__source__compare", "later", id="bad-compare"),
    pytest.param(insight_actors(trend(), day={"d": 1}), "query__source__day", "date string", id="day-not-a-string"),
    pytest.param(
        {"kind": "StickinessActorsQuery", "source": trend()},
        "query__source__source__kind",
        "must be a StickinessQuery",
        id="stickiness-actors-needs-stickiness",
    ),
]


@pytest.mark.parametrize(("source", "attr", "detail"), BAD)
def test_bad_source_is_a_400_naming_the_problem(project: Any, source: dict, attr: str, detail: str) -> None:
    response = actors(project, source)
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["attr"]) == ("validation_error", attr) and detail in body["detail"], body


RUN_TIME_BAD = [
    pytest.param(insight_actors(trend(), day="2024-01-20"), {}, "day '2024-01-20' is not a bucket", id="day-off-grid"),
    pytest.param(insight_actors(trend(), day="soon"), {}, "day 'soon' is not a bucket", id="day-not-a-date"),
    pytest.param(
        insight_actors(trend(compareFilter={"compare": True}), day="2024-01-07", compare="previous"),
        {},
        "not a bucket",
        id="day-of-the-other-period",
    ),
    pytest.param(insight_actors(trend(), breakdown="Chrome"), {}, "no breakdownFilter", id="breakdown-without-one"),
    pytest.param(insight_actors(trend(), compare="previous"), {}, "compareFilter", id="previous-without-compare"),
    pytest.param(
        {"kind": "HogQLQuery", "query": "SELECT person_id FROM events"},
        {"select": ["matched_recordings"]},
        "matched_recordings needs a source with matching_events",
        id="recordings-need-matching-events",
    ),
    pytest.param({"kind": "HogQLQuery", "query": "SELECT * FROM events"}, {}, "not *", id="hogql-star"),
    pytest.param(insight_actors(trend()), {"select": ["nope_column"]}, "nope_column", id="unknown-column"),
]


@pytest.mark.clickhouse
@pytest.mark.parametrize(("source", "node", "detail"), RUN_TIME_BAD)
def test_bad_parameters_are_a_400(project: Any, source: dict, node: dict, detail: str) -> None:
    response = actors(project, source, **node)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and detail in body["detail"], body


def test_insight_actors_query_is_no_top_level_kind(project: Any) -> None:
    for kind in ("InsightActorsQuery", "InsightPersonsQuery"):
        response = post(project, insight_actors(trend(), kind=kind))
        assert response.status_code == 400, response.content
        assert response.json()["attr"] == "query__kind" and "does not match" in response.json()["detail"]
    options = post(project, {"kind": "InsightActorsQueryOptions", "source": trend()})
    assert options.status_code == 400 and options.json()["attr"] == "query__source__kind", options.content


@pytest.mark.clickhouse
def test_old_names_insight_persons_query_and_persons_query(project: Any) -> None:
    load(project.team.pk)
    source = {"kind": "InsightPersonsQuery", "source": trend(), "day": "2024-01-08"}
    node = {"kind": "PersonsQuery", "select": ["properties.k"], "source": source}
    assert ks(post(project, node)) == ["u2", "u5"]


@pytest.mark.clickhouse
def test_people_captured_and_ingested(live_server: Any, project: Any, other_project: Any) -> None:
    """Events sent by posthog-python through capture and the ingestion worker: the drill-down of yesterday
    lists the merged person (two distinct ids, three pageviews) and the other, never the other project's."""

    yesterday = (dt.datetime.now(UTC) - dt.timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    sdk = Posthog(project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    sdk.capture("$pageview", distinct_id="anon-a", timestamp=yesterday)
    sdk.capture("$pageview", distinct_id="anon-a", timestamp=yesterday + dt.timedelta(minutes=5))
    sdk.alias(previous_id="anon-a", distinct_id="user-a")
    sdk.set(distinct_id="user-a", properties={"email": "a@example.com"})
    sdk.capture("$pageview", distinct_id="user-a", timestamp=yesterday + dt.timedelta(minutes=10))
    sdk.capture("$pageview", distinct_id="solo-b", timestamp=yesterday + dt.timedelta(hours=1))
    sdk.capture("$pageview", distinct_id="solo-b", timestamp=yesterday - dt.timedelta(days=1))  # another day
    sdk.shutdown()
    theirs = Posthog(other_project.team.api_token, host=live_server.url, sync_mode=True, max_retries=0)
    theirs.capture("$pageview", distinct_id="anon-a", timestamp=yesterday)
    theirs.shutdown()
    flush()

    source = insight_actors(
        {"kind": "TrendsQuery", "series": [pageviews("dau")], "dateRange": {"date_from": "-3d"}},
        day=yesterday.date().isoformat(),
    )
    response = actors(project, source, select=["person", "event_count"], orderBy=["event_count DESC"])
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [(sorted(row[0]["distinct_ids"]), row[1]) for row in rows] == [(["anon-a", "user-a"], 3), (["solo-b"], 1)]
    assert rows[0][0]["properties"]["email"] == "a@example.com"
