"""The local-evaluation payload and cohorts: `send_cohorts` (flags unchanged, non-static cohort trees incl.
nested ones) and, without it, PostHog's single-cohort inlining (reference §6, vectors F1–F4 of §8.3)."""

from __future__ import annotations

from typing import Any

import pytest

from flags.cohort_tree import CohortDefinition, cohort_properties
from flags.inlining import inline_single_cohort
from tests.auth_matrix import assert_auth_matrix
from tests.flags.cohort_fixtures import (
    c1,
    cohort,
    cohort_condition,
    flag_on,
    in_cohort,
    make_people,
    or_of_ands,
    performed,
    person,
)

EMAIL = {"key": "email", "type": "person", "value": "@acme.com", "operator": "icontains", "negation": False}
PLAN = {"key": "plan", "type": "person", "value": ["pro", "enterprise"], "operator": "exact", "negation": False}
C1_TREE = {"type": "OR", "values": [{"type": "AND", "values": [EMAIL, PLAN]}]}
C7_TREE = {
    "type": "OR",
    "values": [
        {
            "type": "AND",
            "values": [{"key": "plan", "type": "person", "value": "PRO", "operator": "exact", "negation": False}],
        }
    ],
}
BROWSER = {"key": "$browser", "type": "person", "value": "Chrome", "operator": "exact"}
URLS = [
    "/api/feature_flag/local_evaluation/?token={token}",
    "/flags/definitions?token={token}",
    "/api/projects/{team}/feature_flags/local_evaluation/",
]


@pytest.fixture
def vectors(project: Any, other_project: Any) -> dict[str, Any]:
    team = project.team
    people = make_people(team)
    first = c1(team)
    c7 = cohort(team, "C7", or_of_ands([person("plan", "PRO")]))
    s1 = cohort(team, "S1", is_static=True, members=(people["p2"],))
    c8 = cohort(team, "C8", or_of_ands([in_cohort(first)], [person("email", "other.io", "icontains")]))
    c11 = cohort(team, "C11", or_of_ands([in_cohort(s1), person("plan", "free")]))
    foreign = cohort(other_project.team, "theirs", or_of_ands([person("plan", "pro")]))
    with_browser = cohort_condition(first)
    with_browser["properties"].append(BROWSER)
    flags = {
        "F1": flag_on(team, "F1", cohort_condition(first)),
        "F2": flag_on(team, "F2", with_browser),
        "F3": flag_on(team, "F3", cohort_condition(s1)),
        "F4": flag_on(team, "F4", cohort_condition(first), cohort_condition(c7, rollout_percentage=30)),
        "nested": flag_on(team, "nested", cohort_condition(c8)),
        "static-nested": flag_on(team, "static-nested", cohort_condition(c11)),
        "foreign": flag_on(team, "foreign", cohort_condition(foreign)),
    }
    return {"flags": flags, "c1": first, "c7": c7, "c8": c8, "c11": c11, "s1": s1}


def payload(project: Any, url: str, send_cohorts: bool) -> dict[str, Any]:
    path = url.format(token=project.team.api_token, team=project.team.pk)
    if send_cohorts:
        path += ("&" if "?" in path else "?") + "send_cohorts"
    response = project.client().get(path)
    assert response.status_code == 200, response.content
    return response.json()


def filters_by_key(body: dict[str, Any]) -> dict[str, Any]:
    return {flag["key"]: flag["filters"] for flag in body["flags"]}


@pytest.mark.parametrize("url", URLS)
def test_send_cohorts_sends_flags_unchanged_and_cohort_trees(project: Any, vectors: dict[str, Any], url: str) -> None:
    body = payload(project, url, send_cohorts=True)
    assert filters_by_key(body) == {key: flag.filters for key, flag in vectors["flags"].items()}
    c1_id, c8_id = vectors["c1"].pk, vectors["c8"].pk
    assert body["cohorts"] == {
        str(c1_id): C1_TREE,
        str(vectors["c7"].pk): C7_TREE,
        str(c8_id): {
            "type": "OR",
            "values": [
                {"type": "AND", "values": [{"key": "id", "type": "cohort", "value": c1_id, "negation": False}]},
                {
                    "type": "AND",
                    "values": [
                        {
                            "key": "email",
                            "type": "person",
                            "value": "other.io",
                            "operator": "icontains",
                            "negation": False,
                        }
                    ],
                },
            ],
        },
        # C11 references the static S1: S1 itself is never sent (SDKs ask the server), C11 is
        str(vectors["c11"].pk): {
            "type": "OR",
            "values": [
                {
                    "type": "AND",
                    "values": [
                        {"key": "id", "type": "cohort", "value": vectors["s1"].pk, "negation": False},
                        {"key": "plan", "type": "person", "value": "free", "operator": "exact", "negation": False},
                    ],
                }
            ],
        },
    }  # neither S1 (static) nor the other project's cohort


@pytest.mark.parametrize("url", URLS)
def test_without_send_cohorts_single_cohort_flags_are_inlined(project: Any, vectors: dict[str, Any], url: str) -> None:
    body = payload(project, url, send_cohorts=False)
    assert body["cohorts"] == {}
    got = filters_by_key(body)
    assert got["F1"] == {"groups": [{"properties": [EMAIL, PLAN], "rollout_percentage": 100}]}  # F1 of §8.3
    stored = {key: flag.filters for key, flag in vectors["flags"].items()}
    for key in ("F2", "F3", "F4", "nested", "static-nested", "foreign"):
        assert got[key] == stored[key], key


