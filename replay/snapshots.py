"""The `snapshots` endpoint's two phases (replay reference §1.7): the session's sources (one `blob_v2` entry
per stored block, in time order, keyed by index), then the lines of a range of blocks."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rest_framework import exceptions

from replay.selectors import StoredBlock, session_blocks
from replay.storage import StorageError, get_storage

logger = logging.getLogger("replay")
MAX_BLOB_KEYS = 100
MAX_BLOB_KEYS_PERSONAL_API_KEY = 20


class BlocksUnavailable(exceptions.APIException):
    status_code = 502
    default_code = "recording_blocks_unavailable"
    default_detail = "The recording's snapshot blocks could not be read."


def _iso(value: dt.datetime) -> str:
    value = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def sources(team_id: int, session_id: str) -> list[dict[str, Any]]:
    blocks = session_blocks(team_id, session_id)
    if not blocks:
        raise exceptions.NotFound("Recording not found")
    return [
        {"source": "blob_v2", "start_timestamp": _iso(b.start), "end_timestamp": _iso(b.end), "blob_key": str(i)}
        for i, b in enumerate(blocks)
    ]


def blob_range(query: dict[str, Any], *, max_keys: int) -> tuple[int, int]:
    start, end = query.get("start_blob_key"), query.get("end_blob_key")
    if start in (None, "") or end in (None, ""):
        raise exceptions.ValidationError("Must provide both start blob key and end blob key")
    try:
        first, last = int(start), int(end)
    except ValueError:
        raise exceptions.ValidationError("Blob keys must be integers") from None
    if first < 0 or last < first:
        raise exceptions.ValidationError("Blob keys must be integers")
    if last - first + 1 > max_keys:
        raise exceptions.ValidationError(f"Cannot request more than {max_keys} blob keys at once")
    return first, last


def lines(team_id: int, session_id: str, first: int, last: int) -> bytes:
    """The JSONL lines of blocks `first`..`last` (inclusive), final newline stripped."""
    blocks = session_blocks(team_id, session_id)
    if not blocks:
        raise exceptions.NotFound("Recording not found")
    if last >= len(blocks):
        raise exceptions.NotFound("Blob key out of range")
    chosen: list[StoredBlock] = blocks[first : last + 1]
    storage, parts, failed = get_storage(), [], 0
    for block in chosen:
        try:
            parts.append(storage.read(block.blob_key, block.blob_start, block.blob_end))
        except StorageError as exc:
            failed += 1
            logger.warning("snapshot block unreadable", extra={"session_id": session_id, "error": str(exc)})
    if failed == len(chosen):
        raise BlocksUnavailable()
    return b"".join(parts).rstrip(b"\n")
