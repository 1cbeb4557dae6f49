"""The feature flag edit page: rollouts of the release conditions and the variants (console.flag_services
checks them with the flags API's serializer and saves them with its service)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from console.flag_services import flag_form, flag_form_save
from console.security import console_page
from flags.models import FeatureFlag
from posthog_clone.accounts.models import Team


@console_page()
@require_http_methods(["GET", "POST"])
def flag_edit(request: HttpRequest, team: Team, flag_id: int) -> HttpResponse:
    flag = get_object_or_404(FeatureFlag, team=team, pk=flag_id, deleted=False)
    form = flag_form(flag) if request.method == "GET" else flag_form_save(flag=flag, data=request.POST)
    if form is None:
        return redirect("console:flags", project_id=team.pk)
    context = {"team": team, "section": "flags", "flag": flag, "form": form}
    return render(request, "console/flags/edit.html", context, status=400 if form.errors else 200)
