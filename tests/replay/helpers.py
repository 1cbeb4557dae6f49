"""Sending `/s/` requests as posthog-js does, and reading what landed."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
from django.test import Client

from posthog_clone.clickhouse import get_client, table


def post_snapshots(events: list[dict[str, Any]], *, client: Client | None = None, query: str = "") -> Any:
    """JS-1.300's request: gzip of a JSON array, text/plain, `compression=gzip-js&ver=…`."""
    client = client or Client(REMOTE_ADDR="127.0.0.1")
    qs = query or "compression=gzip-js&_=1720000000100&ver=1.300.0"
    return client.post(f"/s/?{qs}", data=gzip.compress(orjson.dumps(events)), content_type="text/plain")


def replay_rows(team_id: int) -> list[dict[str, Any]]:
    result = get_client().query(
        f"SELECT * FROM {table('session_replay_events')} FINAL WHERE team_id = {{t:Int64}} "
        "ORDER BY min_first_timestamp",
        {"t": team_id},
    )
    return [dict(zip(result.columns, row, strict=True)) for row in result.rows]


def now_ms() -> int:
    import time

    return int(time.time() * 1000)


def session_events(start: int, *, seconds: int, clicks: int = 0, errors: int = 0, url: str = "https://a.io/") -> list:
    """Meta + full snapshot at `start`, `clicks` clicks a second apart, console errors, a scroll at the end."""
    items: list[dict[str, Any]] = [
        {"type": 4, "data": {"href": url, "width": 800, "height": 600}, "timestamp": start},
        {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": []}}, "timestamp": start + 1},
    ]
    items += [
        {"type": 3, "data": {"source": 2, "type": 2, "id": 1, "x": 1, "y": 1}, "timestamp": start + 1000 * (i + 1)}
        for i in range(clicks)
    ]
    items += [
        {"type": 6, "data": {"plugin": "rrweb/console@1", "payload": {"level": "error", "payload": []}},
         "timestamp": start + 500 + i}
        for i in range(errors)
    ]  # fmt: skip
    items.append({"type": 3, "data": {"source": 3, "id": 1, "x": 0, "y": 9}, "timestamp": start + seconds * 1000})
    return sorted(items, key=lambda item: item["timestamp"])


def snapshot(token: str, session: str, items: list, *, distinct_id: str = "user-1", window: str = "w1") -> dict:
    return {
        "event": "$snapshot",
        "properties": {
            "$session_id": session,
            "$window_id": window,
            "$snapshot_data": items,
            "distinct_id": distinct_id,
            "token": token,
        },
    }
