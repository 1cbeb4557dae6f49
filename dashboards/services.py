"""Writes on dashboards: create (blank or a duplicate of another), update (metadata, filters, tile upserts,
soft delete with or without the insights only shown here, restore), and sharing configurations."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from dashboards.models import Dashboard, DashboardTile, SharingConfiguration, Text, generate_access_token
from insights.models import Insight
from insights.services import insight_create
from posthog_clone.accounts.models import Team, User

_FIELDS = ("name", "description", "pinned", "breakdown_colors", "data_color_theme_id", "tags", "restriction_level")
_TILE_FIELDS = ("color", "layouts", "filters_overrides", "show_description", "transparent_background", "deleted")


def _source_dashboard(team: Team, dashboard_id: int) -> Dashboard:
    source = Dashboard.objects.filter(team=team, deleted=False, pk=dashboard_id).first()
    if source is None:
        raise serializers.ValidationError({"use_dashboard": ["Invalid value provided"]})
    return source


def _copy_text(text: Text, user: User | None) -> Text:
    return Text.objects.create(team_id=text.team_id, body=text.body, created_by=user, last_modified_by=user)


def _copy_insight(insight: Insight, user: User | None) -> Insight:
    data = {
        "name": f"{insight.name} (Copy)" if insight.name else None,
        "derived_name": f"{insight.derived_name} (Copy)" if insight.derived_name else None,
        "description": insight.description,
        "query": insight.query,
        "filters": insight.filters,
        "tags": insight.tags,
        "saved": True,
    }
    return insight_create(team=insight.team, user=user, data=data)


def _duplicate_tiles(source: Dashboard, target: Dashboard, user: User | None, *, deep: bool) -> None:
    for tile in source.tiles.filter(deleted=False).select_related("insight__team", "text"):
        if tile.insight is not None and tile.insight.deleted:
            continue
        insight = tile.insight
        if insight is not None and deep:
            insight = _copy_insight(insight, user)
        DashboardTile.objects.create(
            dashboard=target,
            insight=insight,
            text=_copy_text(tile.text, user) if tile.text is not None else None,
            layouts=tile.layouts,
            color=tile.color,
            filters_overrides=tile.filters_overrides,
            show_description=tile.show_description,
            transparent_background=tile.transparent_background,
        )


@transaction.atomic
def dashboard_create(*, team: Team, user: User | None, data: dict[str, Any]) -> Dashboard:
    if data.get("use_dashboard") is not None and data.get("use_template"):
        raise serializers.ValidationError("`use_dashboard` and `use_template` cannot be used together")
    if data.get("use_template"):
        # Built-in templates are not provided (docs/insights.md): every key is unknown.
        raise serializers.ValidationError({"use_template": [f"Invalid template provided: {data['use_template']}"]})
    source = _source_dashboard(team, data["use_dashboard"]) if data.get("use_dashboard") is not None else None
    dashboard = Dashboard(team=team, created_by=user)
    for field in _FIELDS:
        if field in data:
            setattr(dashboard, field, data[field])
    dashboard.filters = data.get("filters") or {}
    dashboard.variables = data.get("variables") or {}
    if source is not None:
        dashboard.creation_mode = Dashboard.CreationMode.DUPLICATE
        dashboard.filters = data.get("filters") or source.filters or {}
        dashboard.variables = data.get("variables") or source.variables or {}
        if "breakdown_colors" not in data:
            dashboard.breakdown_colors = source.breakdown_colors
        if "data_color_theme_id" not in data:
            dashboard.data_color_theme_id = source.data_color_theme_id
    dashboard.save()
    if source is not None:
        _duplicate_tiles(source, dashboard, user, deep=bool(data.get("duplicate_tiles")))
    if data.get("tiles"):
        _upsert_tiles(dashboard, user, data["tiles"])
    return dashboard


def _upsert_tiles(dashboard: Dashboard, user: User | None, tiles: list[dict[str, Any]]) -> None:
    """By `id`: text tiles are created or edited; otherwise only layout and style fields are written."""
    for item in tiles:
        tile = None
        if item.get("id") is not None:
            tile = dashboard.tiles.filter(pk=item["id"]).select_related("text").first()
            if tile is None:
                raise serializers.ValidationError({"tiles": [f"Tile {item['id']} is not on this dashboard."]})
        elif item.get("text") is None:
            raise serializers.ValidationError(
                {"tiles": ["A new tile needs a text (insights are added from the insight)."]}
            )
        if tile is None:
            text = Text.objects.create(team_id=dashboard.team_id, created_by=user, last_modified_by=user)
            tile = DashboardTile(dashboard=dashboard, text=text)
        if item.get("text") is not None and tile.text is not None:
            tile.text.body = item["text"].get("body", tile.text.body)
            tile.text.last_modified_at = timezone.now()
            tile.text.last_modified_by = user
            tile.text.save()
        for field in _TILE_FIELDS:
            if field in item:
                value = item[field]
                setattr(tile, field, value if value is not None or field != "layouts" else {})
        tile.save()


def _delete(dashboard: Dashboard, *, delete_insights: bool) -> None:
    live = list(dashboard.tiles.filter(deleted=False, insight__isnull=False).values_list("insight_id", flat=True))
    dashboard.tiles.update(deleted=True)
    if delete_insights and live:
        elsewhere = set(
            DashboardTile.objects.filter(insight_id__in=live, deleted=False, dashboard__deleted=False)
            .exclude(dashboard=dashboard)
            .values_list("insight_id", flat=True)
        )
        Insight.objects.filter(pk__in=set(live) - elsewhere).update(deleted=True)


def _restore(dashboard: Dashboard) -> None:
    dashboard.tiles.update(deleted=False)
    Insight.objects.filter(dashboard_tiles__dashboard=dashboard, deleted=True).update(deleted=False)


@transaction.atomic
def dashboard_update(*, dashboard: Dashboard, user: User | None, data: dict[str, Any]) -> Dashboard:
    was_deleted = dashboard.deleted
    for field in _FIELDS:
        if field in data:
            setattr(dashboard, field, data[field])
    for field in ("filters", "variables"):  # PostHog: only a non-empty object is written
        if data.get(field):
            setattr(dashboard, field, data[field])
    if "deleted" in data:
        dashboard.deleted = data["deleted"]
    dashboard.save()
    if dashboard.deleted and not was_deleted:
        _delete(dashboard, delete_insights=bool(data.get("delete_insights")))
    elif was_deleted and not dashboard.deleted:
        _restore(dashboard)
    if data.get("tiles"):
        _upsert_tiles(dashboard, user, data["tiles"])
    return dashboard


def sharing_get(*, dashboard: Dashboard) -> SharingConfiguration:
    """The stored configuration, or an unsaved disabled one (PostHog does not store it on GET)."""
    stored = SharingConfiguration.objects.filter(dashboard=dashboard).first()
    return stored or SharingConfiguration(team_id=dashboard.team_id, dashboard=dashboard, created_at=None)


@transaction.atomic
def sharing_update(*, dashboard: Dashboard, data: dict[str, Any]) -> SharingConfiguration:
    config = sharing_get(dashboard=dashboard)
    if config.created_at is None:
        config.created_at = timezone.now()
    for field in ("enabled", "settings"):
        if field in data:
            setattr(config, field, data[field])
    config.save()
    return config


@transaction.atomic
def sharing_refresh(*, dashboard: Dashboard) -> SharingConfiguration:
    """A new token: links with the old one stop working."""
    config = sharing_get(dashboard=dashboard)
    if config.created_at is None:
        config.created_at = timezone.now()
    config.access_token = generate_access_token()
    config.save()
    return config
