"""Writes on annotations: create and update (soft delete and restore included). The linked insight and
dashboard must belong to the project."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotations.models import Annotation
from dashboards.models import Dashboard
from insights.models import Insight
from posthog_clone.accounts.models import Team, User

_FIELDS = ("content", "date_marker", "creation_type", "scope", "deleted")


def _check_links(team: Team, data: dict[str, Any]) -> None:
    if (
        data.get("dashboard_id") is not None
        and not Dashboard.objects.filter(team=team, pk=data["dashboard_id"]).exists()
    ):
        raise serializers.ValidationError({"dashboard_id": ["Dashboard not found."]})
    if (
        data.get("dashboard_item") is not None
        and not Insight.objects.filter(team=team, pk=data["dashboard_item"]).exists()
    ):
        raise serializers.ValidationError({"dashboard_item": ["Insight not found."]})


def _apply(annotation: Annotation, data: dict[str, Any]) -> None:
    for field in _FIELDS:
        if field in data:
            setattr(annotation, field, data[field])
    if "dashboard_id" in data:
        annotation.dashboard_id = data["dashboard_id"]
    if "dashboard_item" in data:
        annotation.dashboard_item_id = data["dashboard_item"]


def annotation_create(*, team: Team, user: User | None, data: dict[str, Any]) -> Annotation:
    _check_links(team, data)
    annotation = Annotation(team=team, organization_id=team.organization_id, created_by=user)
    _apply(annotation, data)
    annotation.save()
    return annotation


def annotation_update(*, annotation: Annotation, team: Team, data: dict[str, Any]) -> Annotation:
    _check_links(team, data)
    _apply(annotation, data)
    annotation.save()
    return annotation
