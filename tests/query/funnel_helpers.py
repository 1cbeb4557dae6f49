"""Data and helpers shared by the FunnelsQuery tests: TV-5 and TV-6 of the reference and the posting helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.query.conftest import insert_events, insert_person, query_url

UTC = dt.UTC
FEB_1_7 = {"date_from": "2024-02-01", "date_to": "2024-02-07"}
Row = tuple[str, str, dt.datetime, dict[str, Any]]  # distinct id, event, timestamp, properties


def at(day: str, clock: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=UTC)


# TV-5: signup → view_item → purchase, window 1 day, 2024-02-01..02-07
TV5: list[Row] = [
    ("a", "signup", at("2024-02-01", "10:00"), {}),
    ("a", "view_item", at("2024-02-01", "10:05"), {}),
    ("a", "purchase", at("2024-02-01", "10:10"), {}),
    ("b", "signup", at("2024-02-01", "09:00"), {}),
    ("b", "view_item", at("2024-02-02", "09:00:00"), {}),  # exactly 86 400 s: inside
    ("b", "purchase", at("2024-02-02", "09:00:01"), {}),  # outside
    ("c", "view_item", at("2024-02-03", "10:00"), {}),
    ("c", "signup", at("2024-02-03", "11:00"), {}),
    ("c", "purchase", at("2024-02-03", "12:00"), {}),
    ("d", "signup", at("2024-02-04", "10:00"), {}),
    ("d", "other_event", at("2024-02-04", "10:01"), {}),
    ("d", "view_item", at("2024-02-04", "10:02"), {}),
    ("d", "purchase", at("2024-02-04", "10:03"), {}),
    ("e", "signup", at("2024-02-05", "10:00"), {}),
    ("f", "view_item", at("2024-02-06", "10:00"), {}),
    ("f", "purchase", at("2024-02-06", "10:30"), {}),
    ("g", "signup", at("2024-01-31", "23:00"), {}),  # before the range
    ("g", "view_item", at("2024-02-01", "01:00"), {}),
    ("g", "purchase", at("2024-02-01", "02:00"), {}),
]


def load(team_id: int, rows: list[Row]) -> dict[str, str]:
    """Insert the events and one person per distinct id; distinct id → person id."""
    insert_events(team_id, [{"distinct_id": d, "event": e, "timestamp": t, "properties": p} for d, e, t, p in rows])
    return {d: insert_person(team_id, [d], {}) for d in sorted({r[0] for r in rows})}


def step(event: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "EventsNode", "event": event, **extra}


def tv5(order: str = "ordered", **funnels: Any) -> dict[str, Any]:
    return {
        "kind": "FunnelsQuery",
        "series": [step("signup"), step("view_item"), step("purchase")],
        "funnelsFilter": {
            "funnelWindowInterval": 1,
            "funnelWindowIntervalUnit": "day",
            "funnelOrderType": order,
            **funnels,
        },
        "dateRange": FEB_1_7,
    }


def post(project: Any, node: dict[str, Any], **extra: Any) -> Any:
    return project.client().post(query_url(project), {"query": node, **extra}, format="json")


def results(project: Any, node: dict[str, Any]) -> Any:
    response = post(project, node)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def counts(items: list[dict[str, Any]]) -> list[int]:
    return [item["count"] for item in items]
