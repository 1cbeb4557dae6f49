"""Every console URL (read from the URLconf, so new ones are covered) without a session, with another
organization's session, and without a CSRF token; the CSP header, cookie flags and sign-in throttling."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cohorts.models import Cohort
from console.recordings_views import PLAYER_CONTENT_SECURITY_POLICY
from console.security import CONTENT_SECURITY_POLICY
from console.services import LOGIN_FAILURES_ALLOWED
from dashboards.services import dashboard_create
from exports.models import ExportedAsset
from flags.models import FeatureFlag
from insights.services import insight_create
from persons.models import Person, PersonDistinctId
from tests.console.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {"login", "logout"}  # the sign-in form and sign-out: the only views without a session
WALK_SESSION = "walk-session"
PAGE_CSP = {"recording": PLAYER_CONTENT_SECURITY_POLICY}  # rrweb's replayer needs inline styles (recordings_views)


def console_patterns() -> list[URLPattern]:
    found = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "console":
            found += [p for p in entry.url_patterns if isinstance(p, URLPattern)]
    return found


def console_urls(project) -> list[tuple[str, str]]:
    """(name, path) of every console URL, its ids filled with objects of `project`."""
    flag = FeatureFlag.objects.create(team=project.team, key="walk-flag", filters={"groups": []})
    export = ExportedAsset.objects.create(team=project.team, created_by=project.user, export_format="text/csv",
                                          content=b"day,n\n", export_context={"filename": "walk"})  # fmt: skip
    person = Person.objects.create(
        team=project.team, properties={"email": "walk@example.com"}, created_at=timezone.now()
    )
    PersonDistinctId.objects.create(team=project.team, person=person, distinct_id="walk-person")
    cohort = Cohort.objects.create(team=project.team, name="walk cohort", is_static=True)
    ids = {"project_id": project.team.pk, "flag_id": flag.pk, "key_id": project.key.pk}
    ids |= {"event_uuid": uuid.uuid4()}
    ids |= {"export_id": export.pk}
    ids |= {"person_id": str(person.uuid), "cohort_id": cohort.pk}
    dashboard = dashboard_create(team=project.team, user=project.user, data={"name": "walk"})
    query = {"kind": "InsightVizNode", "source": {"kind": "TrendsQuery", "series": [{"kind": "EventsNode"}]}}
    insight = insight_create(team=project.team, user=project.user, data={"query": query, "dashboards": [dashboard.pk]})
    ids |= {"insight_key": insight.short_id, "dashboard_id": dashboard.pk}
    ids |= {"session_id": WALK_SESSION}
    urls = []
    for pattern in console_patterns():
        kwargs = {name: ids[name] for name in pattern.pattern.converters}
        urls.append((pattern.name, reverse(f"console:{pattern.name}", kwargs=kwargs)))
    return urls


@pytest.mark.django_db
def test_the_walk_covers_the_console() -> None:
    names = {p.name for p in console_patterns()}
    assert {"login", "logout", "home", "activity", "activity-events", "activity-event", "flags", "flag-toggle",
            "settings", "key-create", "key-revoke"} <= names  # fmt: skip
    assert {"sql", "sql-run", "sql-export", "sql-export-status", "sql-export-content"} <= names
    assert {"flag-edit", "people", "person", "cohorts", "cohort"} <= names
    assert {"insights", "insight", "dashboards", "dashboard"} <= names
    assert {"recordings", "recording", "recording-snapshots", "project-settings"} <= names


@pytest.mark.django_db
def test_no_url_answers_without_a_session(project) -> None:
    client = Client()
    for name, url in console_urls(project):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, (method, url)
            if name in PUBLIC:
                continue
            assert response.status_code in {302, 401, 405}, (method, url, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith(reverse("console:login")), (method, url)
            assert project.team.api_token.encode() not in response.content


@pytest.mark.django_db
def test_another_organizations_session_gets_404_everywhere(project, other_signed_in) -> None:
    for name, url in console_urls(project):
        if "project_id" not in url and name in PUBLIC | {"home"}:
            continue
        for method in ("get", "post"):
            response = getattr(other_signed_in, method)(url)
            assert response.status_code == 404, (method, url, response.status_code)
            assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert project.team.api_token.encode() not in response.content


@pytest.mark.django_db
def test_another_users_key_cannot_be_revoked_from_ones_own_project(project, other_project, signed_in) -> None:
    url = reverse("console:key-revoke", kwargs={"project_id": project.team.pk, "key_id": other_project.key.pk})
    assert signed_in.post(url).status_code == 404
    assert other_project.user.personal_api_keys.filter(pk=other_project.key.pk).exists()


@pytest.mark.django_db
def test_every_post_needs_the_csrf_token(project) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(project.user)
    for name, url in console_urls(project):
        response = client.post(url, {"active": "false", "label": "x", "email": "a@b.c", "password": "x"})
        assert response.status_code in {403, 405}, (name, url, response.status_code)
    assert FeatureFlag.objects.get(key="walk-flag").active is True
    assert project.user.personal_api_keys.filter(pk=project.key.pk).exists()
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post(reverse("console:login"), {"email": "a@b.c", "password": "x"}).status_code == 403


@pytest.mark.django_db
def test_sign_in_sets_a_locked_down_session_cookie(project) -> None:
    from console.services import user_set_password

    user_set_password(user=project.user, password=PASSWORD)
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("console:login"))
    token = page.cookies["csrftoken"].value
    form = {"email": project.user.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    response = client.post(reverse("console:login"), form)
    assert response.status_code == 302
    assert response["Location"] == reverse("console:home")
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie["secure"] == ""  # http:// SITE_URL; https turns Secure on (below)
    assert client.get(reverse("console:home"))["Location"] == reverse("console:activity", args=[project.team.pk])


@pytest.mark.parametrize(
    ("site_url", "secure"), [("https://ph.example.com", "True"), ("http://127.0.0.1:8000", "False")]
)  # noqa: E501
def test_cookies_are_secure_when_the_site_is_https(tmp_path, site_url: str, secure: str) -> None:
    env = {**os.environ, "SITE_URL": site_url, "VAR_DIR": str(tmp_path), "SECRET_KEY": "x" * 50,
           "DJANGO_SETTINGS_MODULE": "posthog_clone.settings"}  # fmt: skip
    env.pop("SECURE_COOKIES", None)
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == secure


@pytest.mark.django_db
def test_sign_in_is_throttled_per_email_and_ip(project) -> None:
    from console.services import user_set_password

    user_set_password(user=project.user, password=PASSWORD)
    client = Client()
    url = reverse("console:login")
    for _ in range(LOGIN_FAILURES_ALLOWED):
        response = client.post(url, {"email": project.user.email, "password": "wrong"})
        assert response.status_code == 400 and b"Wrong email or password" in response.content
    response = client.post(url, {"email": project.user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session
    other_ip = Client(REMOTE_ADDR="10.0.0.9")  # another address is not locked out
    assert other_ip.post(url, {"email": project.user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_sign_in_redirects_only_inside_the_console(project) -> None:
    from console.services import user_set_password

    user_set_password(user=project.user, password=PASSWORD)
    for target, expected in [("https://evil.example/", "/console/"), ("/admin/", "/console/"),
                             ("/console/project/1/flags/", "/console/project/1/flags/")]:  # fmt: skip
        response = Client().post(reverse("console:login"),
                                 {"email": project.user.email, "password": PASSWORD, "next": target})  # fmt: skip
        assert response["Location"] == expected


@pytest.mark.django_db
def test_sign_out_is_a_post(signed_in, project) -> None:
    assert signed_in.get(reverse("console:logout")).status_code == 405
    assert signed_in.post(reverse("console:logout")).status_code == 302
    assert signed_in.get(reverse("console:activity", args=[project.team.pk])).status_code == 302


@pytest.mark.clickhouse
@pytest.mark.django_db
def test_member_pages_have_csp_and_no_inline_script_or_handler(project, signed_in, settings, tmp_path) -> None:
    import re

    from ingestion.worker import flush
    from tests.replay.helpers import now_ms, post_snapshots, session_events, snapshot

    settings.REPLAY_STORAGE_URL = f"file://{tmp_path / 'replay'}"
    post_snapshots([snapshot(project.team.api_token, WALK_SESSION, session_events(now_ms() - 60_000, seconds=5))])
    flush()
    for name, url in console_urls(project):
        response = signed_in.get(url)
        assert response["Content-Security-Policy"] == PAGE_CSP.get(name, CONTENT_SECURITY_POLICY), url
        if response.status_code != 200:
            missing = {404} if name == "activity-event" else set()  # the walk's event id names no event
            assert response.status_code in {302, 405} | missing, (url, response.status_code)
            continue
        html = response.content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], url  # every script is a file of ours
        assert re.findall(r"\son[a-z]+\s*=", html) == [], url  # no inline event handler
        assert re.findall(r"\sstyle\s*=", html) == [], url  # no inline style (style-src 'self')
