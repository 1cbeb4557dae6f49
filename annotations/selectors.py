"""Reads of annotations: the ones a chart shows (reference §3: an insight's own, its dashboard's, the project's
and the organization's), live and with a date marker, oldest first."""

from __future__ import annotations

from django.db.models import Q

from annotations.models import Annotation
from posthog_clone.accounts.models import Team

CHART_LIMIT = 500


def chart_annotations(
    *, team: Team, insight_ids: list[int] | tuple[int, ...] = (), dashboard_id: int | None = None
) -> list[Annotation]:
    """What charts of `insight_ids` (seen on `dashboard_id`, if any) are annotated with; the insight-scoped
    ones carry `dashboard_item_id`, so the caller keeps each chart's own."""
    seen = Q(team=team, scope=Annotation.Scope.PROJECT) | Q(
        organization_id=team.organization_id, scope=Annotation.Scope.ORGANIZATION
    )
    if insight_ids:
        seen |= Q(team=team, scope=Annotation.Scope.INSIGHT, dashboard_item_id__in=list(insight_ids))
    if dashboard_id is not None:
        seen |= Q(team=team, scope=Annotation.Scope.DASHBOARD, dashboard_id=dashboard_id)
    rows = (
        Annotation.objects.filter(seen, deleted=False, date_marker__isnull=False)
        .exclude(dashboard_item__deleted=True)
        .exclude(dashboard__deleted=True)
        .order_by("date_marker", "id")
    )
    return list(rows[:CHART_LIMIT])
