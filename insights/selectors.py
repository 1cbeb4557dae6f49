"""Reads of insights: the list with PostHog's filters (reference §1.3), one insight, and the tiles relation."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import F, Q, QuerySet
from rest_framework import serializers

from insights.models import Insight
from insights.queries import INSIGHT_TYPES

_RELATIVE = re.compile(r"^-(\d+)([hdwmyM])$")
_UNITS = {
    "h": dt.timedelta(hours=1),
    "d": dt.timedelta(days=1),
    "w": dt.timedelta(weeks=1),
    "M": dt.timedelta(minutes=1),
}


def insights_base(*, team_id: int) -> QuerySet[Insight]:
    return Insight.objects.filter(team_id=team_id).select_related("team", "created_by", "last_modified_by")


def with_tiles(queryset: QuerySet[Insight]) -> QuerySet[Insight]:
    return queryset.prefetch_related("dashboard_tiles__dashboard")


def _moment(value: str, name: str, now: dt.datetime) -> dt.datetime:
    """An ISO date/datetime or a relative `-Nh|d|w|m|y|M` (m months, M minutes) before now."""
    match = _RELATIVE.match(value.strip())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        if unit in _UNITS:
            return now - amount * _UNITS[unit]
        months = amount * (12 if unit == "y" else 1)
        year, month = divmod(now.month - 1 - months, 12)
        return now.replace(year=now.year + year, month=month + 1, day=min(now.day, 28))
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise serializers.ValidationError({name: [f"Invalid date: {value}"]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _type_filter(kind: str) -> Q:
    viz = Q(query__kind="InsightVizNode")
    if kind in INSIGHT_TYPES.values():
        source_kind = next(k for k, v in INSIGHT_TYPES.items() if v == kind)
        return viz & Q(query__source__kind=source_kind)
    sql = Q(query__kind__in=["DataVisualizationNode", "DataTableNode"]) & Q(query__source__kind="HogQLQuery")
    if kind == "SQL":
        return sql
    typed = viz & Q(query__source__kind__in=list(INSIGHT_TYPES))
    return ~(typed | sql)  # JSON: any other query


def _search(text: str) -> Q:
    return (
        Q(name__icontains=text)
        | Q(derived_name__icontains=text)
        | Q(description__icontains=text)
        | Q(tags__icontains=text)
    )


def insights_list(*, team_id: int, user_id: int, params: dict[str, Any]) -> QuerySet[Insight]:
    """Live insights of a project with the list filters of `params` (validated query string), ANDed."""
    rows = with_tiles(insights_base(team_id=team_id).filter(deleted=False))
    if params.get("short_id"):
        rows = rows.filter(short_id=params["short_id"])
    if params.get("created_by") is not None:
        rows = rows.filter(created_by_id=params["created_by"])
    if params.get("saved") is True:
        on_dashboard = Q(dashboard_tiles__deleted=False, dashboard_tiles__dashboard__deleted=False)
        rows = rows.filter(Q(saved=True) | on_dashboard).distinct()
    elif params.get("saved") is False:
        rows = rows.filter(saved=False)
    if "favorited" in params:
        rows = rows.filter(favorited=True)
    if "user" in params:
        rows = rows.filter(created_by_id=user_id)
    if params.get("search"):
        rows = rows.filter(_search(params["search"]))
    if params.get("insight"):
        rows = rows.filter(_type_filter(params["insight"]))
    for dashboard_id in params.get("dashboards") or []:
        rows = rows.filter(
            pk__in=Insight.objects.filter(
                dashboard_tiles__dashboard_id=dashboard_id,
                dashboard_tiles__deleted=False,
                dashboard_tiles__dashboard__deleted=False,
            ).values("pk")
        )
    now = dt.datetime.now(dt.UTC)
    if params.get("date_from"):
        rows = rows.filter(last_modified_at__gte=_moment(params["date_from"], "date_from", now))
    if params.get("date_to"):
        rows = rows.filter(last_modified_at__lte=_moment(params["date_to"], "date_to", now))
    order = params.get("order") or "order"
    name = order.lstrip("-")
    key = F(name).desc(nulls_last=True) if order.startswith("-") else F(name).asc(nulls_last=True)
    return rows.order_by(key, "-last_modified_at", "-id")
