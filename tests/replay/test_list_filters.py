"""The recordings list's `events`, `actions`, `properties` and `operand` filters (replay reference §1.7):
sessions recorded through `/s/`, their events captured through `/batch/` (both through the ingestion pipeline),
and the kept session ids worked out by hand from the table below.

| session | distinct id (person)   | starts       | length | events with its `$session_id`                           |
|---------|------------------------|--------------|--------|---------------------------------------------------------|
| s-a     | user-a (plan pro)      | T            | 10 s   | $pageview Chrome /home (T+1 s), signup (T+5 s)          |
| s-b     | user-b (plan free)     | T+1 s        | 40 s   | $pageview Firefox /pricing (T+2 s), purchase (T+20 s)   |
| s-c     | user-a                 | T+2 s        | 100 s  | signup (T+3 s)                                          |
| s-d     | user-c (no person)     | T+3 s        | 5 s    | none (the other project has a $pageview with s-d)       |
| s-old   | user-b                 | T−30 h       | 60 s   | $pageview Chrome /home (30 h ago + 1 s)                 |

T is an hour ago. The other project also has a person with plan pro and distinct id user-c, and events with
session id s-c named purchase.
"""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.core.cache import cache
from django.test import Client

from ingestion.worker import flush
from persons.models import PersonDistinctId
from tests.replay.helpers import now_ms, post_snapshots, session_events, snapshot

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]

HOUR = 3_600_000


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


def _capture(project, events: list[tuple[str, str, int, dict]]) -> None:
    batch = [
        {"event": name, "timestamp": _iso(at), "properties": {"distinct_id": who, **props}}
        for name, who, at, props in events
    ]
    body = orjson.dumps({"api_key": project.team.api_token, "batch": batch})
    assert Client().post("/batch/", body, content_type="application/json").status_code == 200


@pytest.fixture
def dataset(project, other_project):
    cache.clear()
    token, t = project.team.api_token, now_ms() - HOUR
    old = t - 30 * HOUR
    post_snapshots([
        snapshot(token, "s-a", session_events(t, seconds=10), distinct_id="user-a"),
        snapshot(token, "s-b", session_events(t + 1000, seconds=40), distinct_id="user-b"),
        snapshot(token, "s-c", session_events(t + 2000, seconds=100), distinct_id="user-a"),
        snapshot(token, "s-d", session_events(t + 3000, seconds=5), distinct_id="user-c"),
        snapshot(token, "s-old", session_events(old, seconds=60), distinct_id="user-b"),
    ])  # fmt: skip
    home, pricing = "https://shop.example/home", "https://shop.example/pricing"
    _capture(project, [
        ("$identify", "user-a", t - 5000, {"$set": {"plan": "pro"}}),
        ("$identify", "user-b", t - 5000, {"$set": {"plan": "free"}}),
        ("$pageview", "user-a", t + 1000, {"$session_id": "s-a", "$browser": "Chrome", "$current_url": home}),
        ("signup", "user-a", t + 5000, {"$session_id": "s-a"}),
        ("$pageview", "user-b", t + 2000, {"$session_id": "s-b", "$browser": "Firefox", "$current_url": pricing}),
        ("purchase", "user-b", t + 20_000, {"$session_id": "s-b"}),
        ("signup", "user-a", t + 3000, {"$session_id": "s-c"}),
        ("$pageview", "user-b", old + 1000, {"$session_id": "s-old", "$browser": "Chrome", "$current_url": home}),
        ("$pageview", "user-c", t + 4000, {"$browser": "Chrome"}),  # no session: matches no recording
    ])  # fmt: skip
    _capture(other_project, [
        ("$identify", "user-c", t - 5000, {"$set": {"plan": "pro"}}),
        ("$pageview", "user-c", t + 4000, {"$session_id": "s-d", "$browser": "Chrome", "$current_url": pricing}),
        ("purchase", "user-c", t + 4000, {"$session_id": "s-c"}),
    ])  # fmt: skip
    flush()
    project.t, project.old = t, old
    return project


