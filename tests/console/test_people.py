"""People and Cohorts pages through the real path: persons made by ingesting captured events (an $identify
merging two distinct ids, $set properties), searched like the persons API's `search`; a person's page with
their properties, distinct ids, recent events (bounded by a window) and cohorts; cohorts created through the
API (a static one and a calculated dynamic one) with their members, paginated."""

from __future__ import annotations

import datetime as dt
import re
import time

import orjson
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cohorts import worker
from cohorts.models import Cohort
from console import people_selectors
from ingestion.worker import flush
from persons.models import Person, PersonDistinctId

pytestmark = [pytest.mark.clickhouse, pytest.mark.django_db(transaction=True)]


def ago(**delta: float) -> str:
    return (timezone.now() - dt.timedelta(**delta)).isoformat()


def capture(project, events: list[tuple[str, str, dict]]) -> None:
    batch = [
        {"event": name, "timestamp": props.pop("timestamp", None), "properties": {"distinct_id": who, **props}}
        for name, who, props in events
    ]
    body = orjson.dumps({"api_key": project.team.api_token, "batch": batch})
    assert Client().post("/batch/", body, content_type="application/json").status_code == 200
    flush()


def person_of(team, distinct_id: str) -> Person:
    return PersonDistinctId.objects.get(team=team, distinct_id=distinct_id).person


@pytest.fixture
def people(project, other_project):
    cache.clear()
    capture(project, [
        ("$pageview", "anon-alice", {"$current_url": "https://shop/a", "timestamp": ago(hours=3)}),
        ("$identify", "alice-id", {"$anon_distinct_id": "anon-alice", "timestamp": ago(hours=2),
                                   "$set": {"email": "alice@shop.example", "name": "Alice Liddell", "plan": "pro"}}),
        ("purchase", "alice-id", {"amount": 42, "timestamp": ago(hours=1)}),
        ("old visit", "alice-id", {"timestamp": ago(days=60)}),
        ("$pageview", "bob-1", {"$set": {"email": "bob@mail.example", "name": "Bob Builder"},
                                "timestamp": ago(hours=5)}),
        ("$pageview", "carol-anon", {"timestamp": ago(hours=4)}),
    ])  # fmt: skip
    capture(other_project, [("$pageview", "alice-elsewhere", {"$set": {"email": "alice@shop.example"}})])
    return {who: person_of(project.team, who) for who in ("alice-id", "bob-1", "carol-anon")}


def listed(html: str) -> list[str]:
    body = html.split('id="people"')[1].split("</table>")[0]
    return re.findall(r'<tr data-uuid="([0-9a-f-]+)">', body)


def test_people_search_matches_email_name_and_distinct_id(project, signed_in, people) -> None:
    url = reverse("console:people", args=[project.team.pk])
    everyone = signed_in.get(url)
    assert everyone.status_code == 200
    html = everyone.content.decode()
    assert set(listed(html)) == {str(p.uuid) for p in people.values()}  # the other project's person is not here
    assert "alice@shop.example" in html and "Bob Builder" not in html  # named by email first
    for search, who in [("shop.example", "alice-id"), ("SHOP", "alice-id"), ("anon-alice", "alice-id"),
                        ("Bob Build", "bob-1"), ("bob-1", "bob-1"), ("carol", "carol-anon")]:  # fmt: skip
        found = listed(signed_in.get(url, {"search": search}).content.decode())
        assert found == [str(people[who].uuid)], search
    nothing = signed_in.get(url, {"search": "nobody-at-all"}).content.decode()
    assert listed(nothing) == [] and "No person matches." in nothing


def test_people_are_paginated_newest_first(project, signed_in, people, monkeypatch) -> None:
    monkeypatch.setattr(people_selectors, "PEOPLE_PAGE", 2)
    url = reverse("console:people", args=[project.team.pk])
    first = signed_in.get(url).content.decode()
    newest = list(
        Person.objects.filter(team=project.team).order_by("-created_at", "-id").values_list("uuid", flat=True)
    )
    assert listed(first) == [str(u) for u in newest[:2]]
    assert 'href="?offset=2">Next page' in first and "Previous page" not in first
    second = signed_in.get(url, {"offset": 2}).content.decode()
    assert listed(second) == [str(newest[2])]
    assert "Next page" not in second and 'href="?offset=0">Previous page' in second


