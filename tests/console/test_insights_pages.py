"""The console's Insights and Dashboards pages through Django's test client, on events captured over /batch/
and flushed (tests/console/insights_data.py works the numbers by hand): each kind's numbers on the page, the
insight cache behind them, annotations on time axes, the dashboard grid and its date filter, another
organization's 404 and the sign-in redirect; the server time of each page's default view is printed."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from typing import Any

import pytest
from django.urls import reverse

from console.security import CONTENT_SECURITY_POLICY
from query import clock as query_clock
from tests.console.insights_data import MARCH_1_3, NAMES, SOURCES, build_board, capture
from tests.insights.conftest import Clock

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


def specs(page: str) -> list[dict[str, Any]]:
    return [json.loads(html.unescape(raw)) for raw in re.findall(r'data-chart="([^"]*)"', page)]


def get(client: Any, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    return response.content.decode()


def insight_url(project: Any, insight: dict[str, Any]) -> str:
    return reverse("console:insight", args=[project.team.pk, insight["short_id"]])


def cells(page: str, css: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(rf'<td class="{css}"[^>]*>(.*?)</td>', page)]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The query layer's clock (the edge), moved by the test: the result cache ages results by it."""
    frozen = Clock(dt.datetime.now(dt.UTC).replace(microsecond=0))
    monkeypatch.setattr(query_clock, "now", frozen)
    return frozen


@pytest.fixture
def board(project: Any) -> Any:
    capture(project)
    return build_board(project)


def test_trend_page_draws_both_series_with_annotations(project, signed_in, board) -> None:
    page = get(signed_in, insight_url(project, board.insights["trend"]))
    (spec,) = specs(page)
    assert (spec["kind"], spec["type"], spec["display"]) == ("TrendsQuery", "line", "ActionsLineGraph")
    assert spec["days"] == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert [d["data"] for d in spec["datasets"]] == [[3, 1, 3], [2, 1, 3]]
    # the project's annotation on 2 Mar and this insight's own on 3 Mar; not the lifecycle insight's
    assert spec["annotations"] == [{"index": 1, "text": "v2 launched", "date": "2024-03-02 12:00"},
                                   {"index": 2, "text": "trend note", "date": "2024-03-03 08:00"}]  # fmt: skip
    assert "lifecycle only" not in page and "v2 launched" in page
    assert "chart.umd.min.js" in page and "console/insights.js" in page
    by_id = get(signed_in, reverse("console:insight", args=[project.team.pk, board.insights["trend"]["id"]]))
    assert [d["data"] for d in specs(by_id)[0]["datasets"]] == [[3, 1, 3], [2, 1, 3]]
    assert "(cached)" in by_id  # the first view computed and stored it; the second read the cache


def test_the_page_reads_the_insight_cache_and_refresh_recomputes(project, signed_in, board) -> None:
    url = insight_url(project, board.insights["trend"])
    assert specs(get(signed_in, url))[0]["datasets"][0]["data"] == [3, 1, 3]
    capture(project, [("$pageview", "u9", "2024-03-02T18:00:00Z")])
    page = get(signed_in, url)  # a past range, fresh in the cache: not recomputed
    assert specs(page)[0]["datasets"][0]["data"] == [3, 1, 3] and "(cached)" in page
    refreshed = get(signed_in, url, refresh="1")
    assert specs(refreshed)[0]["datasets"][0]["data"] == [3, 2, 3] and "(cached)" not in refreshed
    api = project.client().get(f"/api/projects/{project.team.pk}/insights/{board.insights['trend']['id']}/")
    assert api.json()["result"][0]["data"] == [3, 2, 3]  # the API reads the same cache entry


def test_funnel_page_shows_steps_and_conversion(project, signed_in, board) -> None:
    page = get(signed_in, insight_url(project, board.insights["funnel"]))
    (spec,) = specs(page)
    assert (spec["type"], spec["indexAxis"], spec["labels"]) == ("bar", "x", ["1. signup", "2. purchase"])
    assert spec["datasets"] == [{"label": "Conversion", "data": [100.0, 50.0], "counts": [4, 2]}]
    assert cells(page, "count") == ["4", "2"] and cells(page, "conversion") == ["100.0%", "50.0%"]