def test_etag_changes_with_send_cohorts_and_cohort_edits(project: Any, vectors: dict[str, Any]) -> None:
    url = URLS[0].format(token=project.team.api_token)
    plain, sent = project.client().get(url), project.client().get(url + "&send_cohorts")
    assert plain["ETag"] != sent["ETag"]
    vectors["c7"].filters = {"properties": or_of_ands([person("plan", "team")])}
    vectors["c7"].save()
    assert project.client().get(url + "&send_cohorts", HTTP_IF_NONE_MATCH=sent["ETag"]).status_code == 200


def test_project_route_auth_matrix_with_send_cohorts(project: Any, other_project: Any, vectors: dict[str, Any]) -> None:
    url = f"/api/projects/{project.team.pk}/feature_flags/local_evaluation/?send_cohorts"
    assert_auth_matrix(project, other_project, "GET", url, scope="feature_flag:read")


# ---------------------------------------------------------------------------------------------------
# The inlining rules, one at a time (pure)


def definition(cohort_id: int, tree: Any, *, is_static: bool = False) -> CohortDefinition:
    properties = cohort_properties(is_static=is_static, filters={"properties": tree}, groups=[])
    return CohortDefinition(id=cohort_id, name=f"C{cohort_id}", is_static=is_static, properties=properties)


A = {"key": "a", "type": "person", "value": "1", "operator": "exact", "negation": False}
B = {"key": "b", "type": "person", "value": "2", "operator": "exact", "negation": False}
C = {"key": "c", "type": "person", "value": "3", "operator": "exact", "negation": False}
OTHER = {"properties": [BROWSER], "rollout_percentage": 50}


def on(cohort_id: int, rollout: int | None = 40, **more: Any) -> dict[str, Any]:
    return {"properties": [{"key": "id", "type": "cohort", "value": cohort_id, **more}], "rollout_percentage": rollout}


INLINED = [
    ("one property", {"type": "OR", "values": [A]}, [[A]]),
    ("one AND list", {"type": "OR", "values": [{"type": "AND", "values": [A, B]}]}, [[A, B]]),
    ("one OR list", {"type": "AND", "values": [{"type": "OR", "values": [A, B]}]}, [[A], [B]]),
    (
        "OR of AND lists and a property",
        {"type": "OR", "values": [{"type": "AND", "values": [A, B]}, C, {"type": "AND", "values": [B]}]},
        [[A, B], [C], [B]],
    ),
    ("flat legacy list of one", [A], [[A]]),
]


@pytest.mark.parametrize(("name", "tree", "conditions"), INLINED, ids=[i[0] for i in INLINED])
def test_inlined_shapes(name: str, tree: Any, conditions: list[list[dict[str, Any]]]) -> None:
    filters = {"groups": [OTHER, on(7)], "payloads": {"true": "1"}}
    got = inline_single_cohort(filters, {7: definition(7, tree)})
    assert got == {
        "groups": [OTHER, *({"properties": c, "rollout_percentage": 40} for c in conditions)],
        "payloads": {"true": "1"},
    }


def test_the_same_cohort_in_two_conditions_keeps_each_rollout() -> None:
    got = inline_single_cohort({"groups": [on(7, 10), on(7, None)]}, {7: definition(7, {"type": "OR", "values": [A]})})
    assert got == {
        "groups": [{"properties": [A], "rollout_percentage": 10}, {"properties": [A], "rollout_percentage": None}]
    }


NOT_INLINED = [
    ("top AND of two", {7: definition(7, {"type": "AND", "values": [A, B]})}, [on(7)]),
    ("flat legacy list of two (a top AND)", {7: definition(7, [A, B])}, [on(7)]),
    ("OR inside OR", {7: definition(7, {"type": "OR", "values": [{"type": "OR", "values": [A, B]}, C]})}, [on(7)]),
    (
        "nested AND",
        {7: definition(7, {"type": "OR", "values": [{"type": "AND", "values": [A, {"type": "AND", "values": [B]}]}]})},
        [on(7)],
    ),  # noqa: E501
    ("negation", {7: definition(7, {"type": "OR", "values": [{**A, "negation": True}]})}, [on(7)]),
    ("behavioral", {7: definition(7, {"type": "OR", "values": [performed("buy")]})}, [on(7)]),
    ("empty", {7: definition(7, {"type": "OR", "values": []})}, [on(7)]),
    ("static", {7: definition(7, None, is_static=True)}, [on(7)]),
    ("missing", {}, [on(7)]),
    ("variant", {7: definition(7, {"type": "OR", "values": [A]})}, [on(7), {**OTHER, "variant": "x"}]),
    ("not alone", {7: definition(7, {"type": "OR", "values": [A]})}, [{"properties": [on(7)["properties"][0], B]}]),
    ("not_in", {7: definition(7, {"type": "OR", "values": [A]})}, [on(7, operator="not_in")]),
    (
        "two cohorts",
        {7: definition(7, {"type": "OR", "values": [A]}), 8: definition(8, {"type": "OR", "values": [B]})},
        [on(7), on(8)],
    ),
    (
        "a nested cohort counts",
        {
            7: definition(7, {"type": "OR", "values": [A, in_cohort(8)]}),
            8: definition(8, {"type": "OR", "values": [B]}),
        },
        [on(7)],
    ),
]


@pytest.mark.parametrize(("name", "cohorts", "groups"), NOT_INLINED, ids=[i[0] for i in NOT_INLINED])
def test_sent_as_is(name: str, cohorts: dict[int, CohortDefinition], groups: list[dict[str, Any]]) -> None:
    filters = {"groups": groups, "multivariate": {"variants": [{"key": "x", "rollout_percentage": 100}]}}
    assert inline_single_cohort(filters, cohorts) == filters