def test_person_page_shows_properties_distinct_ids_and_recent_events(project, signed_in, people) -> None:
    alice = people["alice-id"]
    for ident in (str(alice.uuid), str(alice.pk)):
        page = signed_in.get(reverse("console:person", args=[project.team.pk, ident]))
        assert page.status_code == 200, ident
    html = page.content.decode()
    props = html.split('id="properties"')[1].split("</table>")[0]
    assert '<th scope="row">email</th><td>alice@shop.example</td>' in props
    assert '<th scope="row">plan</th><td>pro</td>' in props
    ids = html.split('id="distinct-ids"')[1].split("</ul>")[0]
    assert "<code>alice-id</code>" in ids and "<code>anon-alice</code>" in ids
    events = html.split('id="events"')[1]
    names = re.findall(r'<span class="event-name">([^<]+)</span>', events)
    assert names == ["purchase", "$identify", "$pageview"]  # newest first, both distinct ids, last 7 days only
    assert "amount" not in events  # properties open from each event's own page, as on Activity
    opened = [link.replace("&amp;", "&") for link in re.findall(r'data-properties-url="([^"]+)"', events)]
    assert "amount" in signed_in.get(opened[0]).content.decode()
    assert "https://shop/a" in signed_in.get(opened[2]).content.decode()
    older = signed_in.get(reverse("console:person", args=[project.team.pk, alice.uuid]), {"days": 90}).content
    assert re.findall(rb'<span class="event-name">([^<]+)</span>', older)[-1] == b"old visit"
    bob = signed_in.get(reverse("console:person", args=[project.team.pk, people["bob-1"].uuid])).content.decode()
    assert re.findall(r'<span class="event-name">([^<]+)</span>', bob) == ["$pageview"]
    assert "In no cohort." in bob


def test_unknown_or_other_projects_person_is_404(project, other_project, signed_in, people) -> None:
    theirs = person_of(other_project.team, "alice-elsewhere")
    for ident in (str(theirs.uuid), str(theirs.pk), "not-a-person", "00000000-0000-0000-0000-000000000000"):
        assert signed_in.get(reverse("console:person", args=[project.team.pk, ident])).status_code == 404, ident


def calculated(cohort_id: int, timeout: float = 30) -> None:
    """Calculate the cohort here; in scale mode the session's Celery worker, once some suite started it, consumes
    the `cohorts` queue too and may have taken it first: then wait for its run."""
    worker.run_pending()
    deadline = time.monotonic() + timeout
    while Cohort.objects.get(pk=cohort_id).is_calculating:
        assert time.monotonic() < deadline, "the cohort was not calculated"
        time.sleep(0.05)


def test_cohorts_list_and_members_link_to_person_pages(project, signed_in, people, monkeypatch) -> None:
    api = project.client()
    base = f"/api/projects/{project.team.pk}/cohorts/"
    static = api.post(base, {"name": "Picked by hand", "is_static": True,
                             "_create_static_person_ids": [str(people["bob-1"].uuid), str(people["carol-anon"].uuid)]},
                      format="json").json()  # fmt: skip
    rule = {"type": "person", "key": "email", "value": "example", "operator": "icontains"}
    dynamic = api.post(base, {"name": "Has an email", "filters": {"properties": {"type": "OR", "values": [
        {"type": "AND", "values": [rule]}]}}}, format="json").json()  # fmt: skip
    calculated(dynamic["id"])

    listing = signed_in.get(reverse("console:cohorts", args=[project.team.pk])).content.decode()
    row = listing.split(f'id="cohort-{dynamic["id"]}"')[1].split("</tr>")[0]
    assert "Has an email" in row and '<td class="count">2</td>' in row and "Dynamic" in row and "<time" in row
    row = listing.split(f'id="cohort-{static["id"]}"')[1].split("</tr>")[0]
    assert "Picked by hand" in row and '<td class="count">2</td>' in row and "Static" in row

    def members(cohort_id: int, **query) -> list[str]:
        page = signed_in.get(reverse("console:cohort", args=[project.team.pk, cohort_id]), query)
        assert page.status_code == 200
        return re.findall(r'<tr data-uuid="([0-9a-f-]+)"><td><a href="([^"]+)">', page.content.decode())

    got = members(dynamic["id"])
    assert {uuid for uuid, _ in got} == {str(people["alice-id"].uuid), str(people["bob-1"].uuid)}
    assert all(href == reverse("console:person", args=[project.team.pk, uuid]) for uuid, href in got)
    assert {uuid for uuid, _ in members(static["id"])} == {str(people["bob-1"].uuid), str(people["carol-anon"].uuid)}
    monkeypatch.setattr(people_selectors, "MEMBERS_PAGE", 1)
    first, second = members(static["id"]), members(static["id"], offset=1)
    assert len(first) == len(second) == 1 and first != second

    bob = signed_in.get(reverse("console:person", args=[project.team.pk, people["bob-1"].uuid])).content.decode()
    in_cohorts = bob.split('id="cohorts"')[1].split("</ul>")[0]
    assert "Has an email" in in_cohorts and "Picked by hand" in in_cohorts
    carol = signed_in.get(reverse("console:person", args=[project.team.pk, people["carol-anon"].uuid])).content
    assert b"Picked by hand" in carol and b"Has an email" not in carol

    assert signed_in.get(reverse("console:cohort", args=[project.team.pk, 999999])).status_code == 404


def test_another_organizations_session_sees_none_of_it(project, other_signed_in, people) -> None:
    alice = people["alice-id"]
    for url in (reverse("console:people", args=[project.team.pk]),
                reverse("console:person", args=[project.team.pk, alice.uuid]),
                reverse("console:cohorts", args=[project.team.pk])):  # fmt: skip
        response = other_signed_in.get(url)
        assert response.status_code == 404 and b"alice" not in response.content
    assert (
        Client().get(reverse("console:people", args=[project.team.pk]))["Location"].startswith(reverse("console:login"))
    )