def test_retention_page_is_the_cohort_table(project, signed_in, board) -> None:
    page = get(signed_in, insight_url(project, board.insights["retention"]))
    assert specs(page) == []  # an HTML table, no canvas
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", page)
    cell = r'<td class="(?:size|heat heat-\d+|future)"[^>]*>([^<]*)</td>'
    table = [(date, re.findall(cell, rest)) for date, rest in rows]
    assert table == [
        ("2024-03-01", ["2", "100.0%", "0.0%", "50.0%"]),
        ("2024-03-02", ["1", "100.0%", "100.0%", ""]),
        ("2024-03-03", ["3", "100.0%", "", ""]),
    ]
    assert 'class="heat heat-5" title="1 of 2"' in page and '<th scope="col">Day 2</th>' in page


def test_stickiness_lifecycle_and_paths_pages(project, signed_in, board) -> None:
    (sticky,) = specs(get(signed_in, insight_url(project, board.insights["stickiness"])))
    assert sticky["labels"][:3] == ["1 day", "2 days", "3 days"] and sticky["datasets"][0]["data"] == [2, 2, 0]
    (life,) = specs(get(signed_in, insight_url(project, board.insights["lifecycle"])))
    assert (life["type"], life["stacked"]) == ("bar", True)
    data = {d["status"]: d["data"] for d in life["datasets"]}
    assert list(data) == ["new", "returning", "resurrecting", "dormant"]
    assert data["dormant"] == [0, -2, 0] and data["returning"] == [0, 0, 1]
    assert [a + b for a, b in zip(data["new"], data["resurrecting"], strict=True)] == [2, 1, 2]
    assert [a["text"] for a in life["annotations"]] == ["lifecycle only", "v2 launched"]
    paths = get(signed_in, insight_url(project, board.insights["paths"]))
    edges = re.findall(r'<li class="path-edge"><span class="node">(.*?)</span> → <span class="node">(.*?)</span> '
                       r'<strong class="count">(\d+)</strong> <span class="hint">avg (.*?)</span>', paths)  # fmt: skip
    assert edges == [("signup", "purchase", "1", "10m 0s")]


def test_insights_list_shows_name_kind_and_last_refresh(project, signed_in, board) -> None:
    url = reverse("console:insights", args=[project.team.pk])
    page = get(signed_in, url)
    for key, name in NAMES.items():
        assert name in page and insight_url(project, board.insights[key]) in page
    kinds = re.findall(r'<td class="kind">(\w+)</td>', page)
    assert sorted(kinds) == ["Funnel", "Lifecycle", "Paths", "Retention", "Stickiness", "Trends"]
    assert page.count("never") == 6  # nothing computed yet: the list reads the cache, never runs
    get(signed_in, insight_url(project, board.insights["trend"]))
    assert get(signed_in, url).count("never") == 5


