"""PathsQuery on POST /query/ (reference §7): TV-10 exactly (and its startPoint variant), end points, both
points with `...`, stepLimit, edgeLimit with the "reachable from a 1_ node" rule, edge weights, $screen /
custom / HogQL node names, exclusions, groupings, cleaning rules, a New York project's day edge, test accounts,
groups, isolation, auth and bad input. Every expected edge was worked out by hand from the events listed
(times in the comments are UTC unless said otherwise; an edge is (source, target, value, mean ms))."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from query.kinds.paths import reachable
from query.kinds.paths_sql import anchor, grouping_regex
from tests.auth_matrix import assert_auth_matrix
from tests.query.conftest import insert_events, insert_person, query_url, run

UTC = dt.UTC
DAY = {"date_from": "2024-01-07", "date_to": "2024-01-07"}
MINUTE = 60_000.0


def at(hour: int, minute: int, day: int = 7) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, minute, tzinfo=UTC)


def pageview(who: str, when: dt.datetime, url: str, **properties: Any) -> dict[str, Any]:
    return {
        "distinct_id": who,
        "event": "$pageview",
        "timestamp": when,
        "properties": {"$current_url": url, **properties},
    }


def load(team_id: int, events: list[dict[str, Any]]) -> dict[str, str]:
    insert_events(team_id, events)
    return {who: insert_person(team_id, [who], {}) for who in dict.fromkeys(e["distinct_id"] for e in events)}


# TV-10: p1 /home 10:00, /pricing/ 10:01, /pricing 10:02, /signup 10:03, (57 minutes) /home 11:00, /docs 11:05;
# p2 /home 09:00, /signup 09:10.
TV10 = [
    pageview("p1", at(10, 0), "/home"),
    pageview("p1", at(10, 1), "/pricing/"),
    pageview("p1", at(10, 2), "/pricing"),
    pageview("p1", at(10, 3), "/signup"),
    pageview("p1", at(11, 0), "/home"),
    pageview("p1", at(11, 5), "/docs"),
    pageview("p2", at(9, 0), "/home"),
    pageview("p2", at(9, 10), "/signup"),
]
# p1's first session: /home 10:00 → /pricing (the 10:02 one: the run /pricing/, /pricing keeps its last) → /signup;
# its second: /home 11:00 → /docs; p2: /home 09:00 → /signup. All values 1, so the order is source, then target.
TV10_EDGES = [
    ("1_/home", "2_/docs", 1, 5 * MINUTE),
    ("1_/home", "2_/pricing", 1, 2 * MINUTE),
    ("1_/home", "2_/signup", 1, 10 * MINUTE),
    ("2_/pricing", "3_/signup", 1, 1 * MINUTE),
]

# One session of seven pages, the gaps growing 1, 2, 3, 4, 5, 6 minutes (all under 30).
LONG = [
    pageview("q", at(10, 0), "/a"),
    pageview("q", at(10, 1), "/b"),
    pageview("q", at(10, 3), "/c"),
    pageview("q", at(10, 6), "/d"),
    pageview("q", at(10, 10), "/e"),
    pageview("q", at(10, 15), "/f"),
    pageview("q", at(10, 21), "/g"),
]


def paths(project: Any, paths_filter: dict[str, Any], **extra: Any) -> Any:
    body = {"query": {"kind": "PathsQuery", "dateRange": DAY, "pathsFilter": paths_filter, **extra.pop("node", {})}}
    return project.client().post(query_url(project), {**body, **extra}, format="json")


def edges(project: Any, paths_filter: dict[str, Any], **extra: Any) -> list[tuple[str, str, int, float]]:
    response = paths(project, paths_filter, **extra)
    assert response.status_code == 200, response.content
    return [(e["source"], e["target"], e["value"], e["average_conversion_time"]) for e in response.json()["results"]]


# -- TV-10


@pytest.mark.clickhouse
def test_tv10(project: Any, other_project: Any) -> None:
    load(project.team.pk, TV10)
    load(other_project.team.pk, [*TV10, pageview("p9", at(10, 0), "/theirs"), pageview("p9", at(10, 1), "/theirs2")])
    response = paths(project, {"includeEventTypes": ["$pageview"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["results"] == [
        {"source": s, "target": t, "value": v, "average_conversion_time": ms} for s, t, v, ms in TV10_EDGES
    ]
    assert isinstance(body["results"][0]["average_conversion_time"], float)
    assert body["resolved_date_range"] == {
        "date_from": "2024-01-07T00:00:00+00:00",
        "date_to": "2024-01-07T23:59:59.999999+00:00",
    }
    assert {"hogql", "timings", "cache_key", "is_cached", "last_refresh", "timezone", "modifiers"} <= set(body)
    assert "theirs" not in response.content.decode()
    assert paths(project, {"includeEventTypes": ["$pageview"]}).json()["is_cached"] is True


@pytest.mark.clickhouse
def test_tv10_start_point(project: Any) -> None:
    load(project.team.pk, TV10)
    # only p1's first session holds /pricing: it starts there (/pricing 10:02 → /signup 10:03)
    only = [("1_/pricing", "2_/signup", 1, 1 * MINUTE)]
    assert edges(project, {"includeEventTypes": ["$pageview"], "startPoint": "/pricing"}) == only
    assert edges(project, {"includeEventTypes": ["$pageview"], "startPoint": "/pricing/"}) == only  # as the node
    assert edges(project, {"includeEventTypes": ["$pageview"], "startPoint": "/nowhere"}) == []
    # quotes, braces and backslashes are values, not HogQL
    assert edges(project, {"startPoint": "/it's {here}\\", "excludeEvents": ["') OR 1 = 1 --"]}) == []


@pytest.mark.clickhouse
def test_all_event_types_by_default(project: Any) -> None:
    """No includeEventTypes: every event, $pageviews named by URL; a custom event joins p2's path."""
    load(project.team.pk, [*TV10, {"distinct_id": "p2", "event": "signed_up", "timestamp": at(9, 11)}])
    got = edges(project, {})
    assert got == [*TV10_EDGES[:3], ("2_/pricing", "3_/signup", 1, MINUTE), ("2_/signup", "3_signed_up", 1, MINUTE)]


