"""Saved playlists of recordings (replay reference §1.7): a `collection` of pinned session ids or a saved
`filters` query. Create, list, retrieve, update, soft delete (`deleted: true`), and a collection's items."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions

from posthog_clone.accounts.models import Team
from replay.models import SessionRecordingPlaylist, SessionRecordingPlaylistItem, SessionRecordingViewed

MAX_BULK = 20
TYPE_ERROR = "Must provide a valid playlist type: either filters or collection"


def playlist_type_check(kind: str | None, filters: Any) -> str:
    if kind == SessionRecordingPlaylist.Type.COLLECTION and not filters:
        return kind
    if kind in (None, SessionRecordingPlaylist.Type.FILTERS) and isinstance(filters, dict) and filters:
        return SessionRecordingPlaylist.Type.FILTERS
    raise exceptions.ValidationError(TYPE_ERROR)


def playlist_create(*, team: Team, user: Any, data: dict[str, Any]) -> SessionRecordingPlaylist:
    kind = playlist_type_check(data.get("type"), data.get("filters"))
    return SessionRecordingPlaylist.objects.create(
        team=team,
        name=data.get("name"),
        derived_name=data.get("derived_name"),
        description=data.get("description") or "",
        pinned=data.get("pinned", False),
        filters=data.get("filters") or {},
        type=kind,
        created_by=user,
        last_modified_by=user,
    )


def playlist_update(*, playlist: SessionRecordingPlaylist, user: Any, data: dict[str, Any]) -> SessionRecordingPlaylist:
    for field in ("name", "derived_name", "description", "pinned", "deleted", "filters"):
        if field in data:
            setattr(playlist, field, data[field] if data[field] is not None or field == "name" else "")
    if "filters" in data and playlist.type == SessionRecordingPlaylist.Type.FILTERS and not data["filters"]:
        raise exceptions.ValidationError(TYPE_ERROR)
    playlist.last_modified_at, playlist.last_modified_by = timezone.now(), user
    playlist.save()
    return playlist


def recordings_counts(playlist: SessionRecordingPlaylist, user: Any) -> dict[str, Any]:
    ids = list(playlist.items.values_list("session_id", flat=True))
    watched = SessionRecordingViewed.objects.filter(team_id=playlist.team_id, user=user, session_id__in=ids).count()
    return {"saved_filters": {}, "collection": {"count": len(ids) or None, "watched_count": watched}}


def _collection(playlist: SessionRecordingPlaylist) -> None:
    if playlist.type == SessionRecordingPlaylist.Type.FILTERS:
        raise exceptions.ValidationError("Cannot add recordings to a playlist that is type 'filters'.")


def items_add(playlist: SessionRecordingPlaylist, session_ids: list[str]) -> int:
    _collection(playlist)
    before = playlist.items.count()
    SessionRecordingPlaylistItem.objects.bulk_create(
        [SessionRecordingPlaylistItem(playlist=playlist, session_id=s) for s in session_ids], ignore_conflicts=True
    )
    return playlist.items.count() - before


def items_remove(playlist: SessionRecordingPlaylist, session_ids: list[str]) -> int:
    _collection(playlist)
    deleted, _ = SessionRecordingPlaylistItem.objects.filter(playlist=playlist, session_id__in=session_ids).delete()
    return deleted