def test_dashboard_grid_and_its_date_filter(project, signed_in, board) -> None:
    url = reverse("console:dashboard", args=[project.team.pk, board.dashboard["id"]])
    page = get(signed_in, url)
    assert page.count('class="tile ') == 7 and f'id="tile-{board.text_tile}"' in page
    assert "Weekly growth notes" in page and 'class="heat heat-' in page and 'class="path-edge"' in page
    drawn = {s["kind"]: s for s in specs(page)}
    assert set(drawn) == {"TrendsQuery", "FunnelsQuery", "LifecycleQuery", "StickinessQuery"}
    assert [d["data"] for d in drawn["TrendsQuery"]["datasets"]] == [[3, 1, 3], [2, 1, 3]]
    assert drawn["FunnelsQuery"]["datasets"][0]["counts"] == [3, 2]  # the dashboard's 1–3 Mar: u4 signs up on 4 Mar
    assert '<option value="" selected>' in page

    # filters_override {"date_from": "2024-03-02", "date_to": "2024-03-03"} over the stored 1–3 Mar
    narrowed = get(signed_in, url, date_from="2024-03-02", date_to="2024-03-03")
    drawn = {s["kind"]: s for s in specs(narrowed)}
    assert drawn["TrendsQuery"]["days"] == ["2024-03-02", "2024-03-03"]
    assert [d["data"] for d in drawn["TrendsQuery"]["datasets"]] == [[1, 3], [1, 3]]
    assert [a["text"] for a in drawn["TrendsQuery"]["annotations"]] == ["v2 launched", "trend note"]
    assert drawn["FunnelsQuery"]["datasets"][0]["counts"] == [2, 1]  # u2, u3 sign up 2–3 Mar; u3 buys
    assert '<option value="2024-03-02" selected>' in narrowed
    override = json.dumps({"date_from": "2024-03-02", "date_to": "2024-03-03"})
    api = project.client().get(
        f"/api/projects/{project.team.pk}/dashboards/{board.dashboard['id']}/", {"filters_override": override}
    )
    trend = next(t for t in api.json()["tiles"] if t["insight"] and t["insight"]["id"] == board.insights["trend"]["id"])
    assert trend["insight"]["result"][0]["data"] == [1, 3] and trend["is_cached"] is True  # the same cache entry
    assert specs(get(signed_in, url, date_from="javascript:alert(1)"))[0]["days"][0] == "2024-03-01"  # ignored
    # a relative range runs to now (date_to null, as PostHog's date picker sends it): 8 empty days
    last_week = {s["kind"]: s for s in specs(get(signed_in, url, date_from="-7d"))}["TrendsQuery"]
    assert len(last_week["days"]) == 8 and last_week["datasets"][0]["data"] == [0] * 8


def test_dashboards_list(project, signed_in, board) -> None:
    page = get(signed_in, reverse("console:dashboards", args=[project.team.pk]))
    assert "Growth" in page and reverse("console:dashboard", args=[project.team.pk, board.dashboard["id"]]) in page
    assert 'aria-current="page">Dashboards' in page


def test_another_organization_gets_404_and_no_session_redirects(project, other_project, other_signed_in,
                                                                  board) -> None:  # fmt: skip
    from django.test import Client

    theirs_url = reverse("console:insight", args=[other_project.team.pk, board.insights["trend"]["short_id"]])
    urls = [
        reverse("console:insights", args=[project.team.pk]),
        insight_url(project, board.insights["trend"]),
        reverse("console:dashboards", args=[project.team.pk]),
        reverse("console:dashboard", args=[project.team.pk, board.dashboard["id"]]),
    ]
    for url in urls:
        response = other_signed_in.get(url)
        assert response.status_code == 404 and b"Daily pageviews" not in response.content, url
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("console:login")), url
    # their own project's URL with Alice's insight id: not found there either
    assert other_signed_in.get(theirs_url).status_code == 404
    other_dashboard = reverse("console:dashboard", args=[other_project.team.pk, board.dashboard["id"]])
    assert other_signed_in.get(other_dashboard).status_code == 404