# -- end points, both points, step limit


@pytest.mark.clickhouse
def test_end_point(project: Any) -> None:
    load(project.team.pk, TV10)
    # sessions with /signup, cut after it: p1 /home → /pricing → /signup, p2 /home → /signup; p1's second is dropped
    assert edges(project, {"includeEventTypes": ["$pageview"], "endPoint": "/signup"}) == [
        ("1_/home", "2_/pricing", 1, 2 * MINUTE),
        ("1_/home", "2_/signup", 1, 10 * MINUTE),
        ("2_/pricing", "3_/signup", 1, 1 * MINUTE),
    ]


@pytest.mark.clickhouse
def test_step_limit_and_end_point_keep_the_last_nodes(project: Any) -> None:
    load(project.team.pk, LONG)
    # default stepLimit 5: /a … /e
    assert edges(project, {}) == [
        ("1_/a", "2_/b", 1, 1 * MINUTE),
        ("2_/b", "3_/c", 1, 2 * MINUTE),
        ("3_/c", "4_/d", 1, 3 * MINUTE),
        ("4_/d", "5_/e", 1, 4 * MINUTE),
    ]
    assert edges(project, {"stepLimit": 3}) == [("1_/a", "2_/b", 1, 1 * MINUTE), ("2_/b", "3_/c", 1, 2 * MINUTE)]
    # up to /f (/a … /f), the last 3: /d 10:06, /e 10:10, /f 10:15
    assert edges(project, {"endPoint": "/f", "stepLimit": 3}) == [
        ("1_/d", "2_/e", 1, 4 * MINUTE),
        ("2_/e", "3_/f", 1, 5 * MINUTE),
    ]
    # from /c, 3 nodes: /c, /d, /e
    assert edges(project, {"startPoint": "/c", "stepLimit": 3}) == [
        ("1_/c", "2_/d", 1, 3 * MINUTE),
        ("2_/d", "3_/e", 1, 4 * MINUTE),
    ]


@pytest.mark.clickhouse
def test_start_and_end_point_with_dots(project: Any) -> None:
    load(project.team.pk, LONG)
    # /b … /g is 6 nodes > 5: the first 2 (/b, /c), "..." timed as the node it stands in for first (/d 10:06),
    # the last 2 (/f 10:15, /g 10:21)
    assert edges(project, {"startPoint": "/b", "endPoint": "/g"}) == [
        ("1_/b", "2_/c", 1, 2 * MINUTE),
        ("2_/c", "3_...", 1, 3 * MINUTE),
        ("3_...", "4_/f", 1, 9 * MINUTE),
        ("4_/f", "5_/g", 1, 6 * MINUTE),
    ]
    # short enough: /b → /c → /d as they are
    assert edges(project, {"startPoint": "/b", "endPoint": "/d"}) == [
        ("1_/b", "2_/c", 1, 2 * MINUTE),
        ("2_/c", "3_/d", 1, 3 * MINUTE),
    ]
    # the end point must come after the start point
    assert edges(project, {"startPoint": "/d", "endPoint": "/b"}) == []


