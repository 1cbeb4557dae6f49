"""Writes on insights: create, update (soft delete and restore included), the dashboards they sit on, and
their activity log rows (the definitions app's activity log, scope `Insight`).

Tiles belong to the dashboards app; this app reaches their model through the reverse relation
(`Insight.dashboard_tiles`), so it never imports it (the dashboards app imports this one)."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils import timezone
from rest_framework import serializers

from definitions.services.activity import activity_log_record, changes_between
from insights.models import MATERIAL_FIELDS, Insight
from posthog_clone.accounts.models import Team, User

_FIELDS = (*MATERIAL_FIELDS, "order", "deleted", "saved", "favorited", "tags")
ACTIVITY_SCOPE = "Insight"


def tile_model() -> type[models.Model]:
    return Insight._meta.get_field("dashboard_tiles").related_model


def dashboard_model() -> type[models.Model]:
    return tile_model()._meta.get_field("dashboard").related_model


def _dashboards_of_team(team: Team, ids: list[int]) -> list[int]:
    wanted = list(dict.fromkeys(ids))
    found = set(dashboard_model().objects.filter(team=team, deleted=False, pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise serializers.ValidationError("Dashboard not found")
    return wanted


def _live_dashboard_ids(insight: Insight) -> list[int]:
    return list(
        insight.dashboard_tiles.filter(deleted=False, dashboard__deleted=False)
        .order_by("id")
        .values_list("dashboard_id", flat=True)
    )


def _set_dashboards(insight: Insight, ids: list[int]) -> None:
    """Add a tile per new dashboard (reviving a soft-deleted one if there is one), soft-delete the others."""
    current = set(_live_dashboard_ids(insight))
    for dashboard_id in ids:
        if dashboard_id in current:
            continue
        revived = insight.dashboard_tiles.filter(dashboard_id=dashboard_id, deleted=True).order_by("-id").first()
        if revived is not None:
            revived.deleted = False
            revived.save(update_fields=["deleted"])
        else:
            insight.dashboard_tiles.create(dashboard_id=dashboard_id)
    insight.dashboard_tiles.filter(deleted=False).exclude(dashboard_id__in=ids).update(deleted=True)


def _snapshot(insight: Insight) -> dict[str, Any]:
    return {field: getattr(insight, field) for field in _FIELDS}


def _log(insight: Insight, user: User | None, activity: str, changes: list[dict[str, Any]] | None) -> None:
    activity_log_record(
        team=insight.team,
        user=user,
        scope=ACTIVITY_SCOPE,
        activity=activity,
        item_id=insight.pk,
        name=insight.name or insight.derived_name,
        short_id=insight.short_id,
        changes=changes,
    )


def _unique_short_id(team: Team) -> Insight:
    insight = Insight(team=team)
    while Insight.objects.filter(team=team, short_id=insight.short_id).exists():  # 62^8 ids: rarely taken
        insight = Insight(team=team)
    return insight


@transaction.atomic
def insight_create(*, team: Team, user: User | None, data: dict[str, Any]) -> Insight:
    dashboards = _dashboards_of_team(team, data["dashboards"]) if data.get("dashboards") else []
    insight = _unique_short_id(team)
    insight.created_by = user
    insight.last_modified_by = user
    for field in _FIELDS:
        if field in data:
            setattr(insight, field, data[field] if data[field] is not None or field != "filters" else {})
    insight.save()
    _set_dashboards(insight, dashboards)
    _log(insight, user, "created", None)
    return insight


@transaction.atomic
def insight_update(*, insight: Insight, user: User | None, data: dict[str, Any]) -> Insight:
    before = _snapshot(insight)
    before_dashboards = _live_dashboard_ids(insight)
    for field in _FIELDS:
        if field in data:
            setattr(insight, field, data[field] if data[field] is not None or field != "filters" else {})
    changes = changes_between(scope=ACTIVITY_SCOPE, before=before, after=_snapshot(insight))
    if any(change["field"] in MATERIAL_FIELDS for change in changes):
        insight.last_modified_at = timezone.now()
        insight.last_modified_by = user
    insight.save()
    if "dashboards" in data:
        _set_dashboards(insight, _dashboards_of_team(insight.team, data["dashboards"]))
    if data.get("deleted") is True:
        insight.dashboard_tiles.filter(deleted=False).update(deleted=True)
    after_dashboards = _live_dashboard_ids(insight)
    if after_dashboards != before_dashboards:
        changes.append(
            {"type": ACTIVITY_SCOPE, "action": "changed", "field": "dashboards", "before": before_dashboards,
             "after": after_dashboards}
        )  # fmt: skip
    if changes:
        _log(insight, user, "updated", changes)
    return insight
