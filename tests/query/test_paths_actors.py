"""The actors of a PathsQuery edge or drop-off (reference §9.2) through ActorsQuery + InsightActorsQuery on
POST /query/: `pathsFilter.pathStartKey`/`pathEndKey`/`pathDropoffKey` in the source, the `event_count` and
`matching_events` columns, `matched_recordings`, isolation and bad input. Expected rows worked out by hand from
TV-10 (see test_paths_query)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.query.conftest import insert_events, insert_person, query_url
from tests.query.test_paths_query import DAY, TV10, at, edges, pageview

P2_SIGNUP = "00000000-0000-4000-8000-000000000002"  # p2's /signup 09:10, in session s-2 (window w-2)
P1_SIGNUP = "00000000-0000-4000-8000-000000000001"  # p1's /signup 10:03
P1_DOCS = "00000000-0000-4000-8000-000000000003"  # p1's /docs 11:05


def load_tv10(team_id: int) -> dict[str, str]:
    events = [dict(e, properties=dict(e["properties"])) for e in TV10]
    events[3]["uuid"] = P1_SIGNUP
    events[5]["uuid"] = P1_DOCS
    events[7]["uuid"] = P2_SIGNUP
    for event in events[6:]:
        event["properties"].update({"$session_id": "s-2", "$window_id": "w-2"})
    insert_events(team_id, events)
    return {"p1": insert_person(team_id, ["p1"], {}), "p2": insert_person(team_id, ["p2"], {})}


def actors_node(paths_filter: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    source = {
        "kind": "PathsQuery",
        "dateRange": DAY,
        "pathsFilter": {"includeEventTypes": ["$pageview"], **paths_filter},
    }
    return {
        "kind": "ActorsQuery",
        "select": select or ["person", "event_count", "matching_events"],
        "source": {"kind": "InsightActorsQuery", "source": source},
    }


def post(project: Any, node: dict[str, Any]) -> Any:
    return project.client().post(query_url(project), {"query": node}, format="json")


def rows(project: Any, people: dict[str, str], paths_filter: dict[str, Any]) -> dict[str, list]:
    """person name → [event_count, matching_events]."""
    response = post(project, actors_node(paths_filter))
    assert response.status_code == 200, response.content
    names = {person: name for name, person in people.items()}
    return {names[row[0]["id"]]: row[1:] for row in response.json()["results"]}


@pytest.mark.clickhouse
def test_actors_of_one_edge(project: Any, other_project: Any) -> None:
    people = load_tv10(project.team.pk)
    load_tv10(other_project.team.pk)
    # 1_/home → 2_/signup is p2's path alone; the matching event is the edge's target
    assert rows(project, people, {"pathStartKey": "1_/home", "pathEndKey": "2_/signup"}) == {
        "p2": [1, [["2024-01-07T09:10:00Z", P2_SIGNUP, "s-2", "w-2"]]],
    }
    # 2_/pricing → 3_/signup: p1's first session
    assert rows(project, people, {"pathStartKey": "2_/pricing", "pathEndKey": "3_/signup"}) == {
        "p1": [1, [["2024-01-07T10:03:00Z", P1_SIGNUP, "", ""]]],
    }
    assert rows(project, people, {"pathStartKey": "1_/home", "pathEndKey": "3_/signup"}) == {}


@pytest.mark.clickhouse
def test_actor_counts_add_up_to_the_edge_values(project: Any) -> None:
    people = load_tv10(project.team.pk)
    # without /pricing, 1_/home → 2_/signup is taken by p1 (first session) and p2: value 2
    exclude = {"includeEventTypes": ["$pageview"], "excludeEvents": ["/pricing"]}
    assert edges(project, exclude)[0][:3] == ("1_/home", "2_/signup", 2)
    got = rows(project, people, {**exclude, "pathStartKey": "1_/home", "pathEndKey": "2_/signup"})
    assert {name: row[0] for name, row in got.items()} == {"p1": 1, "p2": 1}
    assert got["p1"][1] == [["2024-01-07T10:03:00Z", P1_SIGNUP, "", ""]]


@pytest.mark.clickhouse
def test_one_key_alone(project: Any) -> None:
    people = load_tv10(project.team.pk)
    # leaving 1_/home: p1 twice (→ /pricing, → /docs), p2 once (→ /signup)
    leaving = rows(project, people, {"pathStartKey": "1_/home"})
    assert {name: row[0] for name, row in leaving.items()} == {"p1": 2, "p2": 1}
    # entering 2_/signup: p2
    assert set(rows(project, people, {"pathEndKey": "2_/signup"})) == {"p2"}
    # no key: everyone with a path, one row per node (p1: 3 + 2, p2: 2)
    everyone = rows(project, people, {})
    assert {name: row[0] for name, row in everyone.items()} == {"p1": 5, "p2": 2}


@pytest.mark.clickhouse
def test_actors_of_a_drop_off(project: Any) -> None:
    people = load_tv10(project.team.pk)
    # paths ending at 3_/signup: p1's first session (/home → /pricing → /signup)
    assert rows(project, people, {"pathDropoffKey": "3_/signup"}) == {
        "p1": [1, [["2024-01-07T10:03:00Z", P1_SIGNUP, "", ""]]],
    }
    assert rows(project, people, {"pathDropoffKey": "2_/docs"}) == {
        "p1": [1, [["2024-01-07T11:05:00Z", P1_DOCS, "", ""]]],
    }
    assert set(rows(project, people, {"pathDropoffKey": "2_/signup"})) == {"p2"}
    assert rows(project, people, {"pathDropoffKey": "2_/pricing"}) == {}  # a node paths go through, not end at
    # the drop-off key wins over the edge keys
    both = {"pathDropoffKey": "2_/docs", "pathStartKey": "1_/home", "pathEndKey": "2_/signup"}
    assert set(rows(project, people, both)) == {"p1"}


@pytest.mark.clickhouse
def test_actors_with_a_start_point_and_repeat_sessions(project: Any) -> None:
    people = load_tv10(project.team.pk)
    start = {"startPoint": "/pricing", "pathStartKey": "1_/pricing", "pathEndKey": "2_/signup"}
    assert set(rows(project, people, start)) == {"p1"}
    # r takes /x → /y in two sessions (10:00, 10:01; then 12:00, 12:02): one actor, two paths, two events
    insert_events(
        project.team.pk,
        [
            pageview("r", at(10, 0), "/x"),
            pageview("r", at(10, 1), "/y"),
            pageview("r", at(12, 0), "/x"),
            pageview("r", at(12, 2), "/y"),
        ],
    )
    people["r"] = insert_person(project.team.pk, ["r"], {})
    got = rows(project, people, {"pathStartKey": "1_/x", "pathEndKey": "2_/y"})
    assert got["r"][0] == 2
    assert [event[0] for event in got["r"][1]] == ["2024-01-07T10:01:00Z", "2024-01-07T12:02:00Z"]


@pytest.mark.clickhouse
def test_matched_recordings(project: Any) -> None:
    load_tv10(project.team.pk)
    node = actors_node({"pathStartKey": "1_/home", "pathEndKey": "2_/signup"}, select=["matched_recordings"])
    response = post(project, node)
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [
        [
            [
                {
                    "session_id": "s-2",
                    "events": [{"timestamp": "2024-01-07T09:10:00Z", "uuid": P2_SIGNUP, "window_id": "w-2"}],
                }
            ]
        ]
    ]


@pytest.mark.clickhouse
def test_another_projects_actors_never_appear(project: Any, other_project: Any) -> None:
    load_tv10(other_project.team.pk)
    response = post(project, actors_node({"pathStartKey": "1_/home", "pathEndKey": "2_/signup"}))
    assert response.status_code == 200
    assert response.json()["results"] == []
    outsider = other_project.client().post(
        query_url(project), {"query": actors_node({"pathStartKey": "1_/home"})}, format="json"
    )
    assert outsider.status_code == 403


@pytest.mark.clickhouse
def test_bad_input(project: Any) -> None:
    bad_key = actors_node({"pathStartKey": ["1_/home"]})
    response = post(project, bad_key)
    assert response.status_code == 400, response.content
    assert response.json()["attr"] == "query__source__source__pathsFilter__pathStartKey"
    options = {"kind": "InsightActorsQueryOptions", "source": actors_node({})["source"]}
    response = post(project, options)
    assert response.status_code == 400, response.content
    assert "PathsQuery" in response.json()["detail"]
