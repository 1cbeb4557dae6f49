"""Pure functions from one queued `$snapshot_items` message to one stored *block* (replay reference §1.4 steps
3–5): the items kept, their JSONL lines and the block's metadata (counts, active time, URLs). No Django, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

MAX_TIMESTAMP_DIFF = timedelta(days=7)
MAX_URL_CHARS = 4096
MAX_URLS = 25
ACTIVITY_GAP_MS = 5000
CONSOLE_PLUGIN = "rrweb/console@1"

FULL_SNAPSHOT, INCREMENTAL, META, CUSTOM, PLUGIN = 2, 3, 4, 5, 6
MOUSE_MOVE, MOUSE_INTERACTION, INPUT, TOUCH_MOVE = 1, 2, 5, 6
CLICK_TYPES = frozenset({2, 4, 9, 3})  # Click, DblClick, TouchEnd, ContextMenu
MOUSE_SOURCES = frozenset({MOUSE_MOVE, MOUSE_INTERACTION, TOUCH_MOVE})
ACTIVE_SOURCES = frozenset({1, 2, 3, 4, 5, 6, 7, 12})
WARN_LEVELS = frozenset({"warn", "countReset"})
ERROR_LEVELS = frozenset({"error", "assert"})


@dataclass(slots=True)
class Block:
    """One message's items for one session window, ready to store."""

    block_id: str
    team_id: int
    session_id: str
    window_id: str
    distinct_id: str
    snapshot_source: str
    snapshot_library: str
    first_timestamp: int  # epoch ms
    last_timestamp: int
    lines: bytes  # `["<window_id>", <event>]\n` per event
    urls: list[str] = field(default_factory=list)
    click_count: int = 0
    keypress_count: int = 0
    mouse_activity_count: int = 0
    active_milliseconds: int = 0
    console_log_count: int = 0
    console_warn_count: int = 0
    console_error_count: int = 0
    event_count: int = 0

    @property
    def first_url(self) -> str | None:
        return self.urls[0] if self.urls else None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def valid_items(items: Any) -> list[dict[str, Any]]:
    """Objects with a numeric `type` and a numeric `timestamp` > 0 (§1.4 step 3)."""
    if not isinstance(items, list):
        return []
    return [
        item
        for item in items
        if isinstance(item, dict)
        and _number(item.get("type"))
        and _number(item.get("timestamp"))
        and item["timestamp"] > 0
    ]


def block_build(
    *, block_id: str, team_id: int, distinct_id: str, properties: dict[str, Any], now: datetime
) -> tuple[Block | None, str]:
    """The block of one message, or (None, why it was dropped)."""
    items = valid_items(properties.get("$snapshot_items"))
    if not items:
        return None, "message_contained_no_valid_rrweb_events"
    first = min(item["timestamp"] for item in items)
    last = max(item["timestamp"] for item in items)
    now_ms = now.timestamp() * 1000
    limit = MAX_TIMESTAMP_DIFF.total_seconds() * 1000
    if abs(now_ms - first) >= limit or abs(now_ms - last) >= limit:
        return None, "message_timestamp_diff_too_large"
    window_id = str(properties.get("$window_id") or properties.get("$session_id"))
    prefix = b"[" + orjson.dumps(window_id) + b","
    block = Block(
        block_id=block_id,
        team_id=team_id,
        session_id=str(properties["$session_id"]),
        window_id=window_id,
        distinct_id=distinct_id,
        snapshot_source=str(properties.get("$snapshot_source") or "web")[:1000],
        snapshot_library=str(properties.get("$lib") or "web"),
        first_timestamp=int(first),
        last_timestamp=int(last),
        lines=b"".join(prefix + orjson.dumps(item) + b"]\n" for item in items),
        event_count=len(items),
    )
    for item in items:
        _count(block, item)
    block.active_milliseconds = active_milliseconds(items)
    return block, ""


def _count(block: Block, item: dict[str, Any]) -> None:
    kind = item["type"]
    data = item.get("data")
    data = data if isinstance(data, dict) else {}
    if kind == INCREMENTAL:
        source = data.get("source")
        if source == MOUSE_INTERACTION and data.get("type") in CLICK_TYPES:
            block.click_count += 1
        if source == INPUT:
            block.keypress_count += 1
        if source in MOUSE_SOURCES:
            block.mouse_activity_count += 1
    elif kind == META:
        _url(block, data.get("href"))
    elif kind == CUSTOM and data.get("tag") == "$pageview":
        payload = data.get("payload")
        _url(block, payload.get("href") if isinstance(payload, dict) else None)
    elif kind == PLUGIN and data.get("plugin") == CONSOLE_PLUGIN:
        payload = data.get("payload")
        level = payload.get("level") if isinstance(payload, dict) else None
        if level in WARN_LEVELS:
            block.console_warn_count += 1
        elif level in ERROR_LEVELS:
            block.console_error_count += 1
        else:
            block.console_log_count += 1


def _url(block: Block, href: Any) -> None:
    if not isinstance(href, str):
        return
    url = href.strip()[:MAX_URL_CHARS]
    if url and url not in block.urls and len(block.urls) < MAX_URLS:
        block.urls.append(url)


def is_active(item: dict[str, Any]) -> bool:
    data = item.get("data")
    return item["type"] == INCREMENTAL and isinstance(data, dict) and data.get("source") in ACTIVE_SOURCES


def active_milliseconds(items: list[dict[str, Any]]) -> int:
    """Σ durations of the active segments (a zero-length one counts 1 ms), §1.4 step 4."""
    total = 0
    segment: list[float] | None = None  # [start, end, last_active or None]
    segment_active = False
    for item in sorted(items, key=lambda i: i["timestamp"]):
        ts, active = item["timestamp"], is_active(item)
        opens = (
            segment is None
            or (active and not segment_active)
            or (segment_active and active and ts - segment[2] > ACTIVITY_GAP_MS)
            or (segment_active and not active and ts - segment[2] > ACTIVITY_GAP_MS)
        )
        if opens:
            if segment is not None and segment_active:
                total += max(segment[1] - segment[0], 1)
            segment, segment_active = [ts, ts, ts if active else 0], active
        else:
            segment[1] = ts
            if active:
                segment[2] = ts
    if segment is not None and segment_active:
        total += max(segment[1] - segment[0], 1)
    return int(total)
