"""Dynamic cohort calculation end to end: the background worker (started through the registry, as the
server's engine does) calculates a person-property cohort into ClickHouse `cohortpeople` at a new version;
members, count, version and history agree; an edit recalculates; a failing definition counts errors; the
persons endpoint pages members (JSON and CSV); another project's persons never join."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import pytest

from cohorts import calculation
from cohorts.models import Cohort, CohortCalculation
from posthog_clone import definitions_version
from posthog_clone.clickhouse import get_client, table
from tests.cohorts.conftest import (
    calculate_waiting,
    create,
    filters,
    make_person,
    member_ids,
    prop,
    run_in_background,
    set_properties,
    url,
)

pytestmark = pytest.mark.clickhouse


@pytest.fixture
def people(project: Any, other_project: Any) -> dict[str, Any]:
    return {
        "ann": make_person(project.team, ["ann"], {"email": "ann@acme.com", "plan": "pro", "seats": 12}),
        "bob": make_person(project.team, ["bob"], {"email": "bob@acme.com", "plan": "free", "seats": 1}),
        "cat": make_person(project.team, ["cat"], {"email": "cat@other.io", "plan": "pro", "seats": 3}),
        "dan": make_person(project.team, ["dan"], {"plan": "enterprise", "seats": 40}),
        "theirs": make_person(other_project.team, ["ann"], {"email": "ann@acme.com", "plan": "pro"}),
    }


def uuids(people: dict[str, Any], *names: str) -> set[str]:
    return {str(people[name].uuid) for name in names}


def clickhouse_rows(cohort_id: int) -> list[tuple[int, str, int]]:
    rows = (
        get_client()
        .query(
            f"SELECT team_id, toString(person_id), version FROM {table('cohortpeople')} WHERE cohort_id = {{c:Int64}}",
            {"c": cohort_id},
        )
        .rows
    )
    return sorted(tuple(row) for row in rows)


def wait_calculated(project: Any, cohort_id: int, timeout: float = 30) -> dict[str, Any]:
    """Poll the cohort like PostHog's UI until `is_calculating` is false."""
    deadline = time.monotonic() + timeout
    while True:
        body = project.client().get(url(project, f"{cohort_id}/")).json()
        if not body["is_calculating"]:
            return body
        assert time.monotonic() < deadline, f"still calculating: {body}"
        time.sleep(0.1)


@pytest.mark.django_db(transaction=True)
def test_background_calculation_and_recalculation_on_edit(project: Any, people: dict[str, Any]) -> None:
    created = create(project, {"name": "Acme", "filters": filters(prop("email", "@acme.com", "icontains"))})
    assert created["is_calculating"] is True
    run_in_background()
    body = wait_calculated(project, created["id"], timeout=0)
    assert (body["count"], body["errors_calculating"]) == (2, 0)
    assert body["last_calculation"] is not None
    assert member_ids(project, created["id"]) == uuids(people, "ann", "bob")
    cohort = Cohort.objects.get(pk=created["id"])
    assert (cohort.version, cohort.pending_version) == (1, 1)
    assert clickhouse_rows(cohort.pk) == sorted((project.team.pk, u, 1) for u in uuids(people, "ann", "bob"))

    edited = project.client().patch(
        url(project, f"{created['id']}/"), {"filters": filters(prop("plan", ["pro", "enterprise"]))}, format="json"
    )
    assert edited.json()["is_calculating"] is True
    run_in_background()
    body = wait_calculated(project, created["id"], timeout=0)
    assert body["count"] == 3
    assert member_ids(project, created["id"]) == uuids(people, "ann", "cat", "dan")
    assert Cohort.objects.get(pk=created["id"]).version == 2

    history = project.client().get(url(project, f"{created['id']}/calculation_history/")).json()
    assert history["count"] == 2
    latest, first = history["results"]
    assert (latest["count"], first["count"]) == (3, 2)
    assert latest["filters"] == filters(prop("plan", ["pro", "enterprise"]))
    assert latest["is_completed"] and latest["is_successful"] and latest["duration_seconds"] >= 0
    assert "persons" in latest["main_query"]
    assert [run.trigger for run in CohortCalculation.objects.order_by("id")] == ["edit", "edit"]


