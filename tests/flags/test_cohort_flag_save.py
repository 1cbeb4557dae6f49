"""Saving a flag with cohort conditions (unknown cohort, filters on events: 400 with PostHog's codes; F5 of
§8.3), and the registry lookup the cohorts API uses to refuse deleting a cohort an active flag uses."""

from __future__ import annotations

from typing import Any

import pytest

from flags.models import FeatureFlag
from posthog_clone import registry
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


@pytest.fixture
def cohorts(project: Any, other_project: Any) -> dict[str, Any]:
    team = project.team
    people = make_people(team)
    first = c1(team)
    c2 = cohort(team, "C2", or_of_ands([performed("purchase")]))
    c5 = cohort(team, "C5", or_of_ands([in_cohort(first), in_cohort(c2, negation=True)]))
    deep = cohort(
        team, "deep", {"type": "AND", "values": [{"type": "OR", "values": [person("plan", "x"), performed("x")]}]}
    )
    s1 = cohort(team, "S1", is_static=True, members=(people["p1"],))
    c8 = cohort(team, "C8", or_of_ands([in_cohort(first)], [person("email", "other.io", "icontains")]))
    dangling = cohort(team, "dangling", or_of_ands([in_cohort(888_888)]))
    deleted = cohort(team, "gone", or_of_ands([person("plan", "pro")]), deleted=True)
    foreign = cohort(other_project.team, "theirs", or_of_ands([person("plan", "pro")]))
    return {
        "c1": first, "c2": c2, "c5": c5, "deep": deep, "s1": s1, "c8": c8,
        "dangling": dangling, "deleted": deleted, "foreign": foreign,
    }  # fmt: skip


def url(project: Any, suffix: str = "") -> str:
    return f"/api/projects/{project.team.pk}/feature_flags/{suffix}"


def create(project: Any, target: Any, key: str = "on-cohort") -> Any:
    return project.client().post(
        url(project), {"key": key, "filters": {"groups": [cohort_condition(target)]}}, format="json"
    )


def error(code: str, detail: str) -> dict[str, Any]:
    return {"type": "validation_error", "code": code, "detail": detail, "attr": "filters"}


@pytest.mark.parametrize("name", ["c1", "s1", "c8"])
def test_person_property_static_and_nested_cohorts_are_accepted(
    project: Any, cohorts: dict[str, Any], name: str
) -> None:
    response = create(project, cohorts[name])
    assert response.status_code == 201, response.content
    assert response.json()["filters"]["groups"][0]["properties"][0]["value"] == cohorts[name].pk


@pytest.mark.parametrize(
    ("name", "named"),
    [("c2", "C2"), ("c5", "C2"), ("deep", "deep")],  # C5 is fine itself; the C2 it references is not
)
def test_filters_on_events_are_refused(project: Any, cohorts: dict[str, Any], name: str, named: str) -> None:
    response = create(project, cohorts[name])
    assert response.status_code == 400
    detail = f"Cohort '{named}' with filters on events cannot be used in feature flags."
    assert response.json() == error("behavioral_cohort_found", detail)
    assert not FeatureFlag.objects.filter(key="on-cohort").exists()


@pytest.mark.parametrize(("name", "missing_id"), [("deleted", None), ("foreign", None), ("dangling", 888_888)])
def test_unknown_cohorts_are_refused(project: Any, cohorts: dict[str, Any], name: str, missing_id: Any) -> None:
    response = create(project, cohorts[name])
    assert response.status_code == 400
    shown = missing_id if missing_id is not None else cohorts[name].pk
    assert response.json() == error("cohort_does_not_exist", f"Cohort with id {shown} does not exist")


def test_unknown_id_is_refused(project: Any, cohorts: dict[str, Any]) -> None:
    response = create(project, 999_999)
    assert response.json() == error("cohort_does_not_exist", "Cohort with id 999999 does not exist")


def test_updates_are_checked_when_filters_change(project: Any, cohorts: dict[str, Any]) -> None:
    flag_id = create(project, cohorts["c1"]).json()["id"]
    patch = project.client().patch(
        url(project, f"{flag_id}/"), {"filters": {"groups": [cohort_condition(cohorts["c2"])]}}, format="json"
    )
    assert patch.status_code == 400
    assert patch.json()["code"] == "behavioral_cohort_found"
    put = project.client().put(
        url(project, f"{flag_id}/"),
        {"key": "on-cohort", "filters": {"groups": [cohort_condition(cohorts["foreign"])]}},
        format="json",
    )
    assert put.json()["code"] == "cohort_does_not_exist"
    cohorts["c1"].deleted = True
    cohorts["c1"].save()
    toggled = project.client().patch(url(project, f"{flag_id}/"), {"active": False}, format="json")
    assert toggled.status_code == 200  # filters untouched: not re-checked


def test_registry_names_active_flags_using_a_cohort(project: Any, other_project: Any, cohorts: dict[str, Any]) -> None:
    team = project.team
    flag_on(team, "direct", cohort_condition(cohorts["c1"]))
    FeatureFlag.objects.create(
        team=team, key="named", name="Through C8", filters={"groups": [cohort_condition(cohorts["c8"])]}
    )
    flag_on(team, "unrelated", cohort_condition(cohorts["s1"]))
    FeatureFlag.objects.create(
        team=team, key="off", active=False, filters={"groups": [cohort_condition(cohorts["c1"])]}
    )
    FeatureFlag.objects.create(
        team=team, key="gone", deleted=True, filters={"groups": [cohort_condition(cohorts["c1"])]}
    )
    flag_on(other_project.team, "foreign-flag", cohort_condition(cohorts["c1"]))

    hooks = [h for h in registry.reference_users_of("cohort") if h.path.startswith("flags.")]
    assert [hook.path for hook in hooks] == ["flags.selectors.active_flags_using_cohort"]

    def users(cohort_id: int) -> list[str]:
        pairs = [pair for hook in hooks for pair in hook(team.pk, cohort_id)]
        assert {kind for kind, _ in pairs} <= {"feature_flag"}
        return [name for _, name in pairs]

    assert users(cohorts["c1"].pk) == ["direct", "Through C8"]  # C8 references C1
    assert users(cohorts["c8"].pk) == ["Through C8"]
    assert users(cohorts["s1"].pk) == ["unrelated"]
    assert users(cohorts["c2"].pk) == []
    assert [name for hook in hooks for name in hook(other_project.team.pk, cohorts["c1"].pk)] == []  # not theirs