# -- edge limit, reachability, edge weights

# u1 /a 10:00 → /e 10:01 → /f 10:02; u2 /d 10:00 → /e 10:02 → /f 10:05. Edges, ranked:
# 2_/e→3_/f (2, mean of 1 and 3 minutes), 1_/a→2_/e (1, 1 minute), 1_/d→2_/e (1, 2 minutes).
REACH = [
    pageview("u1", at(10, 0), "/a"),
    pageview("u1", at(10, 1), "/e"),
    pageview("u1", at(10, 2), "/f"),
    pageview("u2", at(10, 0), "/d"),
    pageview("u2", at(10, 2), "/e"),
    pageview("u2", at(10, 5), "/f"),
]


@pytest.mark.clickhouse
def test_edge_limit_keeps_only_edges_reachable_from_a_first_node(project: Any) -> None:
    load(project.team.pk, REACH)
    assert edges(project, {}) == [
        ("2_/e", "3_/f", 2, 2 * MINUTE),
        ("1_/a", "2_/e", 1, 1 * MINUTE),
        ("1_/d", "2_/e", 1, 2 * MINUTE),
    ]
    # the top edge alone starts at no 1_ node: nothing is left
    assert edges(project, {"edgeLimit": 1}) == []
    # with 1_/a → 2_/e, 2_/e is reachable: both stay, in rank order
    assert edges(project, {"edgeLimit": 2}) == [("2_/e", "3_/f", 2, 2 * MINUTE), ("1_/a", "2_/e", 1, 1 * MINUTE)]


@pytest.mark.clickhouse
def test_edge_weights(project: Any) -> None:
    # REACH plus u3 /a 11:00 → /e 11:01: 1_/a→2_/e becomes (2, 1 minute)
    load(project.team.pk, [*REACH, pageview("u3", at(11, 0), "/a"), pageview("u3", at(11, 1), "/e")])
    heavy = [("1_/a", "2_/e", 2, 1 * MINUTE), ("2_/e", "3_/f", 2, 2 * MINUTE)]
    assert edges(project, {}) == [*heavy, ("1_/d", "2_/e", 1, 2 * MINUTE)]
    assert edges(project, {"minEdgeWeight": 2}) == heavy
    assert edges(project, {"minEdgeWeight": 2, "maxEdgeWeight": 2}) == heavy
    assert edges(project, {"maxEdgeWeight": 1}) == [("1_/d", "2_/e", 1, 2 * MINUTE)]
    assert edges(project, {"minEdgeWeight": 3}) == []


# -- node names: $screen, custom events, HogQL; exclusions

# m: $screen Home 10:00, tapped_buy 10:01, $screen Checkout 10:02, $autocapture 10:03, $pageview /web 10:04
MOBILE = [
    {"distinct_id": "m", "event": "$screen", "timestamp": at(10, 0), "properties": {"$screen_name": "Home"}},
    {"distinct_id": "m", "event": "tapped_buy", "timestamp": at(10, 1)},
    {"distinct_id": "m", "event": "$screen", "timestamp": at(10, 2), "properties": {"$screen_name": "Checkout"}},
    {"distinct_id": "m", "event": "$autocapture", "timestamp": at(10, 3)},
    pageview("m", at(10, 4), "/web"),
]