def test_members_follow_the_latest_version(project: Any, people: dict[str, Any]) -> None:
    created = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    calculate_waiting()
    assert member_ids(project, created["id"]) == uuids(people, "ann", "cat")
    set_properties(people["cat"], {"plan": "free"})
    set_properties(people["bob"], {"plan": "pro"})
    assert calculation.calculate(created["id"], trigger="manual") is not None
    assert member_ids(project, created["id"]) == uuids(people, "ann", "bob")  # cat's version-1 row is not read
    assert Cohort.objects.get(pk=created["id"]).count == 2
    versions = {version for _, _, version in clickhouse_rows(created["id"])}
    assert versions == {1, 2}


def test_person_property_operators(project: Any, people: dict[str, Any]) -> None:
    cases = {
        "email regex": (filters(prop("email", "^[ab]", "regex")), {"ann", "bob"}),
        "no email": (filters(prop("email", None, "is_not_set")), {"dan"}),
        "pro or acme": (
            {
                "properties": {
                    "type": "OR",
                    "values": [
                        {"type": "AND", "values": [prop("plan", "pro")]},
                        {"type": "AND", "values": [prop("email", "acme", "icontains")]},
                    ],
                }
            },
            {"ann", "bob", "cat"},
        ),  # fmt: skip
        "pro, not acme": (filters(prop("plan", "pro"), prop("email", "acme", "icontains", negation=True)), {"cat"}),
        "case-sensitive exact": (filters(prop("plan", "PRO")), set()),  # §8.2 C7: ClickHouse compares exactly
    }
    ids = {name: create(project, {"name": name, "filters": body})["id"] for name, (body, _) in cases.items()}
    assert calculate_waiting() == len(cases)
    for name, (_, expected) in cases.items():
        assert member_ids(project, ids[name]) == uuids(people, *expected), name
        assert Cohort.objects.get(pk=ids[name]).count == len(expected), name


def test_a_legacy_groups_cohort_is_calculated(project: Any, people: dict[str, Any]) -> None:
    legacy = Cohort.objects.create(
        team=project.team,
        name="old",
        groups=[{"properties": [{"key": "plan", "value": "pro"}]}, {"properties": {"email": "bob@acme.com"}}],
        is_calculating=True,
    )
    assert calculate_waiting() == 1
    assert member_ids(project, legacy.pk) == uuids(people, "ann", "cat", "bob")


def test_another_projects_persons_never_join(project: Any, other_project: Any, people: dict[str, Any]) -> None:
    mine = create(project, {"name": "Acme", "filters": filters(prop("email", "ann@acme.com"))})
    theirs = create(other_project, {"name": "Acme", "filters": filters(prop("email", "ann@acme.com"))})
    calculate_waiting()
    assert member_ids(project, mine["id"]) == uuids(people, "ann")
    assert member_ids(other_project, theirs["id"]) == uuids(people, "theirs")
    assert {team for team, _, _ in clickhouse_rows(mine["id"])} == {project.team.pk}
    assert {team for team, _, _ in clickhouse_rows(theirs["id"])} == {other_project.team.pk}


def test_a_failing_definition_counts_errors(project: Any, people: dict[str, Any]) -> None:
    # Python's regex engine takes a lookbehind, ClickHouse's RE2 refuses it when the calculation runs.
    created = create(project, {"name": "Odd", "filters": filters(prop("plan", "(?<=p)ro", "regex"))})
    calculate_waiting()
    body = project.client().get(url(project, f"{created['id']}/")).json()
    assert (body["is_calculating"], body["errors_calculating"], body["count"], body["last_calculation"]) == (
        False, 1, None, None,
    )  # fmt: skip
    cohort = Cohort.objects.get(pk=created["id"])
    assert cohort.last_error_at is not None and "re2" in cohort.last_error
    assert cohort.version is None and cohort.pending_version == 1
    run = CohortCalculation.objects.get(cohort=cohort)
    assert run.finished_at is not None and run.count is None and "re2" in run.error
    assert member_ids(project, created["id"]) == set()
    project.client().patch(url(project, f"{created['id']}/"), {"name": "again"}, format="json")
    calculate_waiting()
    assert Cohort.objects.get(pk=created["id"]).errors_calculating == 2
    fixed = project.client().patch(
        url(project, f"{created['id']}/"), {"filters": filters(prop("plan", "^pr", "regex"))}, format="json"
    )
    assert fixed.status_code == 200
    calculate_waiting()
    body = project.client().get(url(project, f"{created['id']}/")).json()
    assert (body["errors_calculating"], body["count"]) == (0, 2)
    assert Cohort.objects.get(pk=created["id"]).last_error_at is None


