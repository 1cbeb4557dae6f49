"""Static cohorts: CSV uploads (every rule and error of PostHog's), person ids, add/remove, duplicating a
dynamic cohort, and filling from a query; members in Postgres (`count`) and ClickHouse alike."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cohorts.models import Cohort, CohortPeople
from posthog_clone.clickhouse import get_client, table
from tests.cohorts.conftest import calculate_waiting, create, filters, make_person, member_ids, prop, url

pytestmark = pytest.mark.clickhouse


@pytest.fixture
def people(project: Any, other_project: Any) -> dict[str, str]:
    """Three persons of the project and one of another project with the same distinct id and email."""
    made = {
        "ann": make_person(project.team, ["d-ann", "ann-2"], {"email": "ann@acme.com", "plan": "pro"}),
        "bob": make_person(project.team, ["d-bob"], {"email": "bob@acme.com", "plan": "free"}),
        "cat": make_person(project.team, ["d-cat"], {"plan": "pro"}),
        "theirs": make_person(other_project.team, ["d-ann"], {"email": "ann@acme.com", "plan": "pro"}),
    }
    return {name: str(person.uuid) for name, person in made.items()}


def clickhouse_members(cohort_id: int) -> set[str]:
    """Members per person_static_cohort: the newest row of each person says in or out."""
    rows = (
        get_client()
        .query(
            f"SELECT person_id, argMax(is_deleted, _timestamp) FROM {table('person_static_cohort')} "
            "WHERE cohort_id = {c:Int64} GROUP BY person_id",
            {"c": cohort_id},
        )
        .rows
    )
    return {str(person_id) for person_id, deleted in rows if not deleted}


def upload(project: Any, content: bytes, **fields: Any) -> Any:
    body = {"name": "Imported", "is_static": "true", "csv": SimpleUploadedFile("people.csv", content), **fields}
    return project.client().post(url(project), body, format="multipart")


def assert_members(project: Any, cohort_id: int, expected: set[str]) -> None:
    assert member_ids(project, cohort_id) == expected
    assert clickhouse_members(cohort_id) == expected
    assert {
        str(u) for u in CohortPeople.objects.filter(cohort_id=cohort_id).values_list("person__uuid", flat=True)
    } == (expected)
    assert Cohort.objects.get(pk=cohort_id).count == len(expected)


CSV_CASES = [
    # one column
    ("person_id\n{ann}\n{bob}\n", {"ann", "bob"}),
    ("Person .id\n{ann}\n", {"ann"}),
    ("PERSON-ID\n {cat} \n\n", {"cat"}),
    ("email\nann@acme.com\nnobody@acme.com\n", {"ann"}),
    ("E-Mail\nbob@acme.com\n", {"bob"}),
    ("d-ann\nd-bob\n", {"ann", "bob"}),  # no header: the first row is a distinct id too
    ("distinct_id\nd-cat\n", {"cat"}),  # a lone `distinct_id` header is itself an id (matching nobody)
    ("\n\nd-bob\n\n  \nann-2\n", {"ann", "bob"}),  # empty rows skipped, values trimmed
    ("person_id\n{ann}\nnot-a-uuid\n00000000-0000-0000-0000-000000000000\n", {"ann"}),  # unresolvable ignored
    # several columns
    ("name,email,person_id\nx,bob@acme.com,{ann}\n", {"ann"}),  # a person id column wins
    ("email,distinct_id\nann@acme.com,d-bob\n", {"bob"}),  # then distinct ids
    ("name,Email\nx,ann@acme.com\ny,bob@acme.com\n", {"ann", "bob"}),  # then emails
    ("distinct_id,name\nd-ann,A\nd-bob\n,B\nd-cat,C,extra\n", {"ann", "bob", "cat"}),  # empty id cells skipped
    ("name,distinct_id\nA,d-ann\nB\n", {"ann"}),  # rows too short for the id column skipped
    ("person_id,distinct_id\n{ann},d-bob\n{ann},d-cat\n", {"ann"}),  # repeats count once
]


@pytest.mark.parametrize(("content", "expected"), CSV_CASES)
def test_csv_upload(project: Any, people: dict[str, str], content: str, expected: set[str]) -> None:
    response = upload(project, content.format(**people).encode())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["is_static"], body["cohort_type"], body["count"], body["is_calculating"]) == (
        True, "static", len(expected), False,
    )  # fmt: skip
    assert_members(project, body["id"], {people[name] for name in expected})
    assert people["theirs"] not in clickhouse_members(body["id"])


CSV_ERRORS = [
    (b"", "CSV file is empty. Please upload a CSV file with at least one row of data."),
    (b"\n\n", "CSV file is empty. Please upload a CSV file with at least one row of data."),
    (
        b"name,plan\nann,pro\n",
        "Multi-column CSV must contain at least one column with a supported ID header: 'person_id', 'Person .id' "
        "(PostHog export format), 'distinct_id', 'distinct-id', or 'email'. Found columns: name, plan",
    ),
    (
        b"person_id\n\n  \n",
        "CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file has data "
        "rows with person IDs, distinct IDs, or email addresses.",
    ),
    (
        b"email,name\n",
        "CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file has data "
        "rows with person IDs, distinct IDs, or email addresses.",
    ),
    (b"\xff\xfed\x00-\x00a\x00", "CSV file encoding is not supported. Please save your file as UTF-8 and try again."),
    (b'd-ann\n"d-bob"x\n', "CSV file format is invalid. Please check your file format and try again."),
]


@pytest.mark.parametrize(("content", "detail"), CSV_ERRORS)
def test_csv_errors(project: Any, people: dict[str, str], content: bytes, detail: str) -> None:
    response = upload(project, content)
    assert response.status_code == 400, response.content
    assert response.json() == {"type": "validation_error", "code": "invalid_input", "detail": detail, "attr": "csv"}
    assert not Cohort.objects.filter(team=project.team).exists()


def test_csv_on_patch_adds_without_duplicates(project: Any, people: dict[str, str]) -> None:
    created = upload(project, b"d-ann\n").json()
    more = SimpleUploadedFile("more.csv", b"distinct_id\nd-ann\nd-bob\n")
    response = project.client().patch(url(project, f"{created['id']}/"), {"csv": more}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 2
    assert_members(project, created["id"], {people["ann"], people["bob"]})


def test_static_person_ids_on_create(project: Any, people: dict[str, str]) -> None:
    ids = [people["ann"], people["cat"], people["theirs"], "nope"]
    created = create(project, {"name": "picked", "is_static": True, "_create_static_person_ids": ids})
    assert created["count"] == 2
    assert "_create_static_person_ids" not in created
    assert_members(project, created["id"], {people["ann"], people["cat"]})


def test_add_persons(project: Any, people: dict[str, str]) -> None:
    created = create(project, {"name": "picked", "is_static": True})
    endpoint = url(project, f"{created['id']}/add_persons_to_static_cohort/")
    body = {"person_ids": [people["ann"], people["bob"], people["theirs"], "zzz"]}
    response = project.client().patch(endpoint, body, format="json")
    assert response.status_code == 200 and response.json() == {"success": True}
    again = project.client().patch(endpoint, {"person_ids": [people["bob"], people["cat"]]}, format="json")
    assert again.status_code == 200
    assert_members(project, created["id"], {people["ann"], people["bob"], people["cat"]})


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"person_ids": "abc"}, "person_ids must be a list"),
        ({}, "person_ids must be a list"),
        ({"person_ids": []}, "person_ids cannot be empty"),
        ({"person_ids": ["00000000-0000-0000-0000-000000000001"] * 1001}, "List size exceeds limit"),
        ({"person_ids": ["00000000-0000-0000-0000-000000000001", "x"]}, "No valid users to add to cohort"),
        ({"person_ids": ["{theirs}"]}, "No valid users to add to cohort"),
    ],
)
def test_add_persons_errors(project: Any, people: dict[str, str], body: dict, detail: str) -> None:
    created = create(project, {"name": "picked", "is_static": True})
    body = {k: [v.format(**people) for v in value] if isinstance(value, list) else value for k, value in body.items()}
    response = project.client().patch(
        url(project, f"{created['id']}/add_persons_to_static_cohort/"), body, format="json"
    )
    assert response.status_code == 400, response.content
    assert (response.json()["detail"], response.json()["attr"]) == (detail, None)


def test_add_and_remove_need_a_static_cohort(project: Any) -> None:
    dynamic = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    add = project.client().patch(
        url(project, f"{dynamic['id']}/add_persons_to_static_cohort/"), {"person_ids": ["x"]}, format="json"
    )
    assert add.status_code == 400 and add.json()["detail"] == "Can only add users to static cohorts"
    remove = project.client().patch(
        url(project, f"{dynamic['id']}/remove_person_from_static_cohort/"), {"person_id": "x"}, format="json"
    )
    assert remove.status_code == 400 and remove.json()["detail"] == "Can only remove users from static cohorts"


def test_remove_person(project: Any, people: dict[str, str]) -> None:
    created = create(
        project, {"name": "picked", "is_static": True, "_create_static_person_ids": [people["ann"], people["bob"]]}
    )  # noqa: E501
    endpoint = url(project, f"{created['id']}/remove_person_from_static_cohort/")
    response = project.client().patch(endpoint, {"person_id": people["ann"].upper()}, format="json")
    assert response.status_code == 200 and response.json() == {"success": True}
    assert_members(project, created["id"], {people["bob"]})
    gone = project.client().patch(endpoint, {"person_id": people["ann"]}, format="json")
    assert gone.status_code == 404 and gone.json()["detail"] == "Person is not part of the cohort"


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({}, 400, "person_id is required"),
        ({"person_id": ""}, 400, "person_id is required"),
        ({"person_id": 5}, 400, "person_id must be a string"),
        ({"person_id": "abc"}, 400, "person_id must be a valid UUID"),
        (
            {"person_id": "00000000-0000-0000-0000-000000000001"},
            404,
            "Person with this UUID does not exist in the cohort's team",
        ),  # noqa: E501
        ({"person_id": "{theirs}"}, 404, "Person with this UUID does not exist in the cohort's team"),
        ({"person_id": "{cat}"}, 404, "Person is not part of the cohort"),
    ],
)
def test_remove_person_errors(project: Any, people: dict[str, str], body: dict, status: int, detail: str) -> None:
    created = create(project, {"name": "picked", "is_static": True, "_create_static_person_ids": [people["ann"]]})
    body = {k: v.format(**people) if isinstance(v, str) else v for k, v in body.items()}
    endpoint = url(project, f"{created['id']}/remove_person_from_static_cohort/")
    response = project.client().patch(endpoint, body, format="json")
    assert (response.status_code, response.json()["detail"]) == (status, detail)
    assert_members(project, created["id"], {people["ann"]})


def test_duplicate_a_dynamic_cohort_as_static(project: Any, people: dict[str, str]) -> None:
    dynamic = create(project, {"name": "Pro", "filters": filters(prop("plan", "pro"))})
    calculate_waiting()
    response = project.client().get(url(project, f"{dynamic['id']}/duplicate_as_static_cohort/"))
    assert response.status_code == 200, response.content
    copy = response.json()
    assert (copy["name"], copy["is_static"], copy["cohort_type"], copy["count"]) == (
        "Pro (static copy)",
        True,
        "static",
        2,
    )
    assert_members(project, copy["id"], {people["ann"], people["cat"]})
    again = project.client().get(url(project, f"{copy['id']}/duplicate_as_static_cohort/"))
    assert again.status_code == 400
    assert again.json()["detail"] == "Cannot duplicate a static cohort as a static cohort."


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "HogQLQuery", "query": "SELECT id FROM persons WHERE properties.plan = 'pro'"},
        {"kind": "ActorsQuery", "properties": [{"type": "person", "key": "plan", "value": "pro", "operator": "exact"}]},
        {"kind": "ActorsQuery", "select": ["properties.email"], "search": "acme.com"},
    ],
)
def test_static_cohort_from_a_query(project: Any, people: dict[str, str], query: dict) -> None:
    created = create(project, {"name": "From query", "is_static": True, "query": query})
    assert (created["is_calculating"], created["query"], created["cohort_type"]) == (True, query, "static")
    assert calculate_waiting() == 1
    body = project.client().get(url(project, f"{created['id']}/")).json()
    expected = {people["ann"], people["cat"]} if query.get("properties") or "plan" in query.get("query", "") else {
        people["ann"], people["bob"],
    }  # fmt: skip
    assert (body["is_calculating"], body["count"]) == (False, len(expected))
    assert_members(project, created["id"], expected)  # another project's matching person never joins


def test_a_failing_query_is_recorded(project: Any, people: dict[str, str]) -> None:
    query = {"kind": "HogQLQuery", "query": "SELECT id FROM persons WHERE match(properties.plan, '(?<=p)ro')"}
    created = create(project, {"name": "From query", "is_static": True, "query": query})
    calculate_waiting()
    body = project.client().get(url(project, f"{created['id']}/")).json()
    assert (body["is_calculating"], body["errors_calculating"]) == (False, 1)
    history = project.client().get(url(project, f"{created['id']}/calculation_history/")).json()["results"]
    assert history[0]["is_successful"] is False and history[0]["error"]
