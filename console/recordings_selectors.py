"""Reads of the console's Recordings pages, through the replay app's own surface: its listing query
(`replay.selectors`) shaped as the API's recording objects (`replay.records`), and a session's blocks read from
its blob storage (`replay.storage`), as the API's `snapshots` endpoint reads them."""

from __future__ import annotations

import datetime as dt
import gzip
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from django.utils import timezone

from posthog_clone.accounts.models import Team, User
from replay.records import recordings_payload
from replay.selectors import RecordingFilters, parse_date, recordings_list, session_blocks
from replay.storage import StorageError, get_storage

logger = logging.getLogger("console")
PAGE_SIZE = 50
RANGES = {"-24h": "Last 24 hours", "-3d": "Last 3 days", "-7d": "Last 7 days", "-30d": "Last 30 days"}
DEFAULT_RANGE = "-3d"  # the API's default (replay reference §1.7)
COMPRESSED = "2024-10"  # posthog-js's per-event compression (replay reference §1.3)


@dataclass(frozen=True)
class RecordingRow:
    session_id: str
    start_time: dt.datetime
    duration: int
    person: str
    distinct_id: str
    click_count: int
    keypress_count: int
    start_url: str
    viewed: bool
    ongoing: bool

    @property
    def duration_text(self) -> str:
        hours, rest = divmod(self.duration, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _row(payload: dict[str, Any]) -> RecordingRow:
    person = payload["person"]
    return RecordingRow(
        session_id=payload["id"],
        start_time=dt.datetime.fromisoformat(payload["start_time"].replace("Z", "+00:00")),
        duration=payload["recording_duration"],
        person=person["name"] or payload["distinct_id"],
        distinct_id=payload["distinct_id"],
        click_count=payload["click_count"],
        keypress_count=payload["keypress_count"],
        start_url=payload["start_url"] or "",
        viewed=payload["viewed"],
        ongoing=payload["ongoing"],
    )


def recordings_page(*, team: Team, user: User, since: str, offset: int) -> tuple[list[RecordingRow], bool]:
    """A page of the project's recordings that started since `since` (a key of RANGES), newest first, and
    whether there is an older page: the API's list with its default ordering."""
    filters = RecordingFilters(date_from=parse_date(since, timezone.now()), limit=PAGE_SIZE, offset=offset)
    rows, has_next = recordings_list(team.pk, filters)
    return [_row(payload) for payload in recordings_payload(team, user, rows)], has_next


def recording(*, team: Team, user: User, session_id: str) -> RecordingRow | None:
    rows, _ = recordings_list(team.pk, RecordingFilters(session_ids=[session_id], limit=1))
    return _row(recordings_payload(team, user, rows)[0]) if rows else None


def _unpack(value: Any) -> Any:
    return orjson.loads(gzip.decompress(value.encode("latin-1"))) if isinstance(value, str) else value


def decompressed(event: dict[str, Any]) -> dict[str, Any]:
    """An rrweb event as the player takes it: posthog-js's compressed fields (gzip output as a one-char-per-byte
    string: all of `data` of a full snapshot, the lists of a mutation or a stylesheet rule) unpacked."""
    if event.get("cv") != COMPRESSED:
        return event
    event = {key: value for key, value in event.items() if key != "cv"}
    data = event.get("data")
    if event.get("type") == 2:
        event["data"] = _unpack(data)
    elif event.get("type") == 3 and isinstance(data, dict):
        fields = {0: ("texts", "attributes", "removes", "adds"), 8: ("adds", "removes")}.get(data.get("source"), ())
        event["data"] = {key: _unpack(value) if key in fields else value for key, value in data.items()}
    return event


class BlocksUnreadable(Exception):
    """Every block of the recording failed to read from storage."""


def recording_snapshots(*, team: Team, session_id: str) -> list[tuple[str, dict[str, Any]]] | None:
    """All of the session's stored lines, every block of every window (the API's `snapshots` sources 0..n),
    as `(window_id, event)` in time order, compressed events unpacked; None when there is no recording."""
    blocks = session_blocks(team.pk, session_id)
    if not blocks:
        return None
    storage, lines, failed = get_storage(), [], 0
    for block in blocks:
        try:
            body = storage.read(block.blob_key, block.blob_start, block.blob_end)
        except StorageError as exc:
            failed += 1
            logger.warning("snapshot block unreadable", extra={"session_id": session_id, "error": str(exc)})
            continue
        for line in body.split(b"\n"):
            if line.strip():
                window_id, event = orjson.loads(line)
                lines.append((window_id, decompressed(event)))
    if failed == len(blocks):
        raise BlocksUnreadable(session_id)
    lines.sort(key=lambda line: line[1].get("timestamp", 0))  # stable: a block's own order breaks ties
    return lines
