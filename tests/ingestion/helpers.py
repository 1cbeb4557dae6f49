"""ClickHouse readers for ingestion tests (deduplicated the way HogQL reads: argMax by version)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest

from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.client import ClickHouseClient
from posthog_clone.clickhouse.errors import ClickHouseError


@contextmanager
def events_insert_answer_lost(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside: every insert into `events` lands, then fails as a timeout would (ClickHouse is the edge), and
    the pipeline's retries do not sleep."""
    real = ClickHouseClient.insert_json_rows

    def lands_but_the_answer_is_lost(self, target, body, **kwargs):  # type: ignore[no-untyped-def]
        result = real(self, target, body, **kwargs)
        if target == table("events"):
            raise ClickHouseError("Timeout exceeded", code=159, retryable=True)
        return result

    with monkeypatch.context() as patch:
        patch.setattr(ClickHouseClient, "insert_json_rows", lands_but_the_answer_is_lost)
        patch.setattr("ingestion.pipeline.time.sleep", lambda s: None)
        yield


def events_rows(team_id: int) -> list[dict[str, Any]]:
    res = get_client().query(
        f"SELECT toString(uuid), event, distinct_id, toString(person_id), properties, "
        f"formatDateTime(timestamp, '%Y-%m-%d %H:%i:%S.%f'), `$session_id`, person_mode, elements_chain "
        f"FROM {table('events')} FINAL WHERE team_id = {{t:Int64}} ORDER BY timestamp, uuid",
        {"t": team_id},
    )
    keys = ("uuid", "event", "distinct_id", "person_id", "properties", "timestamp", "session_id", "person_mode",
            "elements_chain")  # fmt: skip
    return [{**dict(zip(keys, row, strict=True)), "properties": orjson.loads(row[4])} for row in res.rows]


def ch_distinct_ids(team_id: int) -> dict[str, str]:
    """distinct_id → person id, latest version wins, deleted mappings dropped."""
    res = get_client().query(
        f"SELECT distinct_id, toString(argMax(person_id, version)), argMax(is_deleted, version) "
        f"FROM {table('person_distinct_id2')} WHERE team_id = {{t:Int64}} GROUP BY distinct_id",
        {"t": team_id},
    )
    return {did: pid for did, pid, deleted in res.rows if not deleted}


def ch_persons(team_id: int) -> dict[str, dict[str, Any]]:
    """person id → {properties, is_identified} for live persons (latest version)."""
    res = get_client().query(
        f"SELECT toString(id), argMax(properties, version), argMax(is_identified, version), "
        f"argMax(is_deleted, version) FROM {table('person')} WHERE team_id = {{t:Int64}} GROUP BY id",
        {"t": team_id},
    )
    return {
        pid: {"properties": orjson.loads(props), "is_identified": bool(ident)}
        for pid, props, ident, deleted in res.rows
        if not deleted
    }