@pytest.mark.clickhouse
def test_screens_custom_events_and_hogql_names(project: Any) -> None:
    load(project.team.pk, MOBILE)
    assert edges(project, {"includeEventTypes": ["$screen"]}) == [("1_Home", "2_Checkout", 1, 2 * MINUTE)]
    assert edges(project, {"includeEventTypes": ["custom_event"]}) == []  # one node: no edge
    assert edges(project, {"includeEventTypes": ["$screen", "custom_event"]}) == [
        ("1_Home", "2_tapped_buy", 1, MINUTE),
        ("2_tapped_buy", "3_Checkout", 1, MINUTE),
    ]
    assert edges(project, {}) == [
        ("1_Home", "2_tapped_buy", 1, MINUTE),
        ("2_tapped_buy", "3_Checkout", 1, MINUTE),
        ("3_Checkout", "4_$autocapture", 1, MINUTE),
        ("4_$autocapture", "5_/web", 1, MINUTE),
    ]
    # hogql alone: every event, named by the expression
    assert edges(project, {"includeEventTypes": ["hogql"], "pathsHogQLExpression": "concat('e:', event)"}) == [
        ("1_e:$screen", "2_e:tapped_buy", 1, MINUTE),
        ("2_e:tapped_buy", "3_e:$screen", 1, MINUTE),
        ("3_e:$screen", "4_e:$autocapture", 1, MINUTE),
        ("4_e:$autocapture", "5_e:$pageview", 1, MINUTE),
    ]


@pytest.mark.clickhouse
def test_exclude_events(project: Any) -> None:
    load(project.team.pk, TV10)
    # without /pricing, p1's first session is /home 10:00 → /signup 10:03 (3 min), as p2's (10 min)
    assert edges(project, {"includeEventTypes": ["$pageview"], "excludeEvents": ["/pricing"]}) == [
        ("1_/home", "2_/signup", 2, 6.5 * MINUTE),
        ("1_/home", "2_/docs", 1, 5 * MINUTE),
    ]


@pytest.mark.clickhouse
def test_exclude_event_names(project: Any) -> None:
    load(project.team.pk, MOBILE)
    # an excluded event type keeps its event name as the node, which the exclusion then drops
    assert edges(project, {"excludeEvents": ["$autocapture", "$pageview"]}) == [
        ("1_Home", "2_tapped_buy", 1, MINUTE),
        ("2_tapped_buy", "3_Checkout", 1, MINUTE),
    ]


# -- groupings and cleaning


@pytest.mark.clickhouse
def test_path_groupings(project: Any) -> None:
    # g1: two blog posts (whole URLs) 10:00, 10:01, then /pricing 10:02; g2: a blog post 09:00, /signup 09:05
    load(
        project.team.pk,
        [
            pageview("g1", at(10, 0), "https://example.com/blog/one/"),
            pageview("g1", at(10, 1), "https://example.com/blog/two"),
            pageview("g1", at(10, 2), "/pricing"),
            pageview("g2", at(9, 0), "https://example.com/blog/three"),
            pageview("g2", at(9, 5), "/signup"),
        ],
    )
    # both posts become /blog/* and collapse into one node, timed as the later (10:01)
    assert edges(project, {"pathGroupings": ["/blog/*"]}) == [
        ("1_/blog/*", "2_/pricing", 1, 1 * MINUTE),
        ("1_/blog/*", "2_/signup", 1, 5 * MINUTE),
    ]
    assert edges(project, {})[0] == ("1_https://example.com/blog/one", "2_https://example.com/blog/two", 1, MINUTE)


@pytest.mark.clickhouse
def test_local_path_cleaning_filters(project: Any) -> None:
    # c1: /item/1 10:00, /item/2 10:01, /cart 10:02; c2: /item/33 09:00, /cart 09:03
    load(
        project.team.pk,
        [
            pageview("c1", at(10, 0), "/item/1"),
            pageview("c1", at(10, 1), "/item/2"),
            pageview("c1", at(10, 2), "/cart"),
            pageview("c2", at(9, 0), "/item/33"),
            pageview("c2", at(9, 3), "/cart"),
        ],
    )
    cleaning = {"localPathCleaningFilters": [{"regex": r"/item/\d+", "alias": "/item/<id>"}]}
    # cleaned, c1's items collapse (the later, 10:01): 1 and 3 minutes to /cart
    assert edges(project, cleaning) == [("1_/item/<id>", "2_/cart", 2, 2 * MINUTE)]
    assert edges(project, {**cleaning, "pathReplacements": True}) == [("1_/item/<id>", "2_/cart", 2, 2 * MINUTE)]
    # cleaning runs before grouping: the alias can be grouped
    grouped = {**cleaning, "pathGroupings": ["/item/*"]}
    assert edges(project, grouped) == [("1_/item/*", "2_/cart", 2, 2 * MINUTE)]
    assert edges(project, {}) == [
        ("1_/item/1", "2_/item/2", 1, MINUTE),
        ("1_/item/33", "2_/cart", 1, 3 * MINUTE),
        ("2_/item/2", "3_/cart", 1, MINUTE),
    ]


# -- dates, filters, groups


