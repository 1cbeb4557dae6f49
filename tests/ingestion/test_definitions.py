"""Acceptance 3: after ingesting a mixed batch, event and property definitions exist with the types of
§12/§3.5 (table-driven), event↔property pairs are recorded, and known names cost no database writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from definitions.ingestion import SeenEvent, cache_clear, definitions_ingest
from definitions.models import EventDefinition, EventProperty, PropertyDefinition
from ingestion.queue import enqueue
from ingestion.worker import flush
from tests.ingestion.conftest import envelope

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]

RECENT = int(datetime.now(UTC).timestamp()) - 60
EVENT_PROPS = [  # (key, value, detected type)
    ("utm_campaign", 7, "String"),
    ("$feature/new-ui", True, "String"),
    ("$feature_flag_response", "on", "String"),
    ("purchased_at", "2024-01-02T03:04:05Z", "DateTime"),
    ("login_timestamp", RECENT, "DateTime"),
    ("count", 3, "Numeric"),
    ("price", 9.5, "Numeric"),
    ("is_paid", "TRUE", "Boolean"),
    ("opted_in", False, "Boolean"),
    ("zip", "01234", "String"),
    ("release", "2024/01/02", "DateTime"),
    ("nothing", None, None),
    ("nested", {"a": 1}, None),
]


def test_a_mixed_batch_creates_definitions_with_detected_types(team):
    props = {key: value for key, value, _ in EVENT_PROPS}
    enqueue([envelope(team, "purchase", "u1", props, ip=None, **{"$set": {"plan": "pro"}, "$set_once": {"age": 30}})])
    enqueue([envelope(team, "$pageview", "u2", {"count": "not a number now"}, ip=None)])
    flush()
    assert set(EventDefinition.objects.filter(team=team).values_list("name", flat=True)) == {"purchase", "$pageview"}
    event_types = dict(
        PropertyDefinition.objects.filter(team=team, type=PropertyDefinition.Type.EVENT).values_list(
            "name", "property_type"
        )
    )
    assert event_types == {key: expected for key, _, expected in EVENT_PROPS}  # first type seen sticks for `count`
    person_types = dict(
        PropertyDefinition.objects.filter(team=team, type=PropertyDefinition.Type.PERSON).values_list(
            "name", "property_type"
        )
    )
    assert person_types == {"plan": "String", "age": "Numeric"}
    assert PropertyDefinition.objects.get(team=team, name="count", type=1).is_numerical
    pairs = set(EventProperty.objects.filter(team=team).values_list("event", "property"))
    assert pairs == {("purchase", key) for key, _, _ in EVENT_PROPS} | {("$pageview", "count")}


def test_last_seen_at_is_floored_to_the_hour(team):
    enqueue([envelope(team, "e", "u")])
    flush()
    definition = EventDefinition.objects.get(team=team, name="e")
    assert (definition.last_seen_at.minute, definition.last_seen_at.second, definition.last_seen_at.microsecond) == (
        0,
        0,
        0,
    )


def test_known_names_cost_no_database_writes(team, django_assert_num_queries):
    seen = [SeenEvent(team.pk, "e", datetime.now(UTC), {"a": 1, "b": "x"}, {"p": True})]
    assert definitions_ingest(events=seen) > 0
    with django_assert_num_queries(0):
        assert definitions_ingest(events=seen * 100) == 0


def test_a_known_shape_skips_type_detection_and_a_new_shape_does_not(team, monkeypatch):
    import definitions.ingestion as ingestion_definitions

    seen = [SeenEvent(team.pk, "e", datetime.now(UTC), {"a": 1, "b": "x"}, {"p": True})]
    definitions_ingest(events=seen)
    detected: list[str] = []
    real = ingestion_definitions.detect_property_type
    monkeypatch.setattr(ingestion_definitions, "detect_property_type", lambda n, v: detected.append(n) or real(n, v))
    definitions_ingest(events=seen * 100)
    assert detected == []
    definitions_ingest(events=[SeenEvent(team.pk, "e", datetime.now(UTC), {"a": 1, "c": 2.5}, {"p": True})])
    assert sorted(detected) == ["a", "c", "p"]
    assert PropertyDefinition.objects.get(team=team, name="c").property_type == "Numeric"
    assert EventProperty.objects.filter(team=team, event="e", property="c").exists()


def test_a_later_type_fills_a_definition_that_had_none(team):
    definitions_ingest(events=[SeenEvent(team.pk, "e", datetime.now(UTC), {"v": None}, {})])
    assert PropertyDefinition.objects.get(team=team, name="v").property_type is None
    definitions_ingest(events=[SeenEvent(team.pk, "e", datetime.now(UTC), {"v": 5}, {})])
    assert PropertyDefinition.objects.get(team=team, name="v").property_type == "Numeric"


@pytest.mark.parametrize("key", ["$set", "$set_once", "$unset", "$groups", "$group_0", "$group_4"])
def test_skipped_keys_get_no_definition(team, key):
    definitions_ingest(events=[SeenEvent(team.pk, "e", datetime.now(UTC), {key: {"x": 1}}, {})])
    assert not PropertyDefinition.objects.filter(team=team, name=key).exists()


def test_plugin_metrics_event_is_skipped(team):
    definitions_ingest(events=[SeenEvent(team.pk, "$$plugin_metrics", datetime.now(UTC), {"a": 1}, {})])
    assert not EventDefinition.objects.filter(team=team).exists()


def test_a_restarted_process_does_not_duplicate_definitions(team):
    seen = [SeenEvent(team.pk, "e", datetime.now(UTC), {"a": 1}, {"p": "x"})]
    definitions_ingest(events=seen)
    cache_clear()  # what a restart does
    definitions_ingest(events=seen)
    assert PropertyDefinition.objects.filter(team=team).count() == 2
    assert EventDefinition.objects.filter(team=team).count() == 1
    assert EventProperty.objects.filter(team=team).count() == 1
