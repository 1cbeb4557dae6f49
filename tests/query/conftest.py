"""Helpers for query tests: insert events / persons straight into ClickHouse (JSONEachRow, the real
engine path) and post HogQL to /query/."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from posthog_clone.clickhouse import get_client, table


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()  # query results and property types are cached per project id, which tests reuse
    yield
    cache.clear()


def ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def insert_events(team_id: int, events: list[dict[str, Any]]) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    rows, ids = [], []
    for item in events:
        event_id = str(item.get("uuid") or uuid.uuid4())
        ids.append(event_id)
        rows.append(
            {
                "uuid": event_id,
                "event": item.get("event", "$pageview"),
                "properties": json.dumps(item.get("properties", {})),
                "timestamp": ts(item.get("timestamp", now - dt.timedelta(minutes=5))),
                "team_id": team_id,
                "distinct_id": item.get("distinct_id", "user-1"),
                "elements_chain": item.get("elements_chain", ""),
                "created_at": ts(now),
                "person_id": str(uuid.UUID(int=0)),
                "person_properties": "{}",
                "person_mode": "full",
                "_timestamp": now.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    body = "\n".join(json.dumps(r) for r in rows).encode()
    get_client().insert_json_rows(table("events"), body)
    return ids


def insert_person(
    team_id: int,
    distinct_ids: list[str],
    properties: dict[str, Any],
    *,
    version: int = 0,
    deleted: bool = False,
    created_at: dt.datetime | None = None,
) -> str:
    person_id = str(uuid.uuid4())
    created = (created_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    person = {
        "id": person_id,
        "created_at": created.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        "team_id": team_id,
        "properties": json.dumps(properties),
        "is_identified": 1,
        "is_deleted": int(deleted),
        "version": version,
    }
    get_client().insert_json_rows(table("person"), json.dumps(person).encode())
    pdis = [
        {"team_id": team_id, "distinct_id": d, "person_id": person_id, "is_deleted": 0, "version": version}
        for d in distinct_ids
    ]
    get_client().insert_json_rows(table("person_distinct_id2"), "\n".join(json.dumps(p) for p in pdis).encode())
    return person_id


def insert_distinct_id(team_id: int, distinct_id: str, person_id: str, *, version: int, deleted: bool = False) -> None:
    """Point `distinct_id` at `person_id` (a merge, when a lower version pointed it elsewhere)."""
    row = {"team_id": team_id, "distinct_id": distinct_id, "person_id": person_id, "is_deleted": int(deleted)}
    get_client().insert_json_rows(table("person_distinct_id2"), json.dumps({**row, "version": version}).encode())


def poll_query(project: Any, query_id: str, timeout: float = 20.0) -> Any:
    """GET /query/<id>/ until it stops answering 202 (or ``timeout`` seconds pass); the last response."""
    deadline = time.monotonic() + timeout
    while True:
        response = project.client().get(f"{query_url(project)}{query_id}/")
        if response.status_code != 202 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def fill_names(value: Any, names: dict[str, str]) -> Any:
    """``value`` (a query node: strings, lists, dicts) with each placeholder of ``names`` replaced in every string."""
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace(name, replacement)
        return value
    if isinstance(value, list):
        return [fill_names(v, names) for v in value]
    return {k: fill_names(v, names) for k, v in value.items()} if isinstance(value, dict) else value


def query_url(project: Any) -> str:
    return f"/api/projects/{project.team.pk}/query/"


def run(project: Any, sql: str, **extra: Any) -> Any:
    query = {"kind": "HogQLQuery", "query": sql, **extra.pop("query_extra", {})}
    return project.client().post(query_url(project), {"query": query, **extra}, format="json")
