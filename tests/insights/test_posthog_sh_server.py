"""Acceptance 1: the calls of PostHog's REST helper script `posthog.sh` (`list-insights`, `get-insight <id>`,
`list-dashboards`, `get-dashboard <id>`, `list-annotations`, `create-annotation <text> <date>`) made with
`curl -sf`, `Authorization: Bearer` and `Content-Type: application/json` against a server started as the
README does (`manage.py serve`, the embedded default), answering with PostHog's field names."""

from __future__ import annotations

import gzip
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.server import free_port, kill, manage, server_env, start_server

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]

TV1 = [
    ("u1", "2024-01-07T09:00:00Z"), ("u1", "2024-01-07T15:00:00Z"), ("u1", "2024-01-09T10:00:00Z"),
    ("u2", "2024-01-07T23:59:59Z"), ("u2", "2024-01-08T00:00:00Z"), ("u3", "2024-01-09T23:30:00Z"),
    ("u3", "2024-01-10T00:30:00Z"), ("u4", "2024-01-06T23:59:00Z"),
]  # fmt: skip
TRENDS = {
    "kind": "InsightVizNode",
    "source": {
        "kind": "TrendsQuery",
        "interval": "day",
        "series": [{"kind": "EventsNode", "event": "$pageview", "math": "total"}],
        "dateRange": {"date_from": "2024-01-07", "date_to": "2024-01-09"},
    },
}


def curl(port: int, key: str, method: str, path: str, body: Any = None) -> Any:
    """What posthog.sh runs: fails (non-zero exit) on any HTTP error thanks to -f."""
    command = [
        "curl", "-sf", "-X", method, f"http://127.0.0.1:{port}{path}",
        "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json",
    ]  # fmt: skip
    if body is not None:
        command += ["-d", orjson.dumps(body).decode()]
    run = subprocess.run(command, capture_output=True, timeout=60)
    assert run.returncode == 0, f"curl {method} {path} exited {run.returncode}: {run.stdout[-500:]!r}"
    return orjson.loads(run.stdout)


def test_posthog_sh_commands_against_the_real_server(tmp_path: Path) -> None:
    port = free_port()
    # the default two web processes: the result computed by one is the cached read of either (one cache)
    env = server_env(tmp_path, port, INGEST_WORKER_IN_PROCESS="true")
    manage(env, "migrate", "--noinput", "-v", "0")
    keys = orjson.loads(manage(env, "bootstrap", "--json"))
    project, key = keys["project_id"], keys["personal_api_key"]
    server = start_server(env)
    try:
        batch = [{"event": "$pageview", "distinct_id": d, "timestamp": t} for d, t in TV1]
        body = gzip.compress(orjson.dumps({"api_key": keys["project_api_key"], "batch": batch}))
        request = [
            "curl",
            "-sf",
            "-X",
            "POST",
            f"http://127.0.0.1:{port}/batch/?compression=gzip",
            "--data-binary",
            "@-",
        ]
        assert subprocess.run(request, input=body, capture_output=True, timeout=60).returncode == 0

        base = f"/api/projects/{project}"
        board = curl(port, key, "POST", f"{base}/dashboards/", {"name": "Growth"})
        saved = {"name": "Pageviews", "query": TRENDS, "dashboards": [board["id"]]}
        insight = curl(port, key, "POST", f"{base}/insights/", saved)
        deadline = time.monotonic() + 60
        while (computed := curl(port, key, "GET", f"{base}/insights/{insight['id']}/?refresh=force_blocking"))[
            "result"
        ][0]["data"] != [3, 1, 2]:
            assert time.monotonic() < deadline, f"the events never arrived: {computed['result']}"
            time.sleep(0.5)

        listed = curl(port, key, "GET", f"{base}/insights/?limit=100")  # list-insights
        assert set(listed) == {"count", "next", "previous", "results"} and listed["count"] == 1
        assert {"id", "short_id", "name", "query", "result", "last_refresh", "dashboards"} <= set(listed["results"][0])
        for _ in range(6):  # whichever web process answers, the default (force_cache) read finds the result
            got = curl(port, key, "GET", f"{base}/insights/{insight['id']}/")  # get-insight
            assert (got["short_id"], got["result"][0]["data"], got["is_cached"]) == (
                insight["short_id"], [3, 1, 2], True,
            )  # fmt: skip
        assert got["dashboards"] == [board["id"]] and got["query"] == TRENDS

        dashboards = curl(port, key, "GET", f"{base}/dashboards/?limit=100")  # list-dashboards
        assert [d["name"] for d in dashboards["results"]] == ["Growth"] and "pinned" in dashboards["results"][0]
        detail = curl(port, key, "GET", f"{base}/dashboards/{board['id']}/")  # get-dashboard
        [tile] = detail["tiles"]
        assert tile["insight"]["id"] == insight["id"] and {"layouts", "color", "is_cached"} <= set(tile)
        assert {"filters", "persisted_filters", "is_shared", "created_by"} <= set(detail)

        note = {"content": "v2.3 deployed", "date_marker": "2024-01-08T12:00:00Z", "scope": "organization"}
        created = curl(port, key, "POST", f"{base}/annotations/", note)  # create-annotation
        assert (created["content"], created["scope"], created["date_marker"]) == (
            "v2.3 deployed", "organization", "2024-01-08T12:00:00Z",
        )  # fmt: skip
        annotations = curl(port, key, "GET", f"{base}/annotations/?limit=100")  # list-annotations
        assert [a["content"] for a in annotations["results"]] == ["v2.3 deployed"]
        assert {"id", "creation_type", "dashboard_item", "created_by", "created_at"} <= set(annotations["results"][0])
    finally:
        kill(server)
