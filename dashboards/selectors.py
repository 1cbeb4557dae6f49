"""Reads of dashboards: the list, the shared ones."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dashboards.models import Dashboard, SharingConfiguration


def dashboards_list(*, team_id: int, params: dict[str, Any]) -> QuerySet[Dashboard]:
    """Live dashboards, pinned first, then by name (PostHog's order)."""
    rows = Dashboard.objects.filter(team_id=team_id, deleted=False).select_related("created_by")
    if params.get("creation_mode"):
        rows = rows.filter(creation_mode=params["creation_mode"])
    if params.get("search"):
        rows = rows.filter(name__icontains=params["search"])
    if params.get("pinned") is not None:
        rows = rows.filter(pinned=params["pinned"])
    rows = list(rows.order_by("-pinned", "name", "id"))
    if params.get("tags"):
        rows = [d for d in rows if params["tags"] in (d.tags or [])]
    return rows


def dashboard_get(*, team_id: int, dashboard_id: int) -> Dashboard | None:
    """A live dashboard of the project (None if it is deleted or another project's)."""
    return Dashboard.objects.filter(team_id=team_id, pk=dashboard_id, deleted=False).first()


def shared_dashboard(token: str) -> Dashboard | None:
    config = (
        SharingConfiguration.objects.filter(access_token=token, enabled=True, dashboard__isnull=False)
        .select_related("dashboard__team", "dashboard__created_by")
        .first()
    )
    if config is None or config.dashboard.deleted:
        return None
    return config.dashboard


def shared_ids(team_id: int) -> set[int]:
    return set(
        SharingConfiguration.objects.filter(team_id=team_id, enabled=True, dashboard__isnull=False).values_list(
            "dashboard_id", flat=True
        )
    )
