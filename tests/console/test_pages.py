"""The pages through the real path: events captured over HTTP and flushed appear on Activity (and its polled
fragment) newest first and filtered; flags toggle through the flags app and their evaluation shows;
personal API keys are created with scopes (shown once) and revoked."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.test import Client
from django.urls import reverse

from console.security import CONTENT_SECURITY_POLICY
from flags.models import FeatureFlag
from ingestion.worker import flush
from posthog_clone.accounts.keys import hash_key_value


def capture(project, events: list[tuple[str, str, dict]]) -> None:
    batch = [
        {"event": name, "timestamp": props.pop("timestamp", None), "properties": {"distinct_id": who, **props}}
        for name, who, props in events
    ]
    body = orjson.dumps({"api_key": project.team.api_token, "batch": batch})
    assert Client().post("/batch/", body, content_type="application/json").status_code == 200
    flush()


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_activity_lists_the_projects_events_newest_first_and_filters(
    project, other_project, signed_in, other_signed_in
) -> None:
    capture(project, [("signed up", "u1", {"plan": "free", "timestamp": "2026-01-01T00:00:00Z"}),
                      ("$pageview", "u2", {"$current_url": "https://shop/", "timestamp": "2026-01-02T00:00:00Z"}),
                      ("purchase", "u1", {"amount": 12, "timestamp": "2026-01-03T00:00:00Z"})])  # fmt: skip
    capture(other_project, [("theirs", "x", {})])
    url = reverse("console:activity", args=[project.team.pk])
    page = signed_in.get(url, {"within": "all"})
    assert page.status_code == 200 and page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    html = page.content.decode()
    assert "<script>" not in html and " on" not in html.replace(" one", "")  # no inline script or handler
    assert html.index("purchase") < html.index("$pageview") < html.index("signed up")
    assert "theirs" not in html
    assert "<details data-properties-url=" in html and "amount" not in html  # properties load when opened
    opened = [line.split('"')[1].replace("&amp;", "&") for line in html.split("data-properties-url=")[1:]]
    purchase = signed_in.get(opened[0])  # the newest: purchase, its own page without script
    assert purchase.status_code == 200
    assert "amount" in purchase.content.decode() and 'class="event-properties"' in purchase.content.decode()
    assert "https://shop/" in signed_in.get(opened[1]).content.decode()
    assert other_signed_in.get(opened[0]).status_code == 404
    assert signed_in.get(opened[0].split("?")[0] + "?t=nonsense").status_code == 404
    assert signed_in.get(opened[0].split("?")[0] + "?t=2020-01-01 00:00:00").status_code == 404

    fragment = signed_in.get(
        reverse("console:activity-events", args=[project.team.pk]), {"distinct_id": "u1", "within": "all"}
    )
    assert fragment.status_code == 200
    text = fragment.content.decode()
    assert "purchase" in text and "signed up" in text and "$pageview" not in text and "<html" not in text
    only = signed_in.get(url, {"event": "$pageview", "within": "all"}).content.decode()
    assert "$pageview" in only and "purchase" not in only.split('id="events"')[1]


@pytest.mark.clickhouse
@pytest.mark.django_db(transaction=True)
def test_activity_shows_the_last_24_hours_by_default(project, signed_in) -> None:
    """As PostHog's events table (EventsQuery's `after` defaults to -24h); the range widens on request."""
    now = dt.datetime.now(dt.UTC)
    capture(project, [("recent", "u1", {"timestamp": (now - dt.timedelta(hours=2)).isoformat()}),
                      ("yesterday", "u1", {"timestamp": (now - dt.timedelta(hours=30)).isoformat()}),
                      ("last month", "u1", {"timestamp": (now - dt.timedelta(days=20)).isoformat()})])  # fmt: skip
    url = reverse("console:activity", args=[project.team.pk])

    def shown(**params: str) -> list[str]:
        html = signed_in.get(url, params).content.decode().split('id="events"')[1]
        return [name for name in ("recent", "yesterday", "last month") if f">{name}<" in html]

    assert shown() == ["recent"]
    assert shown(within="1h") == []
    assert shown(within="7d") == ["recent", "yesterday"]
    assert shown(within="all") == ["recent", "yesterday", "last month"]
    assert shown(within="nonsense") == ["recent"]  # an unknown range is the default
    page = signed_in.get(url, {"within": "7d"}).content.decode()
    assert '<option value="7d" selected>' in page and "within=7d" in page  # the polled fragment keeps the range


@pytest.mark.django_db
def test_flags_toggle_and_evaluation(project, signed_in) -> None:
    flag = FeatureFlag.objects.create(
        team=project.team, key="new-checkout", filters={"groups": [{"rollout_percentage": 100}]}
    )
    url = reverse("console:flags", args=[project.team.pk])
    page = signed_in.get(url, {"distinct_id": "user-1"}).content.decode()
    assert "new-checkout" in page and "Disable new-checkout" in page
    assert '<td class="value">true</td>' in page
    toggled = signed_in.post(reverse("console:flag-toggle", args=[project.team.pk, flag.pk]), {"active": "false"})
    assert toggled.status_code == 302
    flag.refresh_from_db()
    assert flag.active is False and flag.version == 2
    page = signed_in.get(url, {"distinct_id": "user-1"}).content.decode()
    assert "Enable new-checkout" in page and '<td class="value">false</td>' in page
    answer = Client().post("/flags/?v=2", {"api_key": project.team.api_token, "distinct_id": "user-1"},
                           content_type="application/json").json()  # fmt: skip
    assert answer["flags"]["new-checkout"]["enabled"] is False


@pytest.mark.django_db
def test_settings_shows_token_and_snippet_and_manages_keys(project, signed_in) -> None:
    url = reverse("console:settings", args=[project.team.pk])
    page = signed_in.get(url).content.decode()
    assert project.team.api_token in page and "/static/array.js" in page and "http://testserver" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    created = signed_in.post(reverse("console:key-create", args=[project.team.pk]),
                             {"label": "ci", "scopes": ["feature_flag:read", "query:read"]})  # fmt: skip
    assert created.status_code == 200
    key = project.user.personal_api_keys.get(label="ci")
    assert key.scopes == ["feature_flag:read", "query:read"]
    value = created.content.decode().split('id="new-key">')[1].split("<")[0]
    assert key.secure_value == hash_key_value(value)
    assert value not in signed_in.get(url).content.decode()  # shown once
    bad = signed_in.post(reverse("console:key-create", args=[project.team.pk]), {"label": "x", "scopes": ["nope"]})
    assert bad.status_code == 400 and b"Invalid scope" in bad.content
    revoked = signed_in.post(reverse("console:key-revoke", args=[project.team.pk, key.pk]))
    assert revoked.status_code == 302
    assert not project.user.personal_api_keys.filter(pk=key.pk).exists()