@pytest.mark.clickhouse
def test_project_timezone_sets_the_day(project: Any) -> None:
    # n: /z 04:55Z, /c 05:05Z, /d 05:10Z on 7 Jan. In UTC all three are on the 7th; in New York (UTC-5) /z is
    # 6 Jan 23:55, and the 7th starts at 05:00Z.
    load(
        project.team.pk, [pageview("n", at(4, 55), "/z"), pageview("n", at(5, 5), "/c"), pageview("n", at(5, 10), "/d")]
    )
    assert edges(project, {}) == [("1_/z", "2_/c", 1, 10 * MINUTE), ("2_/c", "3_/d", 1, 5 * MINUTE)]
    project.team.timezone = "America/New_York"
    project.team.save()
    response = paths(project, {}, refresh="force_blocking")
    body = response.json()
    assert [(e["source"], e["target"]) for e in body["results"]] == [("1_/c", "2_/d")]
    assert body["resolved_date_range"]["date_from"] == "2024-01-07T00:00:00-05:00"
    assert body["timezone"] == "America/New_York"


@pytest.mark.clickhouse
def test_date_range_bounds(project: Any) -> None:
    # TV-10 happens on 7 Jan: a range ending on the 6th sees nothing, one starting at 10:30 on the 7th starts
    # at that day's start anyway (paths read from date_from's day start)
    load(project.team.pk, TV10)
    assert edges(project, {}, node={"dateRange": {"date_from": "2024-01-01", "date_to": "2024-01-06"}}) == []
    later = {"dateRange": {"date_from": "2024-01-07T10:30:00", "date_to": "2024-01-08"}}
    assert edges(project, {"includeEventTypes": ["$pageview"]}, node=later) == TV10_EDGES


@pytest.mark.clickhouse
def test_properties_and_test_accounts(project: Any) -> None:
    insert_events(project.team.pk, [{**e, "properties": {**e["properties"], "$browser": "Chrome"}} for e in TV10])
    insert_person(project.team.pk, ["p1"], {"email": "p1@customer.com"})
    insert_person(project.team.pk, ["p2"], {"email": "p2@internal.io"})
    p1_only = [TV10_EDGES[0], TV10_EDGES[1], TV10_EDGES[3]]
    project.team.test_account_filters = [
        {"key": "email", "value": "@internal.io", "operator": "not_icontains", "type": "person"}
    ]
    project.team.save()
    assert edges(project, {}, node={"filterTestAccounts": True}) == p1_only
    assert edges(project, {}) == TV10_EDGES
    firefox = [{"key": "$browser", "value": "Firefox", "operator": "exact", "type": "event"}]
    assert edges(project, {}, node={"properties": firefox}) == []
    chrome_p1 = [{"key": "email", "value": "p1@", "operator": "icontains", "type": "person"}]
    assert edges(project, {}, node={"properties": chrome_p1}) == p1_only


@pytest.mark.clickhouse
def test_groups_are_the_actors(project: Any) -> None:
    # two persons of one company: as persons each has a single node; as the company one path /a 10:00 → /b 10:05
    load(
        project.team.pk,
        [
            pageview("k1", at(10, 0), "/a", **{"$group_0": "acme"}),
            pageview("k2", at(10, 5), "/b", **{"$group_0": "acme"}),
        ],
    )
    assert edges(project, {}) == []
    assert edges(project, {}, node={"aggregation_group_type_index": 0}) == [("1_/a", "2_/b", 1, 5 * MINUTE)]


# -- isolation, auth, routes, bad input


@pytest.mark.clickhouse
def test_another_projects_events_never_appear(project: Any, other_project: Any) -> None:
    load(other_project.team.pk, TV10)
    assert edges(project, {}) == []
    assert edges(other_project, {"includeEventTypes": ["$pageview"]}) == TV10_EDGES


@pytest.mark.clickhouse
def test_auth_matrix_and_environments_route(project: Any, other_project: Any) -> None:
    load(project.team.pk, TV10)
    payload = {"query": {"kind": "PathsQuery", "dateRange": DAY, "pathsFilter": {}}}
    assert_auth_matrix(project, other_project, "POST", query_url(project), scope="query:read", data=payload)
    response = project.client().post(f"/api/environments/{project.team.pk}/query/", payload, format="json")
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == 4


