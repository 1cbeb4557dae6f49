"""Writes of session replay outside ingestion: deleting recordings (one, in bulk, past retention) and the
per-user viewed state."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from posthog_clone.accounts.models import Team
from posthog_clone.clickhouse import get_client, table
from replay.ingestion import retention_days
from replay.models import SessionRecordingViewed
from replay.storage import get_storage

logger = logging.getLogger("replay")


def recordings_delete(team_id: int, session_ids: list[str]) -> None:
    """Remove the sessions' rows (a lightweight DELETE: gone for every reader at once). Their lines stay in
    the day's blob objects, shared with other sessions, until retention removes the day."""
    if not session_ids:
        return
    get_client().command(
        f"DELETE FROM {table('session_replay_events')} WHERE team_id = {{team_id:Int64}} "
        "AND session_id IN {ids:Array(String)}",
        {"team_id": team_id, "ids": session_ids},
    )
    SessionRecordingViewed.objects.filter(team_id=team_id, session_id__in=session_ids).delete()
    logger.info("recordings deleted", extra={"team_id": team_id, "recordings": len(session_ids)})


def viewed_set(*, team: Team, user: Any, session_ids: list[str], viewed: bool) -> None:
    if viewed:
        SessionRecordingViewed.objects.bulk_create(
            [SessionRecordingViewed(team=team, user=user, session_id=s) for s in session_ids], ignore_conflicts=True
        )
    else:
        SessionRecordingViewed.objects.filter(team=team, user=user, session_id__in=session_ids).delete()


def expired_recordings_delete(now: dt.datetime | None = None) -> dict[str, int]:
    """Every project's blocks that started before its retention cutoff (midnight UTC, `retention` days ago),
    and the blob objects of those days. Returns counts (projects, objects)."""
    now = now or timezone.now()
    storage = get_storage()
    projects = objects = 0
    for team in Team.objects.all().iterator():
        cutoff = (now - dt.timedelta(days=retention_days(team))).replace(hour=0, minute=0, second=0, microsecond=0)
        get_client().command(
            f"DELETE FROM {table('session_replay_events')} WHERE team_id = {{team_id:Int64}} "
            "AND min_first_timestamp < {cutoff:DateTime64(6, 'UTC')}",
            {"team_id": team.pk, "cutoff": cutoff.strftime("%Y-%m-%d %H:%M:%S")},
        )
        for prefix in storage.list_prefixes(f"{team.pk}/"):
            day = prefix.rstrip("/").rsplit("/", 1)[-1]
            if day < cutoff.strftime("%Y-%m-%d"):
                objects += storage.delete_prefix(prefix)
        projects += 1
    logger.info("expired recordings deleted", extra={"projects": projects, "objects": objects})
    return {"projects": projects, "objects": objects}
