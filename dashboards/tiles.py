"""How a dashboard shows its tiles: each live tile's insight run in the dashboard's context (its filters,
or the tile's own non-empty `filters_overrides`, reference §2.5) in the request's execution mode; a tile whose
query fails carries `error` and its insight without results, the rest of the dashboard still answers."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions

from dashboards.models import Dashboard, DashboardTile
from insights.results import RunContext, effective_filters
from insights.serializers import InsightSerializer


def _layout_key(tile: DashboardTile) -> tuple[int, int, int]:
    sm = (tile.layouts or {}).get("sm") if isinstance(tile.layouts, dict) else None
    sm = sm if isinstance(sm, dict) else {}
    y, x = sm.get("y"), sm.get("x")
    return (y if isinstance(y, int) else 10**9, x if isinstance(x, int) else 10**9, tile.pk)


def live_tiles(dashboard: Dashboard) -> list[DashboardTile]:
    """Non-deleted tiles (whose insight is not deleted) in grid order: `sm` y, then x."""
    tiles = (
        dashboard.tiles.filter(deleted=False)
        .select_related("insight__team", "insight__created_by", "insight__last_modified_by", "text__created_by")
        .prefetch_related("insight__dashboard_tiles__dashboard")
    )
    return sorted((t for t in tiles if t.insight is None or not t.insight.deleted), key=_layout_key)


def text_body(tile: DashboardTile) -> dict[str, Any] | None:
    text = tile.text
    if text is None:
        return None
    return {
        "id": text.pk,
        "body": text.body,
        "created_by": text.created_by_id,
        "last_modified_at": text.last_modified_at.isoformat() if text.last_modified_at else None,
        "last_modified_by": text.last_modified_by_id,
        "team": text.team_id,
    }


def tile_body(
    tile: DashboardTile,
    *,
    order: int,
    mode: str,
    dashboard_filters: dict[str, Any],
    variables: dict[str, Any],
    base_context: dict[str, Any],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": tile.pk,
        "insight": None,
        "text": text_body(tile),
        "color": tile.color,
        "layouts": tile.layouts or {},
        "filters_overrides": tile.filters_overrides or {},
        "show_description": tile.show_description,
        "transparent_background": tile.transparent_background,
        "order": order,
        "last_refresh": None,
        "is_cached": None,
        "error": None,
        "deleted": tile.deleted,
    }
    if tile.insight is None:
        return body
    run = RunContext(
        mode=mode,
        dashboard_id=tile.dashboard_id,
        filters=effective_filters(dashboard_filters, None, tile.filters_overrides),
        variables=variables,
    )
    try:
        insight = InsightSerializer(tile.insight, context={**base_context, "run": run}).data
    except exceptions.APIException as error:
        fallback = RunContext(mode="force_cache", dashboard_id=tile.dashboard_id, filters=run.filters)
        insight = InsightSerializer(tile.insight, context={**base_context, "run": fallback}).data
        body["error"] = {"type": type(error).__name__, "message": str(error.detail)}
    body.update(insight=insight, last_refresh=insight["last_refresh"], is_cached=insight["is_cached"])
    return body


def tiles_body(
    dashboard: Dashboard, *, mode: str, filters: dict[str, Any], variables: dict[str, Any], context: dict[str, Any]
) -> list[dict[str, Any]]:
    return [
        tile_body(tile, order=i, mode=mode, dashboard_filters=filters, variables=variables, base_context=context)
        for i, tile in enumerate(live_tiles(dashboard))
    ]