def test_an_edit_during_a_run_leaves_it_calculating(project: Any, people: dict[str, Any]) -> None:
    created = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    claim = calculation._claim(created["id"], "edit")
    project.client().patch(url(project, f"{created['id']}/"), {"filters": filters(prop("plan", "free"))}, format="json")
    calculation._succeed(claim, count=2, hogql="")  # the run that read the old definition ends
    assert Cohort.objects.get(pk=created["id"]).is_calculating is True
    calculate_waiting()  # the next run reads the edit
    cohort = Cohort.objects.get(pk=created["id"])
    assert (cohort.is_calculating, cohort.version, cohort.count) == (False, 2, 1)  # no rows at version 1 matter
    assert member_ids(project, created["id"]) == uuids(people, "bob")


def test_an_older_run_finishing_last_does_not_win(project: Any, people: dict[str, Any]) -> None:
    created = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    older = calculation._claim(created["id"], "edit")
    assert older is not None and older.run.version == 1
    assert calculation.calculate(created["id"]).version == 2  # a newer run finishes first
    calculation._succeed(older, count=99, hogql="")
    cohort = Cohort.objects.get(pk=created["id"])
    assert (cohort.version, cohort.count, cohort.is_calculating) == (2, 2, False)
    assert calculation._claim(created["id"], "edit").run.version == 3  # versions are never taken twice


def test_a_calculation_bumps_the_definitions_version(
    project: Any, people: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    before = definitions_version.current(project.team.pk)
    with django_capture_on_commit_callbacks(execute=True):
        calculate_waiting()
    assert definitions_version.current(project.team.pk) > before


def test_deleted_cohorts_are_not_calculated(project: Any, people: dict[str, Any]) -> None:
    created = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    project.client().patch(url(project, f"{created['id']}/"), {"deleted": True}, format="json")
    assert calculate_waiting() == 0
    assert calculation.calculate(created["id"]) is None
    assert Cohort.objects.get(pk=created["id"]).version is None


def test_persons_pages_and_csv(project: Any, people: dict[str, Any]) -> None:
    created = create(project, {"name": "Everyone", "filters": filters(prop("plan", None, "is_set"))})
    assert project.client().get(url(project, f"{created['id']}/persons/")).json() == {
        "results": [],
        "next": None,
        "previous": None,
    }  # fmt: skip  (not calculated yet)
    calculate_waiting()
    endpoint = url(project, f"{created['id']}/persons/")
    first = project.client().get(endpoint, {"limit": 3}).json()
    assert len(first["results"]) == 3 and first["previous"] is None
    assert "offset=3" in first["next"] and "limit=3" in first["next"]
    second = project.client().get(endpoint, {"limit": 3, "offset": 3}).json()
    assert len(second["results"]) == 1 and second["next"] is None and "offset=0" in second["previous"]
    everyone = [p["id"] for p in first["results"] + second["results"]]
    assert len(everyone) == 4 and set(everyone) == uuids(people, "ann", "bob", "cat", "dan")  # pages never overlap
    ann = next(p for p in first["results"] + second["results"] if p["id"] == str(people["ann"].uuid))
    assert ann == {
        "id": str(people["ann"].uuid),
        "uuid": str(people["ann"].uuid),
        "type": "person",
        "name": "ann@acme.com",
        "distinct_ids": ["ann"],
        "properties": {"email": "ann@acme.com", "plan": "pro", "seats": 12},
        "created_at": ann["created_at"],
        "last_seen_at": None,
        "is_identified": True,
        "matched_recordings": [],
        "value_at_data_point": None,
    }

    exported = project.client().get(endpoint, {"format": "csv"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert list(rows[0]) == ["id", "email", "name", "created_at", "properties", "distinct_ids"]
    assert {row["id"] for row in rows} == uuids(people, "ann", "bob", "cat", "dan")
    ann_row = next(row for row in rows if row["id"] == str(people["ann"].uuid))
    assert (ann_row["email"], ann_row["properties"]) == ("ann@acme.com", '{"plan":"pro","seats":12}')
    bad = project.client().get(endpoint, {"limit": 0, "format": "csv"})
    assert bad.status_code == 400 and bad.json()["attr"] == "limit"
