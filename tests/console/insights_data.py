"""Hand-worked data for the console's Insights and Dashboards tests: events captured over /batch/ and flushed,
six insights (one per kind) on a dashboard with a text tile, and annotations, all through the API.

Events, 1–4 Mar 2024 (UTC):
  $pageview  u1 1 Mar 10:00, 1 Mar 11:00, 3 Mar 09:00 · u4 1 Mar 12:00 · u2 2 Mar 12:00, 3 Mar 10:00 · u3 3 Mar 15:00
  signup     u1 1 Mar 10:30 · u2 2 Mar 13:00 · u3 3 Mar 16:00 · u4 4 Mar 09:00
  purchase   u1 2 Mar 10:00 · u3 3 Mar 16:10
Worked results (1–3 Mar, by day):
  Trends $pageview total [3, 1, 3], DAU [2, 1, 3]; from 2 Mar (the dashboard's date override): total [1, 3]
  Funnel signup → purchase (1–7 Mar, 14-day window): 4 → 2, 50% conversion; on the dashboard (its dates 1–3 Mar)
    3 → 2 (u4 signs up on 4 Mar), from 2 Mar 2 → 1 (u2, u3; u3 buys)
  Retention $pageview → $pageview, Day, 3 intervals: 1 Mar size 2 [100%, 0%, 50%]; 2 Mar size 1 [100%, 100%];
    3 Mar size 3 [100%]
  Stickiness $pageview: 1 day 2 (u3, u4), 2 days 2 (u1, u2), 3 days 0
  Lifecycle $pageview: dormant [0, -2, 0] (u1, u4 idle on 2 Mar), returning [0, 0, 1] (u2 on 3 Mar),
    new + resurrecting [2, 1, 2]
  Paths over custom events (30-min sessions): 1_signup → 2_purchase once (u3, 10 minutes)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from django.test import Client

from ingestion.worker import flush

MARCH_1_3 = {"date_from": "2024-03-01", "date_to": "2024-03-03"}
EVENTS = [
    ("$pageview", "u1", "2024-03-01T10:00:00Z"),
    ("$pageview", "u1", "2024-03-01T11:00:00Z"),
    ("$pageview", "u1", "2024-03-03T09:00:00Z"),
    ("$pageview", "u4", "2024-03-01T12:00:00Z"),
    ("$pageview", "u2", "2024-03-02T12:00:00Z"),
    ("$pageview", "u2", "2024-03-03T10:00:00Z"),
    ("$pageview", "u3", "2024-03-03T15:00:00Z"),
    ("signup", "u1", "2024-03-01T10:30:00Z"),
    ("signup", "u2", "2024-03-02T13:00:00Z"),
    ("signup", "u3", "2024-03-03T16:00:00Z"),
    ("signup", "u4", "2024-03-04T09:00:00Z"),
    ("purchase", "u1", "2024-03-02T10:00:00Z"),
    ("purchase", "u3", "2024-03-03T16:10:00Z"),
]
PAGEVIEW = {"kind": "EventsNode", "event": "$pageview"}
SOURCES: dict[str, dict[str, Any]] = {
    "trend": {"kind": "TrendsQuery", "interval": "day", "dateRange": MARCH_1_3,
              "series": [{**PAGEVIEW, "math": "total"}, {**PAGEVIEW, "math": "dau"}]},
    "funnel": {"kind": "FunnelsQuery", "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-07"},
               "series": [{"kind": "EventsNode", "event": "signup"}, {"kind": "EventsNode", "event": "purchase"}],
               "funnelsFilter": {"funnelWindowInterval": 14, "funnelWindowIntervalUnit": "day"}},
    "retention": {"kind": "RetentionQuery", "dateRange": MARCH_1_3,
                  "retentionFilter": {"period": "Day", "totalIntervals": 3,
                                      "targetEntity": {"id": "$pageview", "type": "events"},
                                      "returningEntity": {"id": "$pageview", "type": "events"}}},
    "lifecycle": {"kind": "LifecycleQuery", "interval": "day", "dateRange": MARCH_1_3, "series": [PAGEVIEW]},
    "stickiness": {"kind": "StickinessQuery", "interval": "day", "dateRange": MARCH_1_3, "series": [PAGEVIEW]},
    "paths": {"kind": "PathsQuery", "dateRange": {"date_from": "2024-03-01", "date_to": "2024-03-07"},
              "pathsFilter": {"includeEventTypes": ["custom_event"]}},
}  # fmt: skip
NAMES = {"trend": "Daily pageviews", "funnel": "Signup to purchase", "retention": "Pageview retention",
         "lifecycle": "Pageview lifecycle", "stickiness": "Pageview stickiness", "paths": "Signup paths"}  # fmt: skip


def capture(project: Any, events: list[tuple[str, str, str]] = EVENTS) -> None:
    batch = [{"event": name, "timestamp": at, "properties": {"distinct_id": who}} for name, who, at in events]
    body = orjson.dumps({"api_key": project.team.api_token, "batch": batch})
    assert Client().post("/batch/", body, content_type="application/json").status_code == 200
    assert flush() == len(events)


@dataclass
class Board:
    dashboard: dict[str, Any]
    insights: dict[str, dict[str, Any]]
    text_tile: int


def build_board(project: Any) -> Board:
    """The dashboard "Growth" (stored dates 1–3 Mar) with the six insights, a text tile and three annotations."""
    api = project.client()
    base = f"/api/projects/{project.team.pk}"
    dashboard = api.post(f"{base}/dashboards/", {"name": "Growth", "filters": MARCH_1_3}, format="json").json()
    insights = {}
    for key, source in SOURCES.items():
        body = {"name": NAMES[key], "saved": True, "dashboards": [dashboard["id"]],
                "query": {"kind": "InsightVizNode", "source": source}}  # fmt: skip
        response = api.post(f"{base}/insights/", body, format="json")
        assert response.status_code == 201, response.content
        insights[key] = response.json()
    text = {"text": {"body": "Weekly growth notes"}, "layouts": {"sm": {"x": 0, "y": 99, "w": 12, "h": 2}}}
    patch = {"tiles": [text]}
    tiles = api.patch(f"{base}/dashboards/{dashboard['id']}/", patch, format="json").json()["tiles"]
    text_tile = next(t["id"] for t in tiles if t["text"])
    for annotation in [
        {"content": "v2 launched", "date_marker": "2024-03-02T12:00:00Z", "scope": "project"},
        {"content": "trend note", "date_marker": "2024-03-03T08:00:00Z", "scope": "dashboard_item",
         "dashboard_item": insights["trend"]["id"]},
        {"content": "lifecycle only", "date_marker": "2024-03-01T08:00:00Z", "scope": "dashboard_item",
         "dashboard_item": insights["lifecycle"]["id"]},
    ]:  # fmt: skip
        assert api.post(f"{base}/annotations/", annotation, format="json").status_code == 201
    return Board(dashboard, insights, text_tile)
