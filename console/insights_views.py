"""The console's Insights and Dashboards pages: thin views over console.insights_selectors (which reads the
insights, dashboards and annotations apps; results through the insights app's cached result path)."""

from __future__ import annotations

import json
import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console import insights_selectors as selectors
from console.security import console_page
from posthog_clone.accounts.models import Team

DATE_CHOICES = [("", "Dashboard's own dates"), ("-24h", "Last 24 hours"), ("-7d", "Last 7 days"),
                ("-14d", "Last 14 days"), ("-30d", "Last 30 days"), ("-90d", "Last 90 days"),
                ("-180d", "Last 180 days"), ("-365d", "Last 365 days"), ("all", "All time")]  # fmt: skip
_DATE = re.compile(r"^(all|-\d{1,4}[hdwmyM]|\d{4}-\d{2}-\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _refresh(request: HttpRequest) -> bool:
    return request.GET.get("refresh", "") in {"1", "true", "yes"}


def _spec_json(chart: selectors.Chart) -> str:
    return json.dumps(chart.spec, default=str)


@console_page()
@require_GET
def insights(request: HttpRequest, team: Team) -> HttpResponse:
    page = int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1
    rows, more = selectors.insight_rows(team=team, user_id=request.user.pk, page=page)
    context = {"team": team, "rows": rows, "page": max(page, 1), "more": more, "section": "insights"}
    return render(request, "console/insights/list.html", context)


@console_page()
@require_GET
def insight_detail(request: HttpRequest, team: Team, insight_key: str) -> HttpResponse:
    insight = selectors.insight_get(team=team, key=insight_key)
    chart = selectors.insight_chart(team=team, insight=insight, refresh=_refresh(request))
    context = {"team": team, "chart": chart, "spec_json": _spec_json(chart), "section": "insights"}
    return render(request, "console/insights/detail.html", context)


@console_page()
@require_GET
def dashboards(request: HttpRequest, team: Team) -> HttpResponse:
    rows = selectors.dashboard_rows(team=team)
    return render(request, "console/insights/dashboards.html", {"team": team, "rows": rows, "section": "dashboards"})


@console_page()
@require_GET
def dashboard_detail(request: HttpRequest, team: Team, dashboard_id: int) -> HttpResponse:
    dashboard = selectors.dashboard_or_404(team=team, dashboard_id=dashboard_id)
    date_from, date_to = request.GET.get("date_from", "").strip(), request.GET.get("date_to", "").strip()
    date_from = date_from if _DATE.match(date_from) else ""
    date_to = date_to if date_from and _DAY.match(date_to) else ""
    tiles = selectors.dashboard_tiles(
        team=team, dashboard=dashboard, date_from=date_from, date_to=date_to, refresh=_refresh(request)
    )
    shown = [(tile, _spec_json(tile.chart) if tile.chart else "") for tile in tiles]
    choices = DATE_CHOICES if any(v == date_from for v, _ in DATE_CHOICES) else [*DATE_CHOICES, (date_from, date_from)]
    context = {"team": team, "dashboard": dashboard, "tiles": shown, "date_from": date_from,
               "date_to": date_to, "date_choices": choices, "section": "dashboards"}  # fmt: skip
    return render(request, "console/insights/dashboard.html", context)
