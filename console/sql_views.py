"""The SQL page: a HogQL editor beside the project's tables, results as a table and a chart, exports.

Run and export answer an htmx request with a fragment (errors included: htmx swaps 200s only) and a plain
form post with the whole page (400 when the query failed)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from console.security import console_page
from console.sql_selectors import DEFAULT_QUERY, SqlError, sql_run, sql_tables
from console.sql_services import sql_export_create
from exports.selectors import exported_asset_content, exported_asset_for
from posthog_clone.accounts.models import Team


def _page(request: HttpRequest, team: Team, status: int = 200, fragment: str = "", **extra: object) -> HttpResponse:
    context = {"team": team, "section": "sql", "tables": sql_tables(), "query": DEFAULT_QUERY, **extra}
    if fragment and request.headers.get("HX-Request") == "true":
        return render(request, fragment, context)
    return render(request, "console/sql/page.html", context, status=status)


@console_page()
@require_GET
def sql_page(request: HttpRequest, team: Team) -> HttpResponse:
    return _page(request, team)


@console_page()
@require_POST
def sql_run_view(request: HttpRequest, team: Team) -> HttpResponse:
    query = request.POST.get("query", "")
    outcome = sql_run(team=team, query=query)
    failed = isinstance(outcome, SqlError)
    return _page(request, team, status=400 if failed else 200, query=query, fragment="console/sql/_result.html",
                 error=outcome if failed else None, result=None if failed else outcome)  # fmt: skip


@console_page()
@require_POST
def sql_export(request: HttpRequest, team: Team) -> HttpResponse:
    query = request.POST.get("query", "")
    try:
        asset = sql_export_create(team=team, user=request.user, query=query, file_format=request.POST.get("format", ""))
    except ValueError as error:
        return _page(request, team, status=400, query=query, fragment="console/sql/_export.html",
                     export_error=str(error))  # fmt: skip
    return _page(request, team, query=query, fragment="console/sql/_export.html", export=asset)


@console_page(fragment=True)
@require_GET
def export_status(request: HttpRequest, team: Team, export_id: int) -> HttpResponse:
    asset = exported_asset_for(team_id=team.pk, user=request.user, asset_id=export_id)
    if asset is None:
        raise Http404("Export not found.")
    return render(request, "console/sql/_export.html", {"team": team, "export": asset})


@console_page()
@require_GET
def export_file(request: HttpRequest, team: Team, export_id: int) -> HttpResponse:
    asset = exported_asset_for(team_id=team.pk, user=request.user, asset_id=export_id)
    data = exported_asset_content(asset=asset) if asset is not None else None
    if asset is None or data is None:
        raise Http404("Export not found.")
    response = HttpResponse(data, content_type=asset.export_format)
    response["Content-Disposition"] = f'attachment; filename="{asset.filename}"'
    return response