def _listed(project, **params) -> list[str]:
    query = {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in params.items()}
    response = project.client().get(f"/api/environments/{project.team.pk}/session_recordings/", query)
    assert response.status_code == 200, response.content
    return sorted(r["id"] for r in response.json()["results"])


def _event(name, *properties):
    return {"id": name, "type": "events", "name": name, "properties": list(properties)}


CHROME = {"key": "$browser", "value": "Chrome", "operator": "exact", "type": "event"}


def test_the_dataset_as_listed(dataset):
    assert _listed(dataset) == ["s-a", "s-b", "s-c", "s-d", "s-old"]
    assert PersonDistinctId.objects.get(team=dataset.team, distinct_id="user-a").person.properties["plan"] == "pro"


def test_one_event(dataset):
    assert _listed(dataset, events=[_event("$pageview")]) == ["s-a", "s-b", "s-old"]
    assert _listed(dataset, events=[_event("purchase")]) == ["s-b"]  # not s-c: that purchase is another project's
    assert _listed(dataset, events=[_event("nothing-like-it")]) == []


def test_an_event_with_a_property(dataset):
    assert _listed(dataset, events=[_event("$pageview", CHROME)]) == ["s-a", "s-old"]
    firefox_signup = _event("signup", {**CHROME, "value": "Firefox"})
    assert _listed(dataset, events=[firefox_signup]) == []


def test_two_events_and_or(dataset):
    both = [_event("$pageview"), _event("signup")]
    assert _listed(dataset, events=both) == ["s-a"]
    assert _listed(dataset, events=both, operand="AND") == ["s-a"]
    assert _listed(dataset, events=both, operand="OR") == ["s-a", "s-b", "s-c", "s-old"]
    assert _listed(dataset, events=[_event("$pageview", CHROME), _event("purchase")]) == []  # not in one session
    assert _listed(dataset, events=[{"id": None, "type": "events"}]) == ["s-a", "s-b", "s-c", "s-old"]  # any event


def test_actions(dataset):
    api, base = dataset.client(), f"/api/projects/{dataset.team.pk}/actions/"
    pricing = api.post(
        base, {"name": "Pricing viewed", "steps": [{"event": "$pageview", "url": "pricing"}]}, format="json"
    ).json()["id"]
    converted = api.post(
        base, {"name": "Converted", "steps": [{"event": "signup"}, {"event": "purchase"}]}, format="json"
    ).json()["id"]
    assert _listed(dataset, actions=[{"id": pricing, "type": "actions", "name": "Pricing viewed"}]) == ["s-b"]
    assert _listed(dataset, actions=[{"id": converted, "type": "actions"}]) == ["s-a", "s-b", "s-c"]
    # an action and an event: both must be in the session
    assert _listed(dataset, actions=[{"id": converted, "type": "actions"}], events=[_event("$pageview", CHROME)]) == [
        "s-a"
    ]


def test_event_properties_on_any_event_or_on_the_entities(dataset):
    assert _listed(dataset, properties=[CHROME]) == ["s-a", "s-old"]
    # with an entity the property holds on the entity's event: s-a's signup is not a Chrome event
    assert _listed(dataset, events=[_event("signup")], properties=[CHROME]) == []
    hogql = {"type": "hogql", "key": "properties.$current_url LIKE '%pricing'"}
    assert _listed(dataset, properties=[hogql]) == ["s-b"]


def test_person_properties(dataset):
    pro = {"key": "plan", "value": "pro", "operator": "exact", "type": "person"}
    assert _listed(dataset, properties=[pro]) == ["s-a", "s-c"]  # not s-d: user-c is pro in the other project only
    assert _listed(dataset, properties=[{**pro, "value": ["pro", "free"]}]) == ["s-a", "s-b", "s-c", "s-old"]
    assert _listed(dataset, properties=[pro], events=[_event("$pageview")]) == ["s-a"]
    assert _listed(dataset, properties=[pro], events=[_event("purchase")], operand="OR") == ["s-a", "s-b", "s-c"]


