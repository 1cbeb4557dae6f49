"""The console's pages: thin views over selectors and the owning apps' services (templates do the rest)."""

from __future__ import annotations

import functools
import re
import uuid
import zoneinfo
from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import selectors, services
from console.security import console_page, with_headers
from flags.models import FeatureFlag
from flags.selectors import flags_evaluate
from flags.services import feature_flag_update
from posthog_clone.accounts.models import RETENTION_PERIOD_CHOICES, Team
from posthog_clone.accounts.scopes import SCOPE_OBJECTS
from posthog_clone.accounts.serializers import TeamUpdateSerializer
from posthog_clone.accounts.services import personal_api_key_create, update_team_settings
from query.exceptions import ExposedHogQLError


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    ok = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return target if ok and target.startswith("/console/") else default


@with_headers
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    context = {"next": request.POST.get("next") or request.GET.get("next", ""), "email": "", "error": ""}
    if request.method == "GET":
        return render(request, "console/login.html", context)
    email, ip = request.POST.get("email", "").strip(), request.META.get("REMOTE_ADDR", "")
    context["email"] = email
    if services.login_throttled(email=email, ip=ip):
        context["error"] = "Too many failed sign-in attempts. Try again in 15 minutes."
        return render(request, "console/login.html", context, status=429)
    user = authenticate(request, email=email, password=request.POST.get("password", ""))
    if user is None:
        services.login_failed(email=email, ip=ip)
        context["error"] = "Wrong email or password."
        return render(request, "console/login.html", context, status=400)
    services.login_succeeded(email=email, ip=ip)
    login(request, user)
    return redirect(_next_url(request, reverse("console:home")))


@with_headers
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("console:login")


@console_page(project=False)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    teams = Team.objects.filter(organization__memberships__user_id=request.user.pk).order_by("id")
    current = next((t for t in teams if t.pk == request.user.current_team_id), None) or teams.first()
    if current is not None:
        return redirect("console:activity", project_id=current.pk)
    return render(request, "console/home.html", {"teams": teams})


RANGE_LABELS = {
    "1h": "Last hour", "24h": "Last 24 hours", "7d": "Last 7 days", "30d": "Last 30 days", "all": "All time",
}  # fmt: skip


def _activity_context(request: HttpRequest, team: Team) -> dict:
    event, distinct_id = request.GET.get("event", "").strip(), request.GET.get("distinct_id", "").strip()
    within = request.GET.get("within", "")
    within = within if within in selectors.ACTIVITY_RANGES else selectors.ACTIVITY_DEFAULT_RANGE
    error = ""
    try:
        events = selectors.recent_events(team=team, event=event, distinct_id=distinct_id, within=within)
    except ExposedHogQLError as failure:
        events, error = [], str(failure)
    context = {"team": team, "events": events, "event": event, "distinct_id": distinct_id, "error": error}
    return {**context, "within": within, "ranges": RANGE_LABELS}


@console_page()
@require_GET
def activity(request: HttpRequest, team: Team) -> HttpResponse:
    return render(request, "console/activity.html", {**_activity_context(request, team), "section": "activity"})


@console_page(fragment=True)
@require_GET
def activity_events(request: HttpRequest, team: Team) -> HttpResponse:
    return render(request, "console/_events.html", _activity_context(request, team))


EVENT_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?")


@console_page()
@require_GET
def activity_event(request: HttpRequest, team: Team, event_uuid: uuid.UUID) -> HttpResponse:
    """One event with its properties (Activity's rows open it in place; a page of its own without script)."""
    timestamp = request.GET.get("t", "")
    found = (
        selectors.event_get(team=team, uuid=str(event_uuid), timestamp=timestamp)
        if EVENT_TIME.fullmatch(timestamp)
        else None
    )
    if found is None:
        raise Http404("No such event.")
    return render(request, "console/event.html", {"team": team, "e": found, "section": "activity"})


