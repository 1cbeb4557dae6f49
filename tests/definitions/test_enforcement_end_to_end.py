"""Acceptance 5: with `enforcement_mode=reject` on one event (set up through the API), its invalid events
posted over HTTP are absent from ClickHouse after flush and listed as `schema_validation_failed` ingestion
warnings naming the event, property and reason; its valid events and every other event are stored. A schema
change through the API takes effect on the next batch (the cached rules are invalidated)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client

from definitions.ingestion import cache_clear
from ingestion.models import IngestionWarning
from ingestion.worker import flush
from tests.definitions.conftest import url
from tests.ingestion.helpers import events_rows

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_definition_caches() -> None:
    cache_clear()


def post_batch(project: Any, events: list[tuple[str, str, dict[str, Any]]]) -> None:
    batch = [
        {"event": name, "uuid": uuid, "properties": {"distinct_id": "u1", **props}} for uuid, name, props in events
    ]
    response = Client().post(
        "/batch/", orjson.dumps({"api_key": project.team.api_token, "batch": batch}), content_type="application/json"
    )
    assert response.status_code == 200, response.content


def enforce(project: Any, event: str, properties: list[dict[str, Any]]) -> None:
    client = project.client()
    created = client.post(url(project, "event_definitions"), {"name": event}, format="json").json()
    group = client.post(
        url(project, "schema_property_groups"), {"name": f"{event} props", "properties": properties}, format="json"
    ).json()
    schema = client.post(
        url(project, "event_schemas"),
        {"event_definition": created["id"], "property_group_id": group["id"]},
        format="json",
    )
    assert schema.status_code == 201, schema.content
    patched = client.patch(
        url(project, "event_definitions", f"{created['id']}/"), {"enforcement_mode": "reject"}, format="json"
    )
    assert patched.json()["enforcement_mode"] == "reject"


def uuid(n: int) -> str:
    return f"0190a1b2-c3d4-7e5f-8a9b-{n:012d}"


def test_reject_drops_invalid_events_and_keeps_the_rest(project, other_project):
    enforce(project, "purchase", [
        {"name": "amount", "property_type": "Numeric", "is_required": True},
        {"name": "currency", "property_type": "String", "is_required": True,
         "validation_rules": {"enum": ["EUR", "USD"]}},
        {"name": "coupon", "property_type": "Numeric", "is_required": False},
    ])  # fmt: skip
    post_batch(project, [
        (uuid(1), "purchase", {"amount": 10, "currency": "EUR"}),
        (uuid(2), "purchase", {"amount": "12.5", "currency": "USD", "coupon": "not checked"}),
        (uuid(3), "purchase", {"currency": "EUR"}),
        (uuid(4), "purchase", {"amount": None, "currency": "EUR"}),
        (uuid(5), "purchase", {"amount": "ten", "currency": "EUR"}),
        (uuid(6), "purchase", {"amount": 1, "currency": "GBP"}),
        (uuid(7), "$pageview", {}),
        (uuid(8), "refund", {"amount": "whatever"}),
    ])  # fmt: skip
    post_batch(other_project, [(uuid(9), "purchase", {})])
    flush()

    stored = {row["uuid"] for row in events_rows(project.team.pk)}
    assert stored == {uuid(1), uuid(2), uuid(7), uuid(8)}
    assert {row["uuid"] for row in events_rows(other_project.team.pk)} == {uuid(9)}, "other projects untouched"

    warnings = IngestionWarning.objects.filter(team=project.team, type="schema_validation_failed")
    reasons = {w.details["eventUuid"]: [(e["property"], e["reason"]) for e in w.details["errors"]] for w in warnings}
    assert reasons == {
        uuid(3): [("amount", "missing_required")],
        uuid(4): [("amount", "missing_required")],
        uuid(5): [("amount", "type_mismatch")],
        uuid(6): [("currency", "value_validation_failed")],
    }
    assert {w.details["eventName"] for w in warnings} == {"purchase"}
    assert {w.details["distinctId"] for w in warnings} == {"u1"}
    assert not IngestionWarning.objects.filter(team=other_project.team).exists()


def test_a_schema_change_applies_to_the_next_batch(project):
    enforce(project, "signup", [{"name": "plan", "property_type": "String", "is_required": True}])
    post_batch(project, [(uuid(1), "signup", {})])
    flush()
    assert events_rows(project.team.pk) == []

    client = project.client()
    definition = client.get(url(project, "event_definitions", "by_name/"), {"name": "signup"}).json()
    client.patch(
        url(project, "event_definitions", f"{definition['id']}/"), {"enforcement_mode": "allow"}, format="json"
    )
    post_batch(project, [(uuid(2), "signup", {})])
    flush()
    assert [row["uuid"] for row in events_rows(project.team.pk)] == [uuid(2)]

    client.patch(
        url(project, "event_definitions", f"{definition['id']}/"), {"enforcement_mode": "reject"}, format="json"
    )
    [schema] = client.get(url(project, "event_schemas")).json()["results"]
    client.delete(url(project, "event_schemas", f"{schema['id']}/"))
    post_batch(project, [(uuid(3), "signup", {})])
    flush()
    assert {row["uuid"] for row in events_rows(project.team.pk)} == {uuid(2), uuid(3)}, "no schema left: stored"
