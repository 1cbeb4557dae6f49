"""Which events match which actions (reference §8.1 vectors), through HogQL `matchesAction` on events in
ClickHouse. Expected sets were worked out by hand from PostHog's matching rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.query.conftest import insert_events, run

CHAIN_A = (
    'button.btn.btn-primary:attr__class="btn btn-primary"attr__data-attr="signup-cta"attr_id="cta"nth-child="2"'
    'nth-of-type="1"text="Sign up";form.signup-form:attr__class="signup-form"nth-child="1"nth-of-type="1";'
    'div.container:attr__class="container"nth-child="1"nth-of-type="1";body:nth-child="2"nth-of-type="1"'
)
CHAIN_B = (
    'a.nav-link:attr__class="nav-link"attr__href="/pricing"href="/pricing"nth-child="3"nth-of-type="1"'
    'text="Pricing";li:nth-child="3"nth-of-type="3";ul.nav:attr__class="nav"nth-child="1"nth-of-type="1";'
    'nav:nth-child="1"nth-of-type="1"'
)
AUTO = "$autocapture"
SIGNUP_URL = "https://app.example.com/signup?ref=x"


def browser(name: str) -> list[dict[str, str]]:
    return [{"key": "$browser", "value": name, "type": "event"}]


EVENTS = {
    "A": {"event": AUTO, "elements_chain": CHAIN_A, "properties": {"$current_url": SIGNUP_URL, "$browser": "Firefox"}},
    "B": {"event": AUTO, "elements_chain": CHAIN_B, "properties": {"$browser": "Firefox"}},
    "P": {"event": "$pageview", "properties": {"$current_url": SIGNUP_URL}},
}  # fmt: skip

# (steps, the events of EVENTS that match)
TABLE = [
    ([{"event": AUTO, "selector": "button.btn-primary"}], {"A"}),
    ([{"event": AUTO, "selector": "#cta"}], {"A"}),
    ([{"event": AUTO, "selector": "[data-attr='signup-cta']"}], {"A"}),
    ([{"event": AUTO, "selector": "button[data-attr='signup-cta']"}], {"A"}),
    ([{"event": AUTO, "selector": "form > button"}], {"A"}),
    ([{"event": AUTO, "selector": "body > div > form > button"}], {"A"}),
    ([{"event": AUTO, "selector": "div > button"}], set()),  # div is the grandparent
    ([{"event": AUTO, "selector": ".container"}], {"A"}),  # an ancestor: clicks inside it
    ([{"event": AUTO, "selector": "button.btn-secondary"}], set()),
    ([{"event": AUTO, "selector": "li a"}], {"B"}),
    ([{"event": AUTO, "selector": "ul > li > a"}], {"B"}),
    ([{"event": AUTO, "selector": "a:nth-child(3)"}], {"B"}),
    ([{"event": AUTO, "selector": "form > button > *"}], {"A"}),  # `> *` is dropped
    ([{"event": AUTO, "tag_name": "form"}], {"A"}),
    ([{"event": AUTO, "tag_name": "butto"}], set()),
    ([{"event": AUTO, "text": "Sign up"}], {"A"}),
    ([{"event": AUTO, "text": "sign up"}], set()),
    ([{"event": AUTO, "text": "SIGN", "text_matching": "contains"}], {"A"}),
    ([{"event": AUTO, "text": "^Sign", "text_matching": "regex"}], {"A"}),
    ([{"event": AUTO, "href": "/pricing"}], {"B"}),
    ([{"event": AUTO, "href": "pric", "href_matching": "contains"}], {"B"}),
    ([{"event": AUTO, "tag_name": "a", "text": "Pricing", "href": "/pricing"}], {"B"}),
    ([{"url": "/signup"}], {"A", "P"}),
    ([{"url": "https://app.example.com/signup", "url_matching": "exact"}], set()),  # the query string
    ([{"url": "^https://app\\.example\\.com/signup(\\?.*)?$", "url_matching": "regex"}], {"A", "P"}),
    ([{"event": "$pageview", "selector": "#nope"}], {"P"}),  # element keys only bind $autocapture steps
    ([{"event": None, "selector": "#nope"}], {"A", "B", "P"}),  # an empty step matches everything
    ([], {"A", "B", "P"}),  # no steps: every event
    ([{"event": AUTO, "selector": "#cta", "properties": browser("Chrome")}], set()),
    ([{"event": AUTO, "selector": "#cta", "properties": browser("Firefox")}], {"A"}),
    ([{"event": AUTO, "selector": "#cta"}, {"event": "$pageview"}], {"A", "P"}),  # steps are ORed
    ([{"event": "$Pageview"}], set()),  # event names are case-sensitive
]  # fmt: skip

URLS = [
    ("contains", "example.com", {"https://example.com/": True, "http://posthog.com/pricing": False}),
    ("", "example.com", {"https://example.com/": True, "http://posthog.com/pricing": False}),
    ("contains", "exampl_.com/%.html", {"https://example.com/index.html": True, "https://example.com/": False}),
    (
        "regex",
        "^https?:\\/\\/example\\.com\\/\\d+(\\/[a-r]*\\/?)?$",
        {
            "https://example.com/23/hello": True, "https://example.com/3/abc/": True,
            "https://example.com/3/xyz/": False, "https://example.com/": False,
            "https://example.com/uno/dos/": False, "https://example.com/1foo/": False,
        },
    ),
    ("exact", "https://www.mozilla.org/de/", {
        "https://www.mozilla.org/de/": True, "https://www.mozilla.org/de": False,
        "https://www.mozilla.org/de/firefox/": False,
    }),
]  # fmt: skip


def create_action(project: Any, steps: list[dict[str, Any]], name: str = "the action") -> int:
    response = project.client().post(
        f"/api/projects/{project.team.pk}/actions/", {"name": name, "steps": steps}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def load(team_id: int) -> None:
    at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    insert_events(
        team_id,
        [{**e, "uuid": None, "timestamp": at, "properties": {**e["properties"], "k": k}} for k, e in EVENTS.items()],
    )


def matched(project: Any, ref: int | str) -> set[str]:
    arg = ref if isinstance(ref, int) else f"'{ref}'"
    body = run(project, f"SELECT properties.k FROM events WHERE matchesAction({arg})").json()
    assert "results" in body, body
    return {row[0] for row in body["results"]}


@pytest.mark.clickhouse
def test_action_matching_table(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    load(other_project.team.pk)
    for i, (steps, expected) in enumerate(TABLE):
        action_id = create_action(project, steps, name=f"case {i}")
        assert matched(project, action_id) == expected, (i, steps)


@pytest.mark.clickhouse
def test_url_matching_vectors(project: Any) -> None:
    rows = []
    for i, (_, _, urls) in enumerate(URLS):
        for j, address in enumerate(urls):
            rows.append({"event": "$pageview", "properties": {"$current_url": address, "k": f"{i}:{j}"}})
    insert_events(project.team.pk, rows)
    for i, (matching, pattern, urls) in enumerate(URLS):
        action_id = create_action(project, [{"url": pattern, "url_matching": matching}], name=f"url {i}")
        expected = {f"{i}:{j}" for j, ok in enumerate(urls.values()) if ok}
        assert {k for k in matched(project, action_id) if k.startswith(f"{i}:")} == expected, pattern


@pytest.mark.clickhouse
def test_match_by_name_and_errors(project: Any, other_project: Any) -> None:
    load(project.team.pk)
    create_action(project, [{"event": "$pageview"}], name="Viewed")
    theirs = create_action(other_project, [{"event": "$pageview"}], name="Theirs")
    assert matched(project, "Viewed") == {"P"}
    cases = {
        "matchesAction(999999)": "Could not find cohort with ID 999999",  # PostHog's wording
        f"matchesAction({theirs})": f"Could not find cohort with ID {theirs}",  # another project's action
        "matchesAction('Theirs')": "Could not find an action with the name 'Theirs'",
        "matchesAction(event)": "action() takes only constant arguments",
        "matchesAction(1, 2)": "action() takes exactly one string or integer argument",
    }
    for call, detail in cases.items():
        response = run(project, f"SELECT count() FROM events WHERE {call}")
        assert response.status_code == 400, (call, response.content)
        assert response.json()["detail"] == detail
    create_action(project, [{"event": "x"}], name="Viewed2")
    project.client().patch(
        f"/api/projects/{project.team.pk}/actions/{create_action(project, [], name='Dup')}/",
        {"name": "Dup"},
        format="json",
    )
    from actions.models import Action

    Action.objects.create(team=project.team, name="Dup", steps_json=[])  # a legacy duplicate
    response = run(project, "SELECT count() FROM events WHERE matchesAction('Dup')")
    assert response.json()["detail"] == "Found multiple actions with name 'Dup'"


@pytest.mark.clickhouse
def test_editing_an_action_changes_what_matches(project: Any) -> None:
    load(project.team.pk)
    action_id = create_action(project, [{"event": "$pageview"}])
    assert matched(project, action_id) == {"P"}
    project.client().patch(
        f"/api/projects/{project.team.pk}/actions/{action_id}/", {"steps": [{"event": AUTO}]}, format="json"
    )
    assert matched(project, action_id) == {"A", "B"}  # not the cached answer of the old steps
