"""Pure envelope → row processing (capture reference §12–§13), no database."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
import pytest

from ingestion.processing import element_to_text, normalize, to_row
from persons.ingestion import ResolvedPerson
from tests.ingestion.conftest import envelope

TEAM = SimpleNamespace(pk=7, api_token="phc_x")
INGESTED = datetime(2026, 11, 24, 12, 0, 0, 654321, tzinfo=UTC)
PERSON = ResolvedPerson("0190a6b1-0000-7000-8000-000000000001", {"plan": "pro"}, datetime(2026, 1, 1, tzinfo=UTC))


def _row(**kwargs):
    props = kwargs.pop("properties", {})
    env = envelope(TEAM, kwargs.pop("event", "e"), kwargs.pop("distinct_id", "d1"), props, **kwargs)
    ev = normalize(env)
    return ev, to_row(ev, PERSON, ingested_at=INGESTED)


def _props(row):
    return orjson.loads(row["properties"])


@pytest.mark.parametrize(
    ("kwargs", "expected_props"),
    [
        ({"properties": {"a": 1}}, {"a": 1, "$ip": "10.0.0.1"}),
        ({"properties": {"$ip": "1.2.3.4"}}, {"$ip": "1.2.3.4"}),  # client $ip kept
        ({"properties": {}, "ip": None}, {}),
        ({"properties": {}, "ip": None, "sent_at": "2026-11-24T10:00:00Z"}, {"$sent_at": "2026-11-24T10:00:00Z"}),
        ({"properties": {"$set": {"a": 1, "b": 1}}, "ip": None, "$set": {"b": 2}}, {"$set": {"a": 1, "b": 2}}),
        ({"properties": {}, "ip": None, "$set_once": {"c": 3}}, {"$set_once": {"c": 3}}),
        ({"properties": {"$elements_chain": 'a:href="/x"'}, "ip": None}, {}),
    ],
)
def test_properties_are_normalised(kwargs, expected_props):
    _, row = _row(**kwargs)
    assert _props(row) == expected_props


def test_envelope_fields_win_over_the_clients():
    env = envelope(TEAM, "e", "from-envelope", {})
    data = orjson.loads(env.data)
    data["distinct_id"], data["uuid"] = "from-client", "00000000-0000-0000-0000-000000000000"
    env = env.__class__(**{**env.to_dict(), "data": orjson.dumps(data).decode()})
    ev = normalize(env)
    assert (ev.distinct_id, ev.uuid) == ("from-envelope", env.uuid)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("2026-11-24T10:00:00.123456Z", "2026-11-24 10:00:00.123456"),
        ("2026-11-24T10:00:00.123Z", "2026-11-24 10:00:00.123000"),  # capture's form: sliced, not formatted
        ("2026-W48-2T10:00:00.123Z", "2026-11-24 10:00:00.123000"),  # ISO week date: formatted
        ("2026-11-24T12:00:00+02:00", "2026-11-24 10:00:00.000000"),
        ("2026-11-24T10:00:00", "2026-11-24 10:00:00.000000"),
        ("2026-02-30T10:00:00.123Z", "2026-11-24 10:00:01.000000"),  # no such day: the receive time
    ],
)
def test_timestamps_are_written_in_clickhouse_text_form(timestamp, expected):
    _, row = _row(timestamp=timestamp)
    assert row["timestamp"] == expected
    assert row["created_at"] == "2026-11-24 12:00:00.654321"
    assert row["_timestamp"] == "2026-11-24 12:00:00"


@pytest.mark.parametrize(
    ("flag", "mode", "person_properties"),
    [(False, "propertyless", ""), (True, "full", '{"plan":"pro"}'), ("false", "full", '{"plan":"pro"}')],
)
def test_process_person_profile_false_is_personless(flag, mode, person_properties):
    ev, row = _row(properties={"$process_person_profile": flag})
    assert ev.personless is (flag is False)
    assert (row["person_mode"], row["person_properties"]) == (mode, person_properties)
    assert row["person_id"] == PERSON.person_id


def test_a_persons_texts_follow_its_properties_across_batches():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    before = ResolvedPerson("0190a6b1-0000-7000-8000-0000000000aa", {"plan": "free"}, created)
    after = ResolvedPerson(before.person_id, {"plan": "pro"}, created)  # a later batch: properties replaced
    ev = normalize(envelope(TEAM, "e", "d1"))
    for person, expected in ((before, '{"plan":"free"}'), (after, '{"plan":"pro"}'), (before, '{"plan":"free"}')):
        row = to_row(ev, person, ingested_at=datetime.now(UTC))
        assert (row["person_properties"], row["person_created_at"]) == (expected, "2026-01-01 00:00:00.000")


def test_unset_keys_are_read():
    ev, _ = _row(properties={"$unset": ["a", "b"]})
    assert ev.unset_keys == ["a", "b"]


@pytest.mark.parametrize(
    ("element", "text"),
    [
        (
            {"tag_name": "a", "attr__href": "/x", "$el_text": "Go", "nth_child": 1, "nth_of_type": 2},
            'a:attr__href="/x"nth-child="1"nth-of-type="2"text="Go"',
        ),  # fmt: skip
        (
            {"tag_name": "button", "attr_class": ["b", "a"], "attr_id": "go"},
            'button.a.b:attr_class="b a"attr_id="go"',
        ),  # fmt: skip
        ({"tag_name": "div"}, "div"),
        ({"tag_name": "span", "$el_text": 'say "hi"'}, 'span:text="say \\"hi\\""'),
    ],
)
def test_elements_become_the_elements_chain_text(element, text):
    assert element_to_text(element) == text


def test_elements_are_removed_from_properties_and_joined():
    _, row = _row(properties={"$elements": [{"tag_name": "a"}, {"tag_name": "div"}]}, ip=None)
    assert row["elements_chain"] == "a;div"
    assert _props(row) == {}