@pytest.mark.parametrize(
    ("node", "attr", "detail"),
    [
        ({}, "query__pathsFilter", "This field is required."),
        ({"pathsFilter": {"bogus": 1}}, "query__pathsFilter__bogus", "Extra inputs are not permitted"),
        ({"pathsFilter": {}, "bogus": 1}, "query__bogus", "Extra inputs are not permitted"),
        ({"pathsFilter": {"includeEventTypes": ["$click"]}}, "query__pathsFilter__includeEventTypes__0", "$click"),
        ({"pathsFilter": {"stepLimit": 1}}, "query__pathsFilter__stepLimit", "greater than or equal to 2"),
        ({"pathsFilter": {"stepLimit": "five"}}, "query__pathsFilter__stepLimit", "A valid integer is required."),
        ({"pathsFilter": {"edgeLimit": 0}}, "query__pathsFilter__edgeLimit", "greater than or equal to 1"),
        ({"pathsFilter": {"minEdgeWeight": -1}}, "query__pathsFilter__minEdgeWeight", "greater than or equal to 0"),
        ({"pathsFilter": {"excludeEvents": "x"}}, "query__pathsFilter__excludeEvents", "list"),
        ({"pathsFilter": {"pathGroupings": ["**"]}}, "query__pathsFilter__pathGroupings", "wildcards"),
        (
            {"pathsFilter": {"localPathCleaningFilters": [{"alias": "x"}]}},
            "query__pathsFilter__localPathCleaningFilters__0__regex",
            "This field is required.",
        ),
        (
            {"pathsFilter": {"localPathCleaningFilters": [{"regex": "a", "alias": "b", "x": 1}]}},
            "query__pathsFilter__localPathCleaningFilters__0__x",
            "Extra inputs are not permitted",
        ),
        (
            {"pathsFilter": {"pathsHogQLExpression": "count()"}},
            "query__pathsFilter__pathsHogQLExpression",
            "must not aggregate",
        ),
        (
            {"pathsFilter": {"pathsHogQLExpression": "event FROM events"}},
            "query__pathsFilter__pathsHogQLExpression",
            "exactly one HogQL expression",
        ),
        (
            {"pathsFilter": {}, "funnelPathsFilter": {"funnelPathType": "funnel_path_after_step", "funnelStep": 1}},
            "query__funnelPathsFilter",
            "funnelPathsFilter",
        ),
        ({"pathsFilter": {}, "dateRange": {"date_from": "yesterday-ish"}}, "query__date_from", "Invalid date"),
        ({"pathsFilter": {}, "aggregation_group_type_index": 5}, "query__aggregation_group_type_index", "4"),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(project: Any, node: dict, attr: str, detail: str) -> None:
    response = project.client().post(query_url(project), {"query": {"kind": "PathsQuery", **node}}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["type"] == "validation_error" and body["attr"] == attr, body
    assert detail in body["detail"], body


@pytest.mark.clickhouse
def test_bad_regex_or_field_is_a_400(project: Any) -> None:
    load(project.team.pk, TV10)
    response = paths(project, {"localPathCleaningFilters": [{"regex": "(", "alias": "x"}]})
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    response = paths(project, {"includeEventTypes": ["hogql"], "pathsHogQLExpression": "no_such_field"})
    assert response.status_code == 400, response.content
    assert "no_such_field" in response.json()["detail"]


# -- the pure pieces


def test_reachable_keeps_rank_order_and_drops_orphans() -> None:
    ranked = [["3_/c", "4_/d"], ["2_/x", "3_/c"], ["1_/a", "2_/b"], ["2_/b", "3_/c"], ["5_/q", "6_/r"]]
    # 1_/a → 2_/b → 3_/c → 4_/d is one chain; 2_/x and 5_/q are entered from no kept edge
    assert reachable(ranked) == [["3_/c", "4_/d"], ["1_/a", "2_/b"], ["2_/b", "3_/c"]]
    assert reachable([]) == []


def test_anchors_and_grouping_patterns() -> None:
    assert (anchor("/pricing/"), anchor("/"), anchor(""), anchor(None)) == ("/pricing", "/", None, None)
    assert grouping_regex("/blog/*") == "/blog/.*"
    assert grouping_regex("/a+b/*?x=*") == r"/a\+b/.*\?x=.*"  # everything but * is literal


@pytest.mark.clickhouse
def test_array_difference_is_allowed_in_hogql(project: Any) -> None:
    response = run(project, "SELECT arrayDifference([1, 4, 9])")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [[[0, 3, 5]]]
