"""Acceptance 3 (events): the list's filters and ordering, table-driven over one catalogue, plus its
pagination envelope and the `event_type` error body."""

from __future__ import annotations

import json
from typing import Any

import pytest

from definitions.services.tags import tags_set
from tests.definitions.conftest import at, make_event, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(project: Any) -> None:
    make_event(project, "$pageview", last_seen_at=at(20, 9))
    make_event(project, "$autocapture", last_seen_at=at(18), created_at=at(1))
    make_event(project, "signed_up", last_seen_at=at(20, 8), created_at=at(3), verified=True)
    make_event(project, "sign", last_seen_at=at(19), created_at=at(2))
    make_event(project, "user signed in", last_seen_at=None, hidden=True)
    paid = make_event(project, "paid_order", last_seen_at=at(19, 1), created_at=at(4))
    tags_set(team=project.team, item=paid, names=["billing"])


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    # default: last_seen_at::date DESC nulls last, then name ASC
    ("default", {}, ["$pageview", "signed_up", "paid_order", "sign", "$autocapture", "user signed in"]),
    ("search: shortest names first", {"search": "sign"}, ["sign", "signed_up", "user signed in"]),
    ("search: every term", {"search": "SIGN in"}, ["user signed in"]),
    ("search with explicit ordering", {"search": "sign", "ordering": "-name"}, ["user signed in", "signed_up", "sign"]),
    ("event_type=event_custom", {"event_type": "event_custom"}, ["signed_up", "paid_order", "sign", "user signed in"]),
    ("event_type=event_posthog", {"event_type": "event_posthog"}, ["$pageview", "$autocapture"]),
    ("event_type=all is event", {"event_type": "all", "ordering": "name"}, [
        "$autocapture", "$pageview", "paid_order", "sign", "signed_up", "user signed in"]),
    ("ordering=name", {"ordering": "name"}, [
        "$autocapture", "$pageview", "paid_order", "sign", "signed_up", "user signed in"]),
    ("ordering=-last_seen_at: exact time, nulls last", {"ordering": "-last_seen_at"}, [
        "$pageview", "signed_up", "sign", "paid_order", "$autocapture", "user signed in"]),
    ("ordering=last_seen_at: nulls first", {"ordering": "last_seen_at"}, [
        "user signed in", "$autocapture", "paid_order", "sign", "signed_up", "$pageview"]),
    ("ordering=created_at::date,-name comma-joined", {"ordering": "created_at::date,-name"}, [
        "user signed in", "$pageview", "$autocapture", "sign", "signed_up", "paid_order"]),
    ("unknown ordering keys are dropped", {"ordering": "bogus", "search": "sign"}, [
        "sign", "signed_up", "user signed in"]),
    ("excluded_properties (event names)", {"excluded_properties": json.dumps(["$pageview", "sign"])}, [
        "signed_up", "paid_order", "$autocapture", "user signed in"]),
    ("exclude_hidden", {"exclude_hidden": "true", "ordering": "name"}, [
        "$autocapture", "$pageview", "paid_order", "sign", "signed_up"]),
    ("verified=true adds core events", {"verified": "true", "ordering": "name"}, [
        "$autocapture", "$pageview", "signed_up"]),
    ("verified=false is the complement", {"verified": "false", "ordering": "name"}, [
        "paid_order", "sign", "user signed in"]),
    ("names repeated or comma-joined", {"names": ["sign,paid_order", "$pageview"], "ordering": "name"}, [
        "$pageview", "paid_order", "sign"]),
    ("tags", {"tags": json.dumps(["billing", "nothing"])}, ["paid_order"]),
    ("non-list tags are ignored", {"tags": json.dumps({"a": 1}), "event_type": "event_posthog"}, [
        "$pageview", "$autocapture"]),
]  # fmt: skip


@pytest.mark.parametrize(("params", "expected"), [(p, e) for _, p, e in CASES], ids=[c[0] for c in CASES])
def test_list_filters_and_orders(project, catalogue, params, expected):
    response = project.client().get(url(project, "event_definitions"), params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert [row["name"] for row in body["results"]] == expected
    assert body["count"] == len(expected)


def test_list_pages_with_limit_and_offset(project, catalogue):
    client = project.client()
    first = client.get(url(project, "event_definitions"), {"limit": 2, "ordering": "name"}).json()
    assert first["count"] == 6
    assert [r["name"] for r in first["results"]] == ["$autocapture", "$pageview"]
    assert first["previous"] is None and "offset=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [r["name"] for r in second["results"]] == ["paid_order", "sign"]


@pytest.mark.parametrize(
    ("params", "attr", "detail"),
    [
        (
            {"event_type": "actions"},
            "event_type",
            "Not a valid event type. Use one of: event, event_custom, event_posthog.",
        ),
        ({"limit": 0}, "limit", "Ensure this value is greater than or equal to 1."),
        (
            {"excluded_properties": "not json"},
            "excluded_properties",
            "`excluded_properties` must be a JSON-encoded list.",
        ),
    ],
)
def test_bad_list_parameters_are_400(project, params, attr, detail):
    response = project.client().get(url(project, "event_definitions"), params)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert (response.json()["attr"], response.json()["detail"]) == (attr, detail)