def test_cohort(dataset):
    api, base = dataset.client(), f"/api/projects/{dataset.team.pk}/cohorts/"
    cohort = api.post(base, {"name": "Imported", "is_static": True}, format="json").json()["id"]
    person = PersonDistinctId.objects.get(team=dataset.team, distinct_id="user-b").person
    members = {"person_ids": [str(person.uuid)]}
    added = api.patch(f"{base}{cohort}/add_persons_to_static_cohort/", members, format="json")
    assert added.status_code == 200, added.content
    assert _listed(dataset, properties=[{"type": "cohort", "key": "id", "value": cohort}]) == ["s-b", "s-old"]


def test_with_the_date_range_and_duration(dataset):
    pageview, t, old = [_event("$pageview")], dataset.t, dataset.old
    recent = _iso(t - 60_000)
    assert _listed(dataset, events=pageview, date_from=recent) == ["s-a", "s-b"]
    assert _listed(dataset, events=pageview, date_from=_iso(old - HOUR), date_to=_iso(old + HOUR)) == ["s-old"]
    # s-b starts before date_to but its $pageview comes after: only events in the range count
    assert _listed(dataset, events=pageview, date_from=recent, date_to=_iso(t + 1500)) == ["s-a"]
    longer = [{"type": "recording", "key": "duration", "operator": "gt", "value": 20}]
    assert _listed(dataset, events=pageview, having_predicates=longer) == ["s-b", "s-old"]
    assert _listed(dataset, events=pageview, having_predicates=longer, date_from=recent) == ["s-b"]
    assert _listed(dataset, events=pageview, order="duration", limit=1) == ["s-old"]
    assert _listed(dataset, events=pageview, session_ids=["s-a", "s-c"]) == ["s-a"]


@pytest.mark.parametrize(
    ("params", "attr", "detail"),
    [
        ({"events": '[{"id": "$pageview"'}, "events", "Must be a list of events filters."),
        ({"events": '{"id": "$pageview"}'}, "events", "Must be a list of events filters."),
        ({"events": '[{"id": 3, "type": "events"}]'}, "events", None),
        ({"events": '[{"id": "x", "type": "actions"}]'}, "events", None),
        ({"actions": '[{"id": "x", "type": "actions"}]'}, "actions", None),
        ({"actions": '[{"id": 999999, "type": "actions"}]'}, "actions", "Action 999999 does not exist."),
        ({"properties": '[{"type": "recording", "key": "duration", "value": 1}]'}, "properties", None),
        ({"properties": '[{"type": "event", "key": "$browser", "operator": "nope"}]'}, "properties", None),
        ({"properties": '[{"type": "cohort", "key": "id", "value": 999999}]'}, "properties", None),
        ({"operand": "XOR", "events": '[{"id": "$pageview"}]'}, "operand", "Must be AND or OR."),
    ],
)
def test_bad_filters(dataset, params, attr, detail):
    response = dataset.client().get(f"/api/projects/{dataset.team.pk}/session_recordings/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"], body["attr"]) == ("validation_error", "invalid_input", attr)
    if detail is not None:
        assert body["detail"] == detail
    if "recording" in params.get("properties", ""):
        assert "'recording'" in body["detail"]


def test_another_projects_action_is_a_400(dataset, other_project):
    theirs = other_project.client().post(
        f"/api/projects/{other_project.team.pk}/actions/", {"name": "Theirs", "steps": [{"event": "purchase"}]},
        format="json",
    ).json()["id"]  # fmt: skip
    response = dataset.client().get(
        f"/api/projects/{dataset.team.pk}/session_recordings/",
        {"actions": orjson.dumps([{"id": theirs, "type": "actions"}]).decode()},
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": f"Action {theirs} does not exist.",
        "attr": "actions",
    }
