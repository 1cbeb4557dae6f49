"""Review: the list endpoints cost a fixed number of queries however many rows a page holds (no N+1 over
tags, users, properties or attached events)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from definitions.services.tags import tags_set
from tests.definitions.conftest import attach, make_event, make_group, make_property, url

pytestmark = pytest.mark.django_db


def fill(project: Any, n: int) -> None:
    start = len(list(project.team.event_definitions.all()))
    for i in range(start, start + n):
        event = make_event(project, f"event_{i}", owner=project.user, verified_by=project.user)
        tags_set(team=project.team, item=event, names=[f"t{i}", "common"])
        prop = make_property(project, f"prop_{i}", updated_by=project.user)
        tags_set(team=project.team, item=prop, names=["common"])
        group = make_group(project, f"group_{i}", [("a", "String", True), ("b", "Numeric", False)])
        attach(event, group)


def queries(project: Any, resource: str, params: dict[str, str] | None = None) -> int:
    client = project.client()
    client.get(url(project, resource), params or {})  # warm-up: the key's first-use bookkeeping
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url(project, resource), params or {})
    assert response.status_code == 200, response.content
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("event_definitions", {}),
        ("event_definitions", {"search": "event", "tags": '["common"]'}),
        ("property_definitions", {}),
        ("property_definitions", {"event_names": '["event_1"]'}),
        ("schema_property_groups", {}),
        ("event_schemas", {}),
        ("activity_log", {}),
    ],
)
def test_list_query_count_does_not_grow_with_rows(project, resource, params):
    fill(project, 2)
    few = queries(project, resource, params)
    fill(project, 25)
    many = queries(project, resource, params)
    assert many == few, f"{resource}: {few} queries for 2 rows, {many} for 27"
    assert few <= 12, f"{resource}: {few} queries"


def test_codegen_query_count_does_not_grow_with_events(project):
    fill(project, 2)
    few = queries(project, "event_definitions/typescript")
    fill(project, 25)
    assert queries(project, "event_definitions/typescript") == few
