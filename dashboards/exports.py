"""What an export of a dashboard draws (registered with the plumbing as the `dashboard` export target): its
live tiles in grid order, each insight computed now in the dashboard's context (its filters, or the tile's own
non-empty `filters_overrides`) as a table (`insights.exports.insight_table`), each text card as its text.
A tile whose query fails becomes a text panel saying so; the rest of the dashboard is still drawn."""

from __future__ import annotations

from typing import Any

from dashboards.models import Dashboard
from dashboards.tiles import live_tiles
from insights.exports import insight_table
from insights.results import RunContext, effective_filters
from query.exceptions import ExposedHogQLError


def dashboard_exists(team_id: int, pk: int) -> bool:
    return Dashboard.objects.filter(team_id=team_id, pk=pk, deleted=False).exists()


def dashboard_panels(team_id: int, pk: int) -> dict[str, Any]:
    dashboard = Dashboard.objects.select_related("team").get(team_id=team_id, pk=pk, deleted=False)
    panels: list[dict[str, Any]] = []
    for tile in live_tiles(dashboard):
        if tile.insight is None:
            if tile.text is not None:
                panels.append({"title": "", "columns": [], "rows": [], "text": tile.text.body})
            continue
        context = RunContext(
            mode="blocking",
            dashboard_id=dashboard.pk,
            filters=effective_filters(dashboard.filters, None, tile.filters_overrides),
            variables=dashboard.variables or {},
        )
        try:
            panels.append(insight_table(dashboard.team, tile.insight, context))
        except ExposedHogQLError as error:
            title = tile.insight.name or tile.insight.derived_name or ""
            panels.append({"title": title, "columns": [], "rows": [], "text": f"This insight failed: {error}"})
    return {"title": dashboard.name or f"Dashboard {dashboard.pk}", "panels": panels}
