"""Persons API under /api/projects/:id/persons/: list and filters, retrieve, values, delete, auth."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from persons.models import Person, PersonDistinctId
from posthog_clone.clickhouse import get_client, table
from tests.auth_matrix import assert_auth_matrix

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def make_person(team: Any, distinct_ids: list[str], properties: dict[str, Any], *, minutes: int = 0) -> Person:
    person = Person.objects.create(
        team=team, properties=properties, created_at=T0 + timedelta(minutes=minutes), is_identified=True, version=2
    )
    for distinct_id in distinct_ids:
        PersonDistinctId.objects.create(team=team, person=person, distinct_id=distinct_id, version=1)
    return person


def url(project: Any, suffix: str = "", prefix: str = "projects") -> str:
    return f"/api/{prefix}/{project.team.pk}/persons/{suffix}"


@pytest.fixture
def people(project: Any) -> dict[str, Person]:
    return {
        "alice": make_person(
            project.team, ["anon-1", "alice-id"], {"email": "alice@example.com", "plan": "pro", "age": 31}
        ),
        "bob": make_person(project.team, ["bob-id"], {"name": "Bob Stone", "plan": "free", "age": 25}, minutes=1),
        "carol": make_person(project.team, ["carol-id"], {"email": "carol@corp.io", "plan": "pro"}, minutes=2),
    }


def keys(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["distinct_ids"][0] for p in response.json()["results"]]


def test_list_newest_first_with_fields(project: Any, people: dict[str, Person]) -> None:
    response = project.client().get(url(project))
    assert keys(response) == ["carol-id", "bob-id", "anon-1"]
    alice = response.json()["results"][2]
    assert alice == {
        "id": people["alice"].pk,
        "uuid": str(people["alice"].uuid),
        "name": "alice@example.com",
        "distinct_ids": ["anon-1", "alice-id"],
        "properties": {"email": "alice@example.com", "plan": "pro", "age": 31},
        "created_at": "2026-11-01T00:00:00Z",
        "is_identified": True,
    }
    assert response.json()["results"][1]["name"] == "Bob Stone"
    assert response.json()["count"] == 3


def test_environments_prefix_lists_the_same(project: Any, people: dict[str, Person]) -> None:
    assert keys(project.client().get(url(project, prefix="environments"))) == ["carol-id", "bob-id", "anon-1"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("alice@example.com", ["anon-1"]),
        ("EXAMPLE", ["anon-1"]),
        ("stone", ["bob-id"]),
        ("carol-id", ["carol-id"]),
        ("anon", ["anon-1"]),
        ("nobody", []),
    ],
)
def test_search_over_email_name_and_distinct_ids(
    project: Any, people: dict[str, Person], search: str, expected: list[str]
) -> None:
    assert keys(project.client().get(url(project), {"search": search})) == expected


def test_filter_by_distinct_id(project: Any, people: dict[str, Person]) -> None:
    assert keys(project.client().get(url(project), {"distinct_id": "alice-id"})) == ["anon-1"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([{"key": "plan", "value": "pro"}], ["carol-id", "anon-1"]),
        ([{"key": "plan", "value": ["free"], "operator": "exact"}], ["bob-id"]),
        ([{"key": "plan", "value": "pro", "operator": "is_not"}], ["bob-id"]),
        ([{"key": "email", "value": "corp", "operator": "icontains"}], ["carol-id"]),
        ([{"key": "email", "operator": "is_set"}], ["carol-id", "anon-1"]),
        ([{"key": "email", "operator": "is_not_set"}], ["bob-id"]),
        ([{"key": "age", "value": "30", "operator": "gt"}], ["anon-1"]),
        ([{"key": "plan", "value": "pro"}, {"key": "age", "value": "40", "operator": "lt"}], ["anon-1"]),
        ({"type": "AND", "values": [{"key": "plan", "value": "free", "type": "person"}]}, ["bob-id"]),
    ],
)
def test_filter_by_properties(project: Any, people: dict[str, Person], filters: Any, expected: list[str]) -> None:
    assert keys(project.client().get(url(project), {"properties": json.dumps(filters)})) == expected


def test_bad_properties_filter_is_a_400(project: Any) -> None:
    response = project.client().get(url(project), {"properties": "not json"})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["attr"] == "properties"


def test_limit_and_offset(project: Any, people: dict[str, Person]) -> None:
    response = project.client().get(url(project), {"limit": 1, "offset": 1})
    assert keys(response) == ["bob-id"]
    assert response.json()["next"] is not None


def test_retrieve_by_id_and_uuid(project: Any, people: dict[str, Person]) -> None:
    bob = people["bob"]
    for ident in (bob.pk, bob.uuid):
        response = project.client().get(url(project, f"{ident}/"))
        assert response.status_code == 200
        assert response.json()["uuid"] == str(bob.uuid)


def test_other_projects_person_is_not_found(project: Any, other_project: Any) -> None:
    theirs = make_person(other_project.team, ["x"], {})
    for ident in (theirs.pk, theirs.uuid):
        assert project.client().get(url(project, f"{ident}")).status_code == 404
        assert project.client().delete(url(project, f"{ident}")).status_code == 404
    assert project.client().get(url(project), {"distinct_id": "x"}).json()["results"] == []
    assert Person.objects.filter(pk=theirs.pk).exists()


def test_values_of_a_property(project: Any, people: dict[str, Person]) -> None:
    response = project.client().get(url(project, "values/"), {"key": "plan"})
    assert response.status_code == 200
    assert response.json() == [{"name": "pro", "count": 2}, {"name": "free", "count": 1}]
    filtered = project.client().get(url(project, "values"), {"key": "plan", "value": "fr"})
    assert filtered.json() == [{"name": "free", "count": 1}]


def test_values_requires_key(project: Any) -> None:
    response = project.client().get(url(project, "values"))
    assert response.status_code == 400
    assert response.json()["attr"] == "key"


@pytest.mark.clickhouse
def test_delete_removes_person_and_distinct_ids_and_tombstones_clickhouse(
    project: Any, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    response = project.client().delete(url(project, f"{alice.uuid}"))
    assert response.status_code == 204
    assert not Person.objects.filter(pk=alice.pk).exists()
    assert not PersonDistinctId.objects.filter(distinct_id__in=["anon-1", "alice-id"]).exists()
    client = get_client()
    person_rows = client.query(
        f"SELECT is_deleted, version FROM {table('person')} WHERE team_id = {{team:Int64}} AND id = {{id:UUID}}",
        {"team": project.team.pk, "id": str(alice.uuid)},
    ).rows
    assert [tuple(r) for r in person_rows] == [(1, 3)]
    pdi_rows = client.query(
        f"SELECT distinct_id, is_deleted, version FROM {table('person_distinct_id2')} "
        "WHERE team_id = {team:Int64} ORDER BY distinct_id",
        {"team": project.team.pk},
    ).rows
    assert [tuple(r) for r in pdi_rows] == [("alice-id", 1, 2), ("anon-1", 1, 2)]
    assert keys(project.client().get(url(project), {"search": "alice"})) == []


def test_auth_matrix(project: Any, other_project: Any, people: dict[str, Person]) -> None:
    bob = people["bob"]
    assert_auth_matrix(project, other_project, "GET", url(project), scope="person:read")
    assert_auth_matrix(project, other_project, "GET", url(project, f"{bob.pk}"), scope="person:read")
    assert_auth_matrix(project, other_project, "GET", url(project, "values?key=plan"), scope="person:read")
    assert_auth_matrix(project, other_project, "DELETE", url(project, f"{bob.pk}"), scope="person:write")
    assert Person.objects.filter(pk=bob.pk).exists()


def test_read_key_can_list(project: Any, key_with_scopes: Any, people: dict[str, Person]) -> None:
    assert key_with_scopes("person:read").get(url(project)).status_code == 200


@pytest.mark.parametrize(
    "filters",
    [
        [{"key": "age", "value": "abc", "operator": "gt"}],
        [{"key": "email", "value": "([", "operator": "regex"}],
        [{"key": "email", "operator": "sounds_like"}],
    ],
)
def test_unusable_property_filters_are_a_400(project: Any, filters: Any) -> None:
    response = project.client().get(url(project), {"properties": json.dumps(filters)})
    assert response.status_code == 400
    assert response.json()["attr"] == "properties"


def test_numeric_filter_skips_non_numeric_values(project: Any, people: dict[str, Person]) -> None:
    make_person(project.team, ["dave-id"], {"age": "unknown"}, minutes=3)
    filters = [{"key": "age", "value": "20", "operator": "gte"}]
    assert keys(project.client().get(url(project), {"properties": json.dumps(filters)})) == ["bob-id", "anon-1"]