def _saved(project: Any, name: str, source: dict[str, Any]) -> dict[str, Any]:
    body = {"name": name, "saved": True, "query": {"kind": "InsightVizNode", "source": source}}
    response = project.client().post(f"/api/projects/{project.team.pk}/insights/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_display_settings_choose_the_drawing(project, signed_in) -> None:
    capture(project)
    trend = SOURCES["trend"]
    shown = {}
    for display in ("BoldNumber", "ActionsBar", "ActionsPie", "ActionsTable", "ActionsAreaGraph"):
        insight = _saved(project, display, {**trend, "trendsFilter": {"display": display}})
        shown[display] = get(signed_in, insight_url(project, insight))
    assert '<p class="bold-number" data-value="7">7</p>' in shown["BoldNumber"]  # 3 + 1 + 3 pageviews
    assert "$pageview (unique users): 4" in shown["BoldNumber"]  # u1–u4 over the range
    (bar,) = specs(shown["ActionsBar"])
    assert (bar["type"], bar["stacked"], bar["datasets"][0]["data"]) == ("bar", True, [3, 1, 3])
    (pie,) = specs(shown["ActionsPie"])
    assert (pie["type"], pie["labels"], pie["datasets"][0]["data"]) == (
        "pie",
        ["$pageview", "$pageview (unique users)"],
        [7, 4],
    )
    assert "<td>$pageview</td><td>7</td>" in shown["ActionsTable"]
    (area,) = specs(shown["ActionsAreaGraph"])
    assert (area["type"], area["fill"], area["stacked"]) == ("line", True, True)

    funnel = SOURCES["funnel"]
    steps_filter = funnel["funnelsFilter"]
    sideways = _saved(project, "sideways", {**funnel, "funnelsFilter": {**steps_filter, "layout": "horizontal"}})
    assert specs(get(signed_in, insight_url(project, sideways)))[0]["indexAxis"] == "y"
    trends_filter = {**steps_filter, "funnelVizType": "trends"}
    by_day = _saved(
        project, "by day", {**funnel, "interval": "day", "dateRange": MARCH_1_3, "funnelsFilter": trends_filter}
    )
    (rates,) = specs(get(signed_in, insight_url(project, by_day)))
    # entries: u1 on 1 Mar (buys), u2 on 2 Mar (does not), u3 on 3 Mar (buys)
    assert (rates["type"], rates["percent"], rates["datasets"][0]["data"]) == ("line", True, [100, 0, 100])


def test_a_stale_result_is_shown_while_it_recalculates_in_the_background(project, signed_in, clock) -> None:
    """Day interval over -3d: stale 6 h after it was computed (reference §8.4). The page shows the stale
    result at once and the query service recalculates it; a later view has the new one."""
    moment = (clock.moment - dt.timedelta(days=1, hours=1)).isoformat()
    capture(project, [("$pageview", "u1", moment)])
    insight = _saved(project, "Recent", {**SOURCES["trend"], "dateRange": {"date_from": "-3d"}})
    url = insight_url(project, insight)
    first = get(signed_in, url)  # a miss: computed in the request
    assert sum(specs(first)[0]["datasets"][0]["data"]) == 1 and "(cached)" not in first
    capture(project, [("$pageview", "u2", moment)])
    clock.advance(hours=1)
    assert sum(specs(get(signed_in, url))[0]["datasets"][0]["data"]) == 1  # fresh: the cache
    clock.advance(hours=6)
    stale = get(signed_in, url)
    assert sum(specs(stale)[0]["datasets"][0]["data"]) == 1 and "recalculating in the background" in stale
    deadline = time.monotonic() + 20
    while sum(specs(latest := get(signed_in, url))[0]["datasets"][0]["data"]) == 1:
        assert time.monotonic() < deadline, "the background recalculation never landed"
        time.sleep(0.1)
    assert sum(specs(latest)[0]["datasets"][0]["data"]) == 2 and "recalculating" not in latest


def test_the_insights_list_is_paged(project, signed_in) -> None:
    for i in range(21):
        _saved(project, f"Insight {i:02d}", SOURCES["trend"])
    url = reverse("console:insights", args=[project.team.pk])
    first = get(signed_in, url)
    assert first.count('<td class="kind">') == 20 and 'href="?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = get(signed_in, url, page="2")
    assert (
        second.count('<td class="kind">') == 1 and 'href="?page=1" rel="prev"' in second and 'rel="next"' not in second
    )


def test_a_warm_default_view_reads_no_events(project, signed_in, board, monkeypatch) -> None:
    """Once the cache holds the tiles' results, the dashboard's default view runs no ClickHouse query at all:
    its server time does not grow with the events table (10M events or 10)."""
    from posthog_clone.clickhouse.client import ClickHouseClient

    url = reverse("console:dashboard", args=[project.team.pk, board.dashboard["id"]])
    warm = get(signed_in, url)
    pages = [insight_url(project, insight) for insight in board.insights.values()]  # their own dates: own entries
    first = [specs(get(signed_in, page)) for page in pages]

    def unreachable(self: ClickHouseClient) -> None:
        raise AssertionError("the warm default view queried ClickHouse")

    monkeypatch.setattr(ClickHouseClient, "_client", property(unreachable))
    again = get(signed_in, url)
    assert specs(again) == specs(warm) and "the warm default view queried" not in again
    assert [d["data"] for d in specs(again)[0]["datasets"]] == [[3, 1, 3], [2, 1, 3]]
    for page, before in zip(pages, first, strict=True):
        shown = get(signed_in, page)
        assert "(cached)" in shown and specs(shown) == before