@console_page()
@require_GET
def flags(request: HttpRequest, team: Team) -> HttpResponse:
    distinct_id = request.GET.get("distinct_id", "").strip()
    results = None
    if distinct_id:
        _, evaluated = flags_evaluate(team_id=team.pk, distinct_id=distinct_id, person_properties={}, groups={},
                                      group_properties={})  # fmt: skip
        results = sorted(evaluated.values(), key=lambda r: r.key)
    flag_list = FeatureFlag.objects.filter(team=team, deleted=False).order_by("key")
    context = {"team": team, "flags": flag_list, "distinct_id": distinct_id, "results": results, "section": "flags"}
    return render(request, "console/flags.html", context)


@console_page()
@require_POST
def flag_toggle(request: HttpRequest, team: Team, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(FeatureFlag, team=team, pk=flag_id, deleted=False)
    feature_flag_update(flag=flag, data={"active": request.POST.get("active") == "true"})
    return redirect("console:flags", project_id=team.pk)


CHECKBOXES = ("session_recording_opt_in", "capture_console_log_opt_in", "capture_performance_opt_in")
NUMBERS = ("session_recording_sample_rate", "session_recording_minimum_duration_milliseconds")


@functools.cache
def _timezones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def _settings_context(request: HttpRequest, team: Team, **extra: object) -> dict:
    return {
        "team": team,
        "section": "settings",
        "host": request.build_absolute_uri("/").rstrip("/"),
        "keys": selectors.personal_api_keys(user=request.user),
        "scope_objects": sorted(SCOPE_OBJECTS),
        "timezones": _timezones(),
        "retention_choices": [choice for choice, _ in RETENTION_PERIOD_CHOICES],
        "form_errors": {},
        "saved": request.GET.get("saved") == "1",
        **extra,
    }


@console_page()
@require_GET
def settings_page(request: HttpRequest, team: Team) -> HttpResponse:
    return render(request, "console/settings.html", _settings_context(request, team))


def _project_changes(post: Any) -> dict[str, Any]:
    """The form's fields as PATCH /api/projects/:id/ would receive them (an unticked box is false)."""
    data: dict[str, Any] = {"timezone": post.get("timezone", "").strip()}
    data |= {name: post.get(name) == "on" for name in CHECKBOXES}
    data |= {name: post[name].strip() for name in NUMBERS if post.get(name, "").strip()}
    if post.get("session_recording_retention_period"):
        data["session_recording_retention_period"] = post["session_recording_retention_period"]
    return data


@console_page()
@require_POST
def project_settings_save(request: HttpRequest, team: Team) -> HttpResponse:
    """Timezone and replay settings through the API's own serializer and service (same validation, same
    effect on remote config); a bad value is the form's 400 and nothing is saved."""
    serializer = TeamUpdateSerializer(team, data=_project_changes(request.POST), partial=True)
    if not serializer.is_valid():
        errors = {field: " ".join(str(e) for e in messages) for field, messages in serializer.errors.items()}
        context = _settings_context(request, team, form_errors=errors, saved=False)
        return render(request, "console/settings.html", context, status=400)
    update_team_settings(team=team, changes=serializer.validated_data)
    return redirect(reverse("console:settings", args=[team.pk]) + "?saved=1#project-settings-h")


@console_page()
@require_POST
def key_create(request: HttpRequest, team: Team) -> HttpResponse:
    label = request.POST.get("label", "").strip() or "console"
    scopes = [s for s in request.POST.getlist("scopes") if s] or ["*"]
    try:
        _, value = personal_api_key_create(user=request.user, label=label, scopes=scopes)
    except ValueError as error:
        return render(request, "console/settings.html", _settings_context(request, team, error=str(error)), status=400)
    return render(request, "console/settings.html", _settings_context(request, team, new_key=value))


@console_page()
@require_POST
def key_revoke(request: HttpRequest, team: Team, key_id: str) -> HttpResponse:
    key = get_object_or_404(request.user.personal_api_keys, pk=key_id)
    key.delete()
    return redirect("console:settings", project_id=team.pk)
