"""Ingestion tests: each test gets an empty token cache and empty definition caches (the queue, spool or
broker, is emptied for every test by the top-level conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from definitions.ingestion import cache_clear
from ingestion import pipeline
from ingestion.envelope import CapturedEvent
from posthog_clone.clickhouse import get_client, table
from posthog_clone.sdk.tokens import token_cache_clear
from posthog_clone.utils import uuid7


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    token_cache_clear()
    cache_clear()
    pipeline._seen_teams.clear()
    yield
    token_cache_clear()
    cache_clear()


@pytest.fixture
def merges_stopped() -> Iterator[None]:
    """Duplicates stay visible: a background merge of the ReplacingMergeTree would hide a failed dedup."""
    get_client().command(f"SYSTEM STOP MERGES {table('events')}")
    yield
    get_client().command(f"SYSTEM START MERGES {table('events')}")


def envelope(
    team: Any,
    event: str,
    distinct_id: str,
    properties: dict[str, Any] | None = None,
    *,
    timestamp: str = "2026-11-24T10:00:00.123456Z",
    ip: str | None = "10.0.0.1",
    sent_at: str | None = None,
    **top: Any,
) -> CapturedEvent:
    uuid = str(uuid7())
    data = {"event": event, "distinct_id": distinct_id, "properties": properties or {}, "uuid": uuid, **top}
    return CapturedEvent(
        uuid=uuid,
        distinct_id=distinct_id,
        ip=ip,
        data=orjson.dumps(data).decode(),
        now="2026-11-24T10:00:01Z",
        sent_at=sent_at,
        token=team.api_token,
        team_id=team.pk,
        event=event,
        timestamp=timestamp,
    )
