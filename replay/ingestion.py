"""The batched write of session replay: a batch's `$snapshot_items` messages (registered with the ingestion
pipeline as an event handler, ``replay.apps``) become blocks (``replay.blocks``), their lines one blob object
per project and day of the batch, and one `session_replay_events` row per block pointing at its byte range.

Idempotent, as the pipeline needs (a crash replays the batch): an object's key and a row's `block_id` are
derived from the messages' uuids, so a replay rewrites the same object and rows that replace their first copy.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings

from posthog_clone.accounts.models import Team
from posthog_clone.clickhouse import get_client, table
from replay.blocks import Block, block_build
from replay.storage import get_storage

logger = logging.getLogger("replay")

ROW_COLUMNS = (
    "session_id", "team_id", "distinct_id", "block_id", "window_id", "min_first_timestamp", "max_last_timestamp",
    "first_url", "all_urls", "click_count", "keypress_count", "mouse_activity_count", "active_milliseconds",
    "console_log_count", "console_warn_count", "console_error_count", "size", "message_count", "event_count",
    "snapshot_source", "snapshot_library", "retention_period_days", "blob_key", "blob_start", "blob_end",
    "_timestamp",
)  # fmt: skip

_PERIOD_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


def retention_days(team: Any) -> int:
    """The project's replay retention in days: `session_recording_retention_period` (PostHog's "30d", "90d",
    "1y", "5y"; a number is days) when the Team has it, else REPLAY_DEFAULT_RETENTION_DAYS (30)."""
    value = getattr(team, "session_recording_retention_period", None) if team is not None else None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and len(value) >= 2 and value[:-1].isdigit() and value[-1] in _PERIOD_DAYS:
        return int(value[:-1]) * _PERIOD_DAYS[value[-1]]
    return settings.REPLAY_DEFAULT_RETENTION_DAYS


def ch_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(" ", "microseconds")[:26]


def blocks_of(envelopes: Iterable[Any], *, now: datetime) -> list[Block]:
    blocks = []
    for envelope in envelopes:
        try:
            data = orjson.loads(envelope.data)
            properties = data["properties"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            logger.warning("replay message unreadable, dropped", extra={"uuid": envelope.uuid})
            continue
        block, why = block_build(
            block_id=envelope.uuid,
            team_id=envelope.team_id,
            distinct_id=envelope.distinct_id,
            properties=properties,
            now=now,
        )
        if block is None:
            logger.info("replay message dropped", extra={"uuid": envelope.uuid, "reason": why})
            continue
        blocks.append(block)
    return blocks


def blob_key(team_id: int, day: str, blocks: list[Block]) -> str:
    digest = hashlib.sha256("\n".join(sorted(b.block_id for b in blocks)).encode()).hexdigest()[:32]
    return f"{team_id}/{day}/{digest}.jsonl"


def clock() -> datetime:
    """Now, for the 7-day check (tests replaying the reference's 2024 vector move it)."""
    return datetime.now(UTC)


def snapshots_ingest(envelopes: list[Any]) -> int:
    """Store a batch's snapshot messages; the number of blocks written."""
    now = clock()
    blocks = blocks_of(envelopes, now=now)
    if not blocks:
        return 0
    teams = {team.pk: team for team in Team.objects.filter(pk__in={b.team_id for b in blocks})}
    groups: dict[tuple[int, str], list[Block]] = {}
    for block in blocks:
        day = datetime.fromtimestamp(block.first_timestamp / 1000, tz=UTC).strftime("%Y-%m-%d")
        groups.setdefault((block.team_id, day), []).append(block)
    storage = get_storage()
    inserted_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    rows = []
    for (team_id, day), group in groups.items():
        key = blob_key(team_id, day, group)
        storage.write(key, b"".join(b.lines for b in group))
        days = retention_days(teams.get(team_id))
        offset = 0
        for block in group:
            start, offset = offset, offset + len(block.lines)
            rows.append(row_values(block, key, start, offset, days, inserted_at))
    body = orjson.dumps(rows)[1:-1]
    token = hashlib.sha256(",".join(sorted(b.block_id for b in blocks)).encode()).hexdigest()
    get_client().insert_json_rows(table("session_replay_events"), body, dedup_token=token, columns=ROW_COLUMNS)
    logger.info("replay blocks written", extra={"blocks": len(blocks), "objects": len(groups)})
    return len(blocks)


def row_values(block: Block, key: str, start: int, end: int, days: int, inserted_at: str) -> list[Any]:
    return [
        block.session_id,
        block.team_id,
        block.distinct_id,
        block.block_id,
        block.window_id,
        ch_time(block.first_timestamp),
        ch_time(block.last_timestamp),
        block.first_url,
        block.urls,
        block.click_count,
        block.keypress_count,
        block.mouse_activity_count,
        block.active_milliseconds,
        block.console_log_count,
        block.console_warn_count,
        block.console_error_count,
        len(block.lines),
        1,
        block.event_count,
        block.snapshot_source,
        block.snapshot_library,
        days,
        key,
        start,
        end,
        inserted_at,
    ]
